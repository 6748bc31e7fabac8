/* diag_parse.c - sock_diag replies to struct sock: every length checked before it is trusted. */
#include "config.h"
#include "diag.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>
#include <linux/tcp.h>

#include "diag_priv.h"
#include "util.h"

/* Errors a kernel can report are small negative numbers; anything else is noise. */
#define MAX_ERRNO 4095

static void copy_info(struct sock_info *o, const void *p, size_t len)
{
	struct tcp_info ti;
	size_t n = len < sizeof(ti) ? len : sizeof(ti);

	/* Another kernel's tcp_info may be shorter or longer than ours: zero only what it lacks. */
	memcpy(&ti, p, n);
	if (n < sizeof(ti))
		memset((uint8_t *)&ti + n, 0, sizeof(ti) - n);
	o->rtt_us = ti.tcpi_rtt;
	o->rttvar_us = ti.tcpi_rttvar;
	o->snd_cwnd = ti.tcpi_snd_cwnd;
	o->snd_mss = ti.tcpi_snd_mss;
	o->rcv_mss = ti.tcpi_rcv_mss;
	o->unacked = ti.tcpi_unacked;
	o->lost = ti.tcpi_lost;
	o->retrans = ti.tcpi_retrans;
	o->total_retrans = ti.tcpi_total_retrans;
	o->ca_state = ti.tcpi_ca_state;
	o->backoff = ti.tcpi_backoff;
	o->probes = ti.tcpi_probes;
	o->bytes_acked = ti.tcpi_bytes_acked;
	o->bytes_received = ti.tcpi_bytes_received;
	o->bytes_sent = ti.tcpi_bytes_sent;
	o->bytes_retrans = ti.tcpi_bytes_retrans;
	o->segs_out = ti.tcpi_segs_out;
	o->segs_in = ti.tcpi_segs_in;
	o->last_data_recv_ms = ti.tcpi_last_data_recv;
	o->last_data_sent_ms = ti.tcpi_last_data_sent;
	o->last_ack_recv_ms = ti.tcpi_last_ack_recv;
}

int diag_parse_msg(const void *payload, size_t len, struct sock *s, struct sock_info *info)
{
	struct inet_diag_msg m;
	const uint8_t *p = payload;
	size_t off;

	if (!payload || len < sizeof(m))
		return -1;
	memcpy(&m, p, sizeof(m)); /* the buffer need not be aligned for us */
	if (m.idiag_family != AF_INET && m.idiag_family != AF_INET6)
		return -1;

	memset(s, 0, sizeof(*s));
	s->cookie = (uint64_t)m.id.idiag_cookie[0] | (uint64_t)m.id.idiag_cookie[1] << 32;
	s->family = m.idiag_family;
	/* Kept as reported, even out of range: st_name() shows UNKNOWN(n). */
	s->state = m.idiag_state;
	s->timer = m.idiag_timer;
	s->retrans = m.idiag_retrans;
	s->sport = ntohs(m.id.idiag_sport);
	s->dport = ntohs(m.id.idiag_dport);
	memcpy(s->src, m.id.idiag_src, s->family == AF_INET ? 4 : 16);
	memcpy(s->dst, m.id.idiag_dst, s->family == AF_INET ? 4 : 16);
	s->ifindex = m.id.idiag_if;
	s->expires_ms = m.idiag_expires;
	s->rqueue = m.idiag_rqueue;
	s->wqueue = m.idiag_wqueue;
	s->uid = m.idiag_uid;
	s->inode = m.idiag_inode;

	/* Attributes: a bad length ends the walk; unknown types are passed over. */
	off = NLMSG_ALIGN(sizeof(m));
	while (off + sizeof(struct nlattr) <= len) {
		struct nlattr a;
		size_t alen;

		memcpy(&a, p + off, sizeof(a));
		alen = a.nla_len;
		if (alen < sizeof(a) || alen > len - off)
			break;
		if ((a.nla_type & NLA_TYPE_MASK) == INET_DIAG_INFO && info) {
			copy_info(info, p + off + sizeof(a), alen - sizeof(a));
			s->has_info = 1;
		}
		off += NLA_ALIGN(alen);
	}
	return 0;
}

/*
 * The next message header in buf at *off, or NULL at the end. A header that
 * does not fit, claims fewer bytes than itself, or runs past the buffer
 * makes the whole buffer suspect: *err is set and the walk stops.
 */
static const struct nlmsghdr *next_msg(const uint8_t *buf, size_t len, size_t *off, int *err,
				       struct nlmsghdr *h)
{
	size_t left = len - *off;
	const uint8_t *at = buf + *off;

	if (*off >= len)
		return NULL;
	if (left < sizeof(*h)) {
		*err = -EBADMSG;
		return NULL;
	}
	memcpy(h, at, sizeof(*h));
	if (h->nlmsg_len < sizeof(*h) || h->nlmsg_len > left) {
		*err = -EBADMSG;
		return NULL;
	}
	/* The last message of a buffer may lack its alignment padding. */
	*off += NLMSG_ALIGN(h->nlmsg_len) < left ? NLMSG_ALIGN(h->nlmsg_len) : left;
	return (const struct nlmsghdr *)at;
}

/* The error an NLMSG_ERROR carries; the dump fails whatever it says, unless it is an ACK. */
static int msg_error(const uint8_t *payload, size_t plen)
{
	int32_t e;

	if (plen < sizeof(e))
		return -EBADMSG;
	memcpy(&e, payload, sizeof(e));
	if (e == 0)
		return 0;
	if (e < 0 && e >= -MAX_ERRNO)
		return e;
	return -EPROTO;
}

/* NLMSG_DONE may carry the dump's own return code (a failed dump on newer kernels). */
static int msg_done(const uint8_t *payload, size_t plen)
{
	int32_t e;

	if (plen < sizeof(e))
		return 1;
	memcpy(&e, payload, sizeof(e));
	if (e < 0)
		return e >= -MAX_ERRNO ? e : -EPROTO;
	return 1;
}

int diag_parse_rows(const void *buf, size_t len, uint32_t seq, uint32_t portid, struct snapshot *sn)
{
	const uint8_t *b = buf;
	const uint8_t *m;
	struct nlmsghdr h;
	size_t off = 0;
	int err = 0;

	while ((m = (const uint8_t *)next_msg(b, len, &off, &err, &h))) {
		const uint8_t *payload = m + NLMSG_HDRLEN;
		size_t plen = h.nlmsg_len > NLMSG_HDRLEN ? h.nlmsg_len - NLMSG_HDRLEN : 0;
		int r;

		/* Another request's reply, or someone else's: not ours to read. */
		if (h.nlmsg_seq != seq || h.nlmsg_pid != portid)
			continue;
		switch (h.nlmsg_type) {
		case NLMSG_NOOP:
			break;
		case NLMSG_ERROR:
			r = msg_error(payload, plen);
			if (r < 0)
				return r;
			break;
		case NLMSG_DONE:
			return msg_done(payload, plen);
		case NLMSG_OVERRUN:
			return -EOVERFLOW;
		case SOCK_DIAG_BY_FAMILY:
		case TCPDIAG_GETSOCK: { /* the reply to the one-walk request of both families */
			/* diag_parse_msg() writes the whole row: no need to zero it first. */
			struct sock *s = snapshot_reserve(sn);
			struct sock_info *info = sn->with_info ? &sn->info[sn->n - 1] : NULL;

			/* A row too short or of a family we do not know: dropped alone. */
			if (diag_parse_msg(payload, plen, s, info) < 0)
				sn->n--;
			break;
		}
		default:
			break;
		}
	}
	return err;
}

int diag_parse_buffer(const void *buf, size_t len, uint32_t seq, uint32_t portid,
		      struct snapshot *sn)
{
	int r = diag_parse_rows(buf, len, seq, portid, sn);

	if (r == 1) {
		struct diag_cookie_set set = {0};

		diag_dedup(sn, &set);
		diag_cookie_set_free(&set);
	}
	return r;
}

int diag_parse_notices(const void *buf, size_t len, const struct notice_when *w, diag_notice_fn fn,
		       void *arg)
{
	const uint8_t *b = buf;
	const uint8_t *m;
	struct nlmsghdr h;
	size_t off = 0;
	int err = 0;

	while ((m = (const uint8_t *)next_msg(b, len, &off, &err, &h))) {
		struct sock_info info;
		struct sock s;

		if (h.nlmsg_type != SOCK_DIAG_BY_FAMILY)
			continue;
		if (diag_parse_msg(m + NLMSG_HDRLEN, h.nlmsg_len - NLMSG_HDRLEN, &s, &info) == 0)
			fn(arg, &s, s.has_info ? &info : NULL, w);
	}
	return err;
}

/*
 * A slot holds row index + 1 in its low `bits` bits (the set has 2^bits
 * slots, more than rows) and in the bits above, a fingerprint: other bits of
 * the cookie's hash. A probe past another cookie's slot then rarely reads
 * that row: a random read in 12 MB of rows, most of what deduplicating
 * 160,000 rows cost.
 */
static uint32_t fingerprint(uint64_t product, unsigned bits)
{
	return bits >= 32 ? 0 : (uint32_t)(product >> (32 + bits)) << bits;
}

void diag_dedup(struct snapshot *sn, struct diag_cookie_set *set)
{
	size_t want = 16, i, j;
	unsigned bits = 0;

	/* Load factor at most three quarters: probes stay short, and the set stays small. */
	while (want < sn->n + sn->n / 3)
		want *= 2;
	if (want > set->cap) {
		free(set->slot);
		set->slot = xreallocarray(NULL, want, sizeof(*set->slot));
		set->cap = want;
		populate(set->slot, set->cap * sizeof(*set->slot));
	}
	memset(set->slot, 0, set->cap * sizeof(*set->slot));
	while (((size_t)1 << bits) < set->cap)
		bits++;

	for (i = j = 0; i < sn->n; i++) {
		uint64_t c = sn->v[i].cookie, p = c * 0x9e3779b97f4a7c15ull;
		uint32_t mask = (uint32_t)(set->cap - 1), fp = fingerprint(p, bits);
		size_t h = (size_t)(p >> 32) & mask, at = 0;

		/* Cookie 0 means the kernel gave none: nothing to match on. */
		while (c && set->slot[h]) {
			uint32_t s = set->slot[h];

			if ((s & ~mask) == fp && sn->v[(s & mask) - 1].cookie == c) {
				at = s & mask;
				break;
			}
			h = (h + 1) & mask;
		}
		if (at) {
			/* The later row is the fresher: a dump walks on while sockets move. */
			sn->v[at - 1] = sn->v[i];
			if (sn->with_info && sn->info)
				sn->info[at - 1] = sn->info[i];
			continue;
		}
		if (c)
			set->slot[h] = fp | (uint32_t)(j + 1);
		if (i != j) {
			sn->v[j] = sn->v[i];
			if (sn->with_info && sn->info)
				sn->info[j] = sn->info[i];
		}
		j++;
	}
	sn->n = j;
}

void diag_cookie_set_free(struct diag_cookie_set *set)
{
	free(set->slot);
	set->slot = NULL;
	set->cap = 0;
}
