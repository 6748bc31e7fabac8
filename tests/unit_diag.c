/*
 * unit_diag.c - the sock_diag parser on crafted netlink buffers, good and bad
 * (RELIABILITY.md items 1-8), and the filter-to-bytecode compiler run through
 * a model of the kernel's bytecode interpreter and audit.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>
#include <linux/tcp.h>

#include "diag.h"
#include "diag_priv.h"
#include "filter.h"
#include "sock.h"
#include "util.h"
#include "unit.h"

#define SEQ 4242
#define PORTID 777

/* A netlink buffer under construction. */
struct nb {
	uint8_t buf[65536];
	size_t len;
};

static void nb_raw(struct nb *b, const void *p, size_t n)
{
	if (n)
		memcpy(b->buf + b->len, p, n);
	b->len += n;
}

/* Append a message with a correct header; returns its offset. */
static size_t nb_msg(struct nb *b, uint16_t type, uint32_t seq, uint32_t pid, const void *payload,
		     size_t plen)
{
	struct nlmsghdr h = { .nlmsg_len = (uint32_t)(NLMSG_HDRLEN + plen), .nlmsg_type = type,
			      .nlmsg_flags = NLM_F_MULTI, .nlmsg_seq = seq, .nlmsg_pid = pid };
	size_t at = b->len;

	nb_raw(b, &h, sizeof(h));
	nb_raw(b, payload, plen);
	while (b->len % NLMSG_ALIGNTO)
		b->buf[b->len++] = 0;
	return at;
}

static void nb_done(struct nb *b, const int32_t *err)
{
	nb_msg(b, NLMSG_DONE, SEQ, PORTID, err, err ? sizeof(*err) : 0);
}

/* A SOCK_DIAG_BY_FAMILY payload being built: the message, then attributes. */
struct row {
	uint8_t p[4096];
	size_t len;
};

static struct inet_diag_msg *row_start(struct row *r, uint8_t family, uint8_t state,
				       uint64_t cookie, uint16_t sport, uint16_t dport)
{
	struct inet_diag_msg *m = (struct inet_diag_msg *)r->p;

	memset(r, 0, sizeof(*r));
	m->idiag_family = family;
	m->idiag_state = state;
	m->idiag_timer = TM_KEEPALIVE;
	m->idiag_retrans = 3;
	m->id.idiag_sport = htons(sport);
	m->id.idiag_dport = htons(dport);
	m->id.idiag_cookie[0] = (uint32_t)cookie;
	m->id.idiag_cookie[1] = (uint32_t)(cookie >> 32);
	m->id.idiag_if = 2;
	m->idiag_expires = 1500;
	m->idiag_rqueue = 11;
	m->idiag_wqueue = 22;
	m->idiag_uid = 1000;
	m->idiag_inode = 98765;
	if (family == AF_INET) {
		m->id.idiag_src[0] = htonl(0x7f000001);
		m->id.idiag_dst[0] = htonl(0x0a000002);
	} else {
		m->id.idiag_src[3] = htonl(1);
		m->id.idiag_dst[0] = htonl(0x20010db8);
		m->id.idiag_dst[3] = htonl(2);
	}
	r->len = sizeof(*m);
	return m;
}

static void row_attr(struct row *r, uint16_t type, const void *p, size_t n)
{
	struct nlattr a = { .nla_len = (uint16_t)(NLA_HDRLEN + n), .nla_type = type };

	memcpy(r->p + r->len, &a, sizeof(a));
	if (n)
		memcpy(r->p + r->len + NLA_HDRLEN, p, n);
	r->len += NLA_ALIGN(NLA_HDRLEN + n);
}

static void nb_row(struct nb *b, const struct row *r)
{
	nb_msg(b, SOCK_DIAG_BY_FAMILY, SEQ, PORTID, r->p, r->len);
}

static void nb_simple_row(struct nb *b, uint64_t cookie, uint8_t state)
{
	struct row r;

	row_start(&r, AF_INET, state, cookie, 1000 + (uint16_t)cookie, 80);
	nb_row(b, &r);
}

static int parse(const struct nb *b, struct snapshot *sn)
{
	snapshot_clear(sn);
	return diag_parse_buffer(b->buf, b->len, SEQ, PORTID, sn);
}

/* A good dump: every field lands where it belongs, in host byte order. */
static void test_good_rows(void)
{
	struct nb b = { .len = 0 };
	struct snapshot sn;
	struct tcp_info ti;
	struct row r;

	snapshot_init(&sn);
	sn.with_info = true;
	memset(&ti, 0, sizeof(ti));
	ti.tcpi_rtt = 1234;
	ti.tcpi_rttvar = 56;
	ti.tcpi_snd_cwnd = 10;
	ti.tcpi_total_retrans = 7;
	ti.tcpi_ca_state = 4;
	ti.tcpi_bytes_acked = 1ull << 40;
	ti.tcpi_bytes_retrans = 99;
	ti.tcpi_last_data_recv = 321;

	row_start(&r, AF_INET, ST_ESTABLISHED, 0x1122334455667788ull, 40000, 443);
	row_attr(&r, INET_DIAG_INFO, &ti, sizeof(ti));
	nb_row(&b, &r);
	row_start(&r, AF_INET6, ST_LISTEN, 5, 22, 0);
	nb_row(&b, &r);
	nb_done(&b, NULL);

	CHECK(parse(&b, &sn) == 1);
	CHECK(sn.n == 2);
	if (sn.n == 2) {
		const struct sock *s = &sn.v[0], *t = &sn.v[1];
		static const uint8_t lo4[4] = { 127, 0, 0, 1 }, dst4[4] = { 10, 0, 0, 2 };
		static const uint8_t lo6[16] = { [15] = 1 };

		CHECK(s->cookie == 0x1122334455667788ull);
		CHECK(s->family == AF_INET && s->state == ST_ESTABLISHED);
		CHECK(s->sport == 40000 && s->dport == 443);
		CHECK(!memcmp(s->src, lo4, 4) && !memcmp(s->dst, dst4, 4));
		CHECK(s->timer == TM_KEEPALIVE && s->retrans == 3 && s->expires_ms == 1500);
		CHECK(s->rqueue == 11 && s->wqueue == 22 && s->uid == 1000);
		CHECK(s->inode == 98765 && s->ifindex == 2);
		const struct sock_info *in = snapshot_info(&sn, 0);
		CHECK(s->has_info && in);
		CHECK(in && in->rtt_us == 1234 && in->rttvar_us == 56);
		CHECK(in && in->snd_cwnd == 10 && in->total_retrans == 7);
		CHECK(in && in->ca_state == 4 && in->bytes_acked == 1ull << 40);
		CHECK(in && in->bytes_retrans == 99 && in->last_data_recv_ms == 321);

		CHECK(t->family == AF_INET6 && t->state == ST_LISTEN && t->cookie == 5);
		CHECK(t->sport == 22 && !memcmp(t->src, lo6, 16));
		CHECK(t->dst[0] == 0x20 && t->dst[1] == 0x01 && t->dst[15] == 2);
		CHECK(!t->has_info && !snapshot_info(&sn, 1));
	}

	/* A dump that did not ask for tcp_info keeps none, even when the kernel sends it. */
	sn.with_info = false;
	CHECK(parse(&b, &sn) == 1);
	CHECK(sn.n == 2 && !sn.v[0].has_info && !snapshot_info(&sn, 0));
	sn.with_info = true;

	/* Without NLMSG_DONE more is to come. */
	b.len = 0;
	nb_simple_row(&b, 1, ST_ESTABLISHED);
	CHECK(parse(&b, &sn) == 0);
	CHECK(sn.n == 1);
	snapshot_free(&sn);
}

/* Item 1: nlmsg_len 0, < 16, or past the end stops the buffer and fails the dump. */
static void test_bad_header_length(void)
{
	static const uint32_t lens[] = { 0, 1, 15 };
	struct snapshot sn;
	struct nb b;
	size_t at;

	snapshot_init(&sn);
	for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
		b.len = 0;
		nb_simple_row(&b, 1, ST_ESTABLISHED);
		at = nb_msg(&b, SOCK_DIAG_BY_FAMILY, SEQ, PORTID, "0123456789abcdef", 16);
		memcpy(b.buf + at, &lens[i], sizeof(lens[i]));
		nb_simple_row(&b, 2, ST_ESTABLISHED);
		nb_done(&b, NULL);
		CHECK(parse(&b, &sn) == -EBADMSG);
		/* Nothing after the bad header was trusted. */
		CHECK(sn.n == 1);
	}

	/* A length past the end of the buffer. */
	b.len = 0;
	nb_simple_row(&b, 1, ST_ESTABLISHED);
	at = nb_msg(&b, SOCK_DIAG_BY_FAMILY, SEQ, PORTID, "0123456789abcdef", 16);
	{
		uint32_t big = (uint32_t)(b.len - at + 4);

		memcpy(b.buf + at, &big, sizeof(big));
	}
	CHECK(parse(&b, &sn) == -EBADMSG);
	CHECK(sn.n == 1);

	/* A header cut short at the end of the buffer. */
	b.len = 0;
	nb_simple_row(&b, 1, ST_ESTABLISHED);
	nb_raw(&b, "\x20\0\0\0\x14\0", 6);
	CHECK(parse(&b, &sn) == -EBADMSG);

	/* A 4 GiB claim must not wrap anything. */
	b.len = 0;
	at = nb_msg(&b, NLMSG_DONE, SEQ, PORTID, NULL, 0);
	memset(b.buf + at, 0xff, 4);
	CHECK(parse(&b, &sn) == -EBADMSG);
	CHECK(sn.n == 0);

	/* An empty buffer is simply nothing yet. */
	CHECK(diag_parse_buffer(b.buf, 0, SEQ, PORTID, &sn) == 0);
	snapshot_free(&sn);
}

/* Item 2: a payload shorter than inet_diag_msg loses that row only. */
static void test_short_payload(void)
{
	struct snapshot sn;
	struct nb b = { .len = 0 };
	struct row r;

	snapshot_init(&sn);
	nb_simple_row(&b, 1, ST_ESTABLISHED);
	row_start(&r, AF_INET, ST_ESTABLISHED, 2, 1, 2);
	nb_msg(&b, SOCK_DIAG_BY_FAMILY, SEQ, PORTID, r.p, sizeof(struct inet_diag_msg) - 1);
	nb_msg(&b, SOCK_DIAG_BY_FAMILY, SEQ, PORTID, NULL, 0);
	nb_simple_row(&b, 3, ST_TIME_WAIT);
	nb_done(&b, NULL);
	CHECK(parse(&b, &sn) == 1);
	CHECK(sn.n == 2);
	if (sn.n == 2)
		CHECK(sn.v[0].cookie == 1 && sn.v[1].cookie == 3);

	CHECK(diag_parse_msg(r.p, sizeof(struct inet_diag_msg) - 1, &sn.v[0], NULL) == -1);
	CHECK(diag_parse_msg(NULL, 0, &sn.v[0], NULL) == -1);
	snapshot_free(&sn);
}

/* Item 3: short, overlong and unknown attributes are passed over safely. */
static void test_bad_attributes(void)
{
	struct tcp_info ti;
	struct sock_info in;
	struct sock s;
	struct row r;
	struct nlattr a;

	memset(&ti, 0, sizeof(ti));
	ti.tcpi_rtt = 777;

	/* Unknown types first, then the real one: still found. */
	row_start(&r, AF_INET, ST_ESTABLISHED, 1, 1, 2);
	row_attr(&r, 200, "xyz", 3);
	row_attr(&r, INET_DIAG_SHUTDOWN, "\x01", 1);
	row_attr(&r, INET_DIAG_INFO, &ti, sizeof(ti));
	CHECK(diag_parse_msg(r.p, r.len, &s, &in) == 0);
	CHECK(s.has_info && in.rtt_us == 777);

	/* An attribute claiming less than its own header ends the walk. */
	row_start(&r, AF_INET, ST_ESTABLISHED, 1, 1, 2);
	a = (struct nlattr){ .nla_len = 2, .nla_type = INET_DIAG_INFO };
	memcpy(r.p + r.len, &a, sizeof(a));
	r.len += sizeof(a);
	row_attr(&r, INET_DIAG_INFO, &ti, sizeof(ti));
	CHECK(diag_parse_msg(r.p, r.len, &s, &in) == 0);
	CHECK(!s.has_info);

	/* An attribute running past the message end is not read. */
	row_start(&r, AF_INET, ST_ESTABLISHED, 1, 1, 2);
	row_attr(&r, INET_DIAG_INFO, &ti, sizeof(ti));
	CHECK(diag_parse_msg(r.p, r.len - 8, &s, &in) == 0);
	CHECK(!s.has_info);

	/* A few stray bytes after the message, too few for an attribute header. */
	row_start(&r, AF_INET, ST_ESTABLISHED, 1, 1, 2);
	CHECK(diag_parse_msg(r.p, r.len + 3, &s, &in) == 0);
	CHECK(s.cookie == 1 && !s.has_info);

	/* The same bad attribute inside a whole buffer: the row is kept. */
	{
		struct snapshot sn;
		struct nb b = { .len = 0 };

		snapshot_init(&sn);
		row_start(&r, AF_INET, ST_ESTABLISHED, 9, 1, 2);
		a = (struct nlattr){ .nla_len = 0xffff, .nla_type = INET_DIAG_INFO };
		memcpy(r.p + r.len, &a, sizeof(a));
		r.len += sizeof(a);
		nb_row(&b, &r);
		nb_done(&b, NULL);
		CHECK(parse(&b, &sn) == 1);
		CHECK(sn.n == 1 && sn.v[0].cookie == 9 && !sn.v[0].has_info);
		snapshot_free(&sn);
	}
}

/* Item 4: tcp_info shorter or longer than ours: min copied into a zeroed struct. */
static void test_info_sizes(void)
{
	uint8_t big[sizeof(struct tcp_info) + 64];
	struct tcp_info ti;
	struct sock_info in;
	struct sock s;
	struct row r;

	memset(&ti, 0, sizeof(ti));
	ti.tcpi_ca_state = 2;
	ti.tcpi_snd_mss = 1448;
	ti.tcpi_rtt = 999;
	ti.tcpi_bytes_sent = 55;

	/* 20 bytes reach tcpi_snd_mss (offset 16) but not tcpi_rtt. */
	row_start(&r, AF_INET, ST_ESTABLISHED, 1, 1, 2);
	row_attr(&r, INET_DIAG_INFO, &ti, 20);
	CHECK(diag_parse_msg(r.p, r.len, &s, &in) == 0);
	CHECK(s.has_info && in.ca_state == 2 && in.snd_mss == 1448);
	CHECK(in.rtt_us == 0 && in.bytes_sent == 0);

	/* An empty one. */
	row_start(&r, AF_INET, ST_ESTABLISHED, 1, 1, 2);
	row_attr(&r, INET_DIAG_INFO, NULL, 0);
	CHECK(diag_parse_msg(r.p, r.len, &s, &in) == 0);
	CHECK(s.has_info && in.ca_state == 0);

	/* A newer kernel's, longer: our part read, the rest ignored. */
	memset(big, 0xee, sizeof(big));
	memcpy(big, &ti, sizeof(ti));
	row_start(&r, AF_INET, ST_ESTABLISHED, 1, 1, 2);
	row_attr(&r, INET_DIAG_INFO, big, sizeof(big));
	CHECK(diag_parse_msg(r.p, r.len, &s, &in) == 0);
	CHECK(s.has_info && in.rtt_us == 999 && in.bytes_sent == 55);
}

/* Item 5: a state out of range is kept as a number; an unknown family is skipped. */
static void test_state_family(void)
{
	struct snapshot sn;
	struct nb b = { .len = 0 };
	struct row r;

	snapshot_init(&sn);
	row_start(&r, AF_INET, 200, 1, 1, 2);
	nb_row(&b, &r);
	row_start(&r, AF_UNIX, ST_ESTABLISHED, 2, 1, 2);
	nb_row(&b, &r);
	row_start(&r, 255, ST_ESTABLISHED, 3, 1, 2);
	nb_row(&b, &r);
	row_start(&r, AF_INET6, ST_MAX, 4, 1, 2);
	nb_row(&b, &r);
	nb_done(&b, NULL);
	CHECK(parse(&b, &sn) == 1);
	CHECK(sn.n == 2);
	if (sn.n == 2) {
		CHECK(sn.v[0].state == 200 && sn.v[1].state == ST_MAX);
		CHECK_STR(st_name(sn.v[0].state), "UNKNOWN(200)");
		CHECK_STR(st_name(sn.v[1].state), "UNKNOWN(13)");
	}
	snapshot_free(&sn);
}

static int done_with(int32_t e)
{
	struct snapshot sn;
	struct nb b = { .len = 0 };
	int r;

	snapshot_init(&sn);
	nb_simple_row(&b, 1, ST_ESTABLISHED);
	nb_done(&b, &e);
	r = parse(&b, &sn);
	snapshot_free(&sn);
	return r;
}

static int error_with(const void *payload, size_t len, size_t *rows)
{
	struct snapshot sn;
	struct nb b = { .len = 0 };
	int r;

	snapshot_init(&sn);
	nb_simple_row(&b, 1, ST_ESTABLISHED);
	nb_msg(&b, NLMSG_ERROR, SEQ, PORTID, payload, len);
	nb_simple_row(&b, 2, ST_ESTABLISHED);
	nb_done(&b, NULL);
	r = parse(&b, &sn);
	*rows = sn.n;
	snapshot_free(&sn);
	return r;
}

/* Item 6: NLMSG_ERROR, short or odd, and an error in NLMSG_DONE fail the dump. */
static void test_errors(void)
{
	struct nlmsgerr e;
	size_t rows;

	memset(&e, 0, sizeof(e));
	e.error = -EPERM;
	CHECK(error_with(&e, sizeof(e), &rows) == -EPERM);
	/* The kernel may send only the error number (NLM_F_CAPPED and friends). */
	e.error = -ENOMEM;
	CHECK(error_with(&e, sizeof(e.error), &rows) == -ENOMEM);
	CHECK(error_with(&e, 2, &rows) == -EBADMSG);
	CHECK(error_with(NULL, 0, &rows) == -EBADMSG);
	e.error = 5;
	CHECK(error_with(&e, sizeof(e), &rows) == -EPROTO);
	e.error = -100000;
	CHECK(error_with(&e, sizeof(e), &rows) == -EPROTO);
	e.error = INT32_MIN;
	CHECK(error_with(&e, sizeof(e), &rows) == -EPROTO);
	/* An ACK (error 0) is not a failure: the dump goes on to its end. */
	e.error = 0;
	CHECK(error_with(&e, sizeof(e), &rows) == 1);
	CHECK(rows == 2);

	CHECK(done_with(-EINTR) == -EINTR);
	CHECK(done_with(-ENOBUFS) == -ENOBUFS);
	CHECK(done_with(INT32_MIN) == -EPROTO);
	CHECK(done_with(0) == 1);
	CHECK(done_with(3) == 1);

	/* NLMSG_OVERRUN: data was lost. */
	{
		struct snapshot sn;
		struct nb b = { .len = 0 };

		snapshot_init(&sn);
		nb_msg(&b, NLMSG_OVERRUN, SEQ, PORTID, NULL, 0);
		CHECK(parse(&b, &sn) == -EOVERFLOW);
		snapshot_free(&sn);
	}
}

/* Item 7: replies for another sequence or port id are ignored, errors and DONE included. */
static void test_foreign_replies(void)
{
	struct snapshot sn;
	struct nb b = { .len = 0 };
	struct nlmsgerr e = { .error = -EPERM };
	struct row r;

	snapshot_init(&sn);
	row_start(&r, AF_INET, ST_ESTABLISHED, 1, 1, 2);
	nb_msg(&b, SOCK_DIAG_BY_FAMILY, SEQ + 1, PORTID, r.p, r.len);
	nb_msg(&b, SOCK_DIAG_BY_FAMILY, SEQ, PORTID + 1, r.p, r.len);
	nb_msg(&b, NLMSG_ERROR, SEQ - 1, PORTID, &e, sizeof(e));
	nb_msg(&b, NLMSG_DONE, SEQ, 0, NULL, 0);
	nb_simple_row(&b, 7, ST_SYN_SENT);
	nb_msg(&b, 999, SEQ, PORTID, "junk", 4);
	CHECK(parse(&b, &sn) == 0);
	CHECK(sn.n == 1 && sn.v[0].cookie == 7);
	snapshot_free(&sn);
}

/* Item 8: the same cookie twice in one dump is kept once, the later row winning. */
static void test_duplicates(void)
{
	struct snapshot sn;
	struct nb b = { .len = 0 };

	snapshot_init(&sn);
	nb_simple_row(&b, 10, ST_FIN_WAIT2);
	nb_simple_row(&b, 11, ST_ESTABLISHED);
	nb_simple_row(&b, 10, ST_TIME_WAIT);
	nb_simple_row(&b, 12, ST_LISTEN);
	nb_simple_row(&b, 11, ST_CLOSE_WAIT);
	nb_done(&b, NULL);
	CHECK(parse(&b, &sn) == 1);
	CHECK(sn.n == 3);
	if (sn.n == 3) {
		CHECK(sn.v[0].cookie == 10 && sn.v[0].state == ST_TIME_WAIT);
		CHECK(sn.v[1].cookie == 11 && sn.v[1].state == ST_CLOSE_WAIT);
		CHECK(sn.v[2].cookie == 12);
	}

	/* Across buffers of one dump: deduplicated when the dump is done. */
	snapshot_clear(&sn);
	b.len = 0;
	nb_simple_row(&b, 20, ST_ESTABLISHED);
	nb_simple_row(&b, 21, ST_ESTABLISHED);
	CHECK(diag_parse_buffer(b.buf, b.len, SEQ, PORTID, &sn) == 0);
	b.len = 0;
	nb_simple_row(&b, 20, ST_FIN_WAIT1);
	nb_done(&b, NULL);
	CHECK(diag_parse_buffer(b.buf, b.len, SEQ, PORTID, &sn) == 1);
	CHECK(sn.n == 2 && sn.v[0].state == ST_FIN_WAIT1);
	snapshot_free(&sn);
}

/*
 * The one-walk request's replies carry its own message type; their rows and
 * tcp_info are read alike, and deduplication keeps each row's info with it.
 */
static void test_one_walk_rows(void)
{
	struct nb b = { .len = 0 };
	struct snapshot sn;
	struct tcp_info ti;
	struct row r;

	snapshot_init(&sn);
	sn.with_info = true;
	memset(&ti, 0, sizeof(ti));
	for (int i = 0; i < 3; i++) {
		ti.tcpi_rtt = 100 + (uint32_t)i;
		/* Cookie 7 twice: the second row, with rtt 102, is the fresher. */
		row_start(&r, i == 1 ? AF_INET6 : AF_INET, ST_ESTABLISHED, i == 1 ? 8 : 7, 5, 6);
		row_attr(&r, INET_DIAG_INFO, &ti, sizeof(ti));
		nb_msg(&b, TCPDIAG_GETSOCK, SEQ, PORTID, r.p, r.len);
	}
	row_start(&r, AF_INET, ST_TIME_WAIT, 9, 5, 6);
	nb_msg(&b, TCPDIAG_GETSOCK, SEQ, PORTID, r.p, r.len);
	nb_done(&b, NULL);
	CHECK(parse(&b, &sn) == 1);
	CHECK(sn.n == 3);
	if (sn.n == 3) {
		const struct sock_info *a = snapshot_info(&sn, 0), *c = snapshot_info(&sn, 1);

		CHECK(sn.v[0].cookie == 7 && a && a->rtt_us == 102);
		CHECK(sn.v[1].cookie == 8 && sn.v[1].family == AF_INET6 && c && c->rtt_us == 101);
		CHECK(sn.v[2].cookie == 9 && !snapshot_info(&sn, 2));
	}
	snapshot_free(&sn);
}

/* Deduplication of a large dump through the reused set: every cookie once, none lost. */
static void test_dedup_large(void)
{
	struct diag_cookie_set set = { 0 };
	struct snapshot sn;
	size_t n = 200000, i;
	bool ok = true;

	snapshot_init(&sn);
	for (int round = 0; round < 2; round++) {
		snapshot_clear(&sn);
		/* Cookies 1..n, then every third again: n/3 duplicates. */
		for (i = 0; i < n; i++)
			snapshot_push(&sn)->cookie = (uint64_t)i + 1 + ((uint64_t)round << 40);
		for (i = 0; i < n; i += 3) {
			struct sock *s = snapshot_push(&sn);

			s->cookie = (uint64_t)i + 1 + ((uint64_t)round << 40);
			s->state = ST_CLOSING;
		}
		diag_dedup(&sn, &set);
		CHECK(sn.n == n);
		for (i = 0; i < sn.n && ok; i++)
			ok = sn.v[i].cookie == (uint64_t)i + 1 + ((uint64_t)round << 40) &&
			     (sn.v[i].state == ST_CLOSING) == (i % 3 == 0);
		CHECK(ok);
	}
	/* Cookie 0 means none: such rows are never merged. */
	snapshot_clear(&sn);
	snapshot_push(&sn);
	snapshot_push(&sn);
	diag_dedup(&sn, &set);
	CHECK(sn.n == 2);
	diag_cookie_set_free(&set);
	snapshot_free(&sn);
}

static void count_notice(void *arg, const struct sock *s, const struct sock_info *info,
			 const struct notice_when *w)
{
	(void)w;
	struct snapshot *sn = arg;

	*snapshot_push(sn) = *s;
	CHECK(!info == !s->has_info);
}

/* Destroy notices come with seq 0 from the kernel; a malformed tail is reported. */
static void test_notices(void)
{
	struct snapshot sn;
	struct nb b = { .len = 0 };
	struct row r;

	snapshot_init(&sn);
	row_start(&r, AF_INET6, ST_CLOSE, 33, 5000, 80);
	nb_msg(&b, SOCK_DIAG_BY_FAMILY, 0, 0, r.p, r.len);
	row_start(&r, AF_INET, ST_CLOSE, 34, 5001, 80);
	nb_msg(&b, SOCK_DIAG_BY_FAMILY, 0, 0, r.p, sizeof(struct inet_diag_msg) - 4);
	nb_msg(&b, SOCK_DIAG_BY_FAMILY, 0, 0, r.p, r.len);
	CHECK(diag_parse_notices(b.buf, b.len, &(struct notice_when){0}, count_notice, &sn) == 0);
	CHECK(sn.n == 2 && sn.v[0].cookie == 33 && sn.v[1].cookie == 34);
	CHECK(sn.n == 2 && sn.v[0].state == ST_CLOSE && sn.v[0].sport == 5000);
	nb_raw(&b, "\x08\0\0\0", 4);
	snapshot_clear(&sn);
	CHECK(diag_parse_notices(b.buf, b.len, &(struct notice_when){0}, count_notice, &sn) == -EBADMSG);
	CHECK(sn.n == 2);
	snapshot_free(&sn);
}

/*
 * A model of the kernel's bytecode audit (net/ipv4/inet_diag.c): known ops,
 * forward jumps to op boundaries or to the end + 4, operands in bounds.
 */
static bool lands_on_op(const uint8_t *bc, int len, int cc)
{
	while (len >= 0) {
		struct inet_diag_bc_op op;

		if (cc > len)
			return false;
		if (cc == len)
			return true;
		memcpy(&op, bc, sizeof(op));
		if (op.yes < 4 || op.yes & 3)
			return false;
		len -= op.yes;
		bc += op.yes;
	}
	return false;
}

static bool audit(const uint8_t *bc, int total)
{
	const uint8_t *p = bc;
	int len = total;

	while (len > 0) {
		struct inet_diag_bc_op op;
		int min = 4;

		if (len < 4)
			return false;
		memcpy(&op, p, sizeof(op));
		switch (op.code) {
		case INET_DIAG_BC_S_COND:
		case INET_DIAG_BC_D_COND: {
			struct inet_diag_hostcond hc;

			min += sizeof(hc);
			if (len < min)
				return false;
			memcpy(&hc, p + 4, sizeof(hc));
			if (hc.family != AF_UNSPEC && hc.family != AF_INET && hc.family != AF_INET6)
				return false;
			min += hc.family == AF_INET ? 4 : hc.family == AF_INET6 ? 16 : 0;
			if (len < min || hc.prefix_len > 8 * (min - 12))
				return false;
			break;
		}
		case INET_DIAG_BC_S_EQ:
		case INET_DIAG_BC_S_GE:
		case INET_DIAG_BC_S_LE:
		case INET_DIAG_BC_D_EQ:
		case INET_DIAG_BC_D_GE:
		case INET_DIAG_BC_D_LE:
			min = 8;
			if (len < min)
				return false;
			break;
		case INET_DIAG_BC_JMP:
		case INET_DIAG_BC_NOP:
			break;
		default:
			return false;
		}
		if (op.code != INET_DIAG_BC_NOP) {
			if (op.no < min || op.no > len + 4 || op.no & 3)
				return false;
			if (op.no < len && !lands_on_op(bc, total, len - op.no))
				return false;
		}
		if (op.yes < min || op.yes > len + 4 || op.yes & 3)
			return false;
		p += op.yes;
		len -= op.yes;
	}
	return len == 0;
}

static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	for (unsigned i = 0; i < bits; i++)
		if ((a[i / 8] ^ b[i / 8]) & (0x80 >> (i % 8)))
			return false;
	return true;
}

/* A model of the kernel's interpreter: accept when the program ends exactly at its end. */
static bool bc_run(const uint8_t *bc, int len, const struct sock *s)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	while (len > 0) {
		struct inet_diag_bc_op op, arg;
		struct inet_diag_hostcond hc;
		bool yes = true, src;
		const uint8_t *addr;

		memcpy(&op, bc, sizeof(op));
		memcpy(&arg, bc + 4, sizeof(arg));
		switch (op.code) {
		case INET_DIAG_BC_NOP:
			break;
		case INET_DIAG_BC_JMP:
			yes = false;
			break;
		case INET_DIAG_BC_S_EQ:
			yes = s->sport == arg.no;
			break;
		case INET_DIAG_BC_S_GE:
			yes = s->sport >= arg.no;
			break;
		case INET_DIAG_BC_S_LE:
			yes = s->sport <= arg.no;
			break;
		case INET_DIAG_BC_D_EQ:
			yes = s->dport == arg.no;
			break;
		case INET_DIAG_BC_D_GE:
			yes = s->dport >= arg.no;
			break;
		case INET_DIAG_BC_D_LE:
			yes = s->dport <= arg.no;
			break;
		case INET_DIAG_BC_S_COND:
		case INET_DIAG_BC_D_COND:
			memcpy(&hc, bc + 4, sizeof(hc));
			src = op.code == INET_DIAG_BC_S_COND;
			addr = src ? s->src : s->dst;
			if (hc.port != -1 && hc.port != (src ? s->sport : s->dport)) {
				yes = false;
				break;
			}
			if (hc.family != AF_UNSPEC && hc.family != s->family) {
				yes = s->family == AF_INET6 && hc.family == AF_INET &&
				      !memcmp(addr, mapped, 12) &&
				      prefix_match(addr + 12, bc + 12, hc.prefix_len);
				break;
			}
			yes = hc.prefix_len == 0 || prefix_match(addr, bc + 12, hc.prefix_len);
			break;
		default:
			return false;
		}
		/* The audit forbids steps of zero; a broken program must not hang the test. */
		if ((yes ? op.yes : op.no) == 0)
			return false;
		if (yes) {
			len -= op.yes;
			bc += op.yes;
		} else {
			len -= op.no;
			bc += op.no;
		}
	}
	return len == 0;
}

/* The reference meaning of a tree (filter.c's, written out again independently). */
static bool ref_match(const struct filter_node *n, const struct sock *s)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	unsigned v;

	switch (n->op) {
	case FOP_AND:
		return ref_match(n->a, s) && ref_match(n->b, s);
	case FOP_OR:
		return ref_match(n->a, s) || ref_match(n->b, s);
	case FOP_NOT:
		return !ref_match(n->a, s);
	case FOP_TRUE:
		return true;
	case FOP_NETNS:
		/* A label, never compiled: the generated trees have none. */
		return false;
	case FOP_STATE:
		return n->u.states & ST_MASK(s->state);
	case FOP_SPORT:
	case FOP_DPORT:
		v = n->op == FOP_SPORT ? s->sport : s->dport;
		switch (n->cmp) {
		case FCMP_EQ:
			return v == n->u.port;
		case FCMP_NE:
			return v != n->u.port;
		case FCMP_LT:
			return v < n->u.port;
		case FCMP_LE:
			return v <= n->u.port;
		case FCMP_GT:
			return v > n->u.port;
		case FCMP_GE:
			return v >= n->u.port;
		}
		return false;
	case FOP_SRC:
	case FOP_DST: {
		const uint8_t *addr = n->op == FOP_SRC ? s->src : s->dst;

		v = n->op == FOP_SRC ? s->sport : s->dport;
		if (n->u.net.port >= 0 && v != (unsigned)n->u.net.port)
			return false;
		if (!n->u.net.family)
			return true;
		if (n->u.net.family == s->family)
			return prefix_match(addr, n->u.net.addr, n->u.net.prefix);
		return n->u.net.family == AF_INET && s->family == AF_INET6 &&
		       !memcmp(addr, mapped, 12) &&
		       prefix_match(addr + 12, n->u.net.addr, n->u.net.prefix);
	}
	}
	return false;
}

static struct filter_node pool[4096];
static size_t pool_n;

static struct filter_node *mk(enum filter_op op)
{
	struct filter_node *n = &pool[pool_n++ % ARRAY_SIZE(pool)];

	memset(n, 0, sizeof(*n));
	n->op = op;
	return n;
}

static struct filter_node *mk_port(enum filter_op op, enum filter_cmp cmp, uint16_t port)
{
	struct filter_node *n = mk(op);

	n->cmp = cmp;
	n->u.port = port;
	return n;
}

static struct filter_node *mk2(enum filter_op op, const struct filter_node *a,
			       const struct filter_node *b)
{
	struct filter_node *n = mk(op);

	n->a = a;
	n->b = b;
	return n;
}

static struct filter_node *mk_net4(enum filter_op op, uint32_t addr, uint8_t prefix, int32_t port)
{
	struct filter_node *n = mk(op);
	uint32_t be = htonl(addr);

	n->u.net.family = AF_INET;
	n->u.net.prefix = prefix;
	n->u.net.port = port;
	memcpy(n->u.net.addr, &be, 4);
	return n;
}

static size_t compile(const struct filter_node *n, uint8_t *bc)
{
	return diag_bc_compile(n, bc, 4096);
}

/* The exact bytes for simple trees, and nothing sent where nothing narrows. */
static void test_bc_shapes(void)
{
	uint8_t bc[4096];
	struct inet_diag_bc_op op;
	struct inet_diag_hostcond hc;
	struct filter_node *st = mk(FOP_STATE);
	size_t n;

	st->u.states = ST_MASK(ST_FIN_WAIT1);

	/* sport = :80 -> S_EQ, yes to the next op, no past the end; the port in the next op. */
	n = compile(mk_port(FOP_SPORT, FCMP_EQ, 80), bc);
	CHECK(n == 8);
	memcpy(&op, bc, 4);
	CHECK(op.code == INET_DIAG_BC_S_EQ && op.yes == 8 && op.no == 12);
	memcpy(&op, bc + 4, 4);
	CHECK(op.no == 80);

	/* dport != :22 -> D_EQ then a jump that turns true into false. */
	n = compile(mk_port(FOP_DPORT, FCMP_NE, 22), bc);
	CHECK(n == 12);
	memcpy(&op, bc + 8, 4);
	CHECK(op.code == INET_DIAG_BC_JMP && op.yes == 4 && op.no == 8);

	/* sport < :1024 -> S_LE 1023. */
	n = compile(mk_port(FOP_SPORT, FCMP_LT, 1024), bc);
	memcpy(&op, bc, 4);
	CHECK(n == 8 && op.code == INET_DIAG_BC_S_LE);
	memcpy(&op, bc + 4, 4);
	CHECK(op.no == 1023);

	/* dst 10.0.0.0/8 -> D_COND with its hostcond and 4 address bytes. */
	n = compile(mk_net4(FOP_DST, 0x0a000000, 8, -1), bc);
	CHECK(n == 4 + sizeof(hc) + 4);
	memcpy(&op, bc, 4);
	memcpy(&hc, bc + 4, sizeof(hc));
	CHECK(op.code == INET_DIAG_BC_D_COND && op.yes == n && op.no == n + 4);
	CHECK(hc.family == AF_INET && hc.prefix_len == 8 && hc.port == -1);
	CHECK(bc[12] == 10);

	/* States are not bytecode: alone, nothing to send; under and, dropped. */
	CHECK(compile(st, bc) == 0);
	CHECK(compile(mk2(FOP_NOT, st, NULL), bc) == 0);
	CHECK(compile(mk2(FOP_AND, st, mk_port(FOP_SPORT, FCMP_EQ, 80)), bc) == 8);
	/* state or sport = 80 may match any port: nothing to send. */
	CHECK(compile(mk2(FOP_OR, st, mk_port(FOP_SPORT, FCMP_EQ, 80)), bc) == 0);
	/* not (state and sport = 80) = not state or sport != 80: any port again. */
	CHECK(compile(mk2(FOP_NOT, mk2(FOP_AND, st, mk_port(FOP_SPORT, FCMP_EQ, 80)), NULL), bc) ==
	      0);
	/* not (state or sport = 80) = not state and sport != 80: the port part is kept. */
	CHECK(compile(mk2(FOP_NOT, mk2(FOP_OR, st, mk_port(FOP_SPORT, FCMP_EQ, 80)), NULL), bc) ==
	      12);
	/* Nothing can match: one jump that rejects all. */
	n = compile(mk_port(FOP_SPORT, FCMP_LT, 0), bc);
	memcpy(&op, bc, 4);
	CHECK(n == 4 && op.code == INET_DIAG_BC_JMP && op.no == 8);
	CHECK(compile(mk(FOP_TRUE), bc) == 0);
	CHECK(compile(NULL, bc) == 0);

	/* Too little room: nothing rather than a cut program. */
	CHECK(diag_bc_compile(mk_net4(FOP_DST, 0x0a000000, 8, -1), bc, 10) == 0);
	/* An impossible prefix is left to user space. */
	CHECK(compile(mk_net4(FOP_DST, 0x0a000000, 40, -1), bc) == 0);
}

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

static const uint16_t ports[] = { 0, 1, 22, 79, 80, 81, 443, 65534, 65535 };

static void rnd_addr(uint8_t family, uint8_t *a)
{
	memset(a, 0, 16);
	if (family == AF_INET) {
		uint32_t v = htonl(rnd() % 2 ? 0x0a000000 | (rnd() & 0x3ffff) : 0x7f000001);

		memcpy(a, &v, 4);
	} else if (rnd() % 2) {
		a[10] = a[11] = 0xff;
		a[12] = 10;
		a[13] = rnd() % 4;
		a[15] = 1;
	} else {
		a[0] = 0x20;
		a[1] = 0x01;
		a[15] = rnd() % 4;
	}
}

static const struct filter_node *rnd_tree(int depth, bool *exact)
{
	struct filter_node *n;
	unsigned k = depth > 0 ? rnd() % 10 : 4 + rnd() % 6;

	switch (k) {
	case 0:
	case 1:
		return mk2(FOP_AND, rnd_tree(depth - 1, exact), rnd_tree(depth - 1, exact));
	case 2:
	case 3:
		return mk2(FOP_OR, rnd_tree(depth - 1, exact), rnd_tree(depth - 1, exact));
	case 4:
		return mk2(FOP_NOT, rnd_tree(depth - 1, exact), NULL);
	case 5:
		*exact = false;
		n = mk(FOP_STATE);
		n->u.states = ST_MASK(1 + rnd() % 12);
		return n;
	case 6:
	case 7:
		return mk_port(rnd() % 2 ? FOP_SPORT : FOP_DPORT, rnd() % 6,
			       ports[rnd() % ARRAY_SIZE(ports)]);
	default:
		n = mk(rnd() % 2 ? FOP_SRC : FOP_DST);
		n->u.net.port = rnd() % 3 ? -1 : ports[rnd() % ARRAY_SIZE(ports)];
		switch (rnd() % 3) {
		case 0:
			n->u.net.family = 0;
			break;
		case 1:
			n->u.net.family = AF_INET;
			rnd_addr(AF_INET, n->u.net.addr);
			n->u.net.prefix = rnd() % 3 ? 8 + rnd() % 25 : 0;
			break;
		default:
			n->u.net.family = AF_INET6;
			rnd_addr(AF_INET6, n->u.net.addr);
			n->u.net.prefix = rnd() % 3 ? 96 + rnd() % 33 : rnd() % 97;
			break;
		}
		return n;
	}
}

/*
 * Random trees against random sockets: the program passes the audit, never
 * rejects a socket the tree matches, and matches exactly where the tree has
 * nothing but ports and addresses.
 */
static void test_bc_random(void)
{
	uint8_t bc[4096];
	int bad_audit = 0, lost = 0, inexact = 0, sent = 0;

	for (int t = 0; t < 3000; t++) {
		bool exact = true;
		const struct filter_node *tree;
		size_t n;

		pool_n = 0;
		tree = rnd_tree(1 + t % 5, &exact);
		n = compile(tree, bc);
		if (n) {
			sent++;
			if (!audit(bc, (int)n)) {
				bad_audit++;
				continue;
			}
		}
		for (int i = 0; i < 60; i++) {
			struct sock s;
			bool want, got;

			memset(&s, 0, sizeof(s));
			s.family = rnd() % 2 ? AF_INET : AF_INET6;
			s.state = 1 + rnd() % 12;
			s.sport = ports[rnd() % ARRAY_SIZE(ports)];
			s.dport = ports[rnd() % ARRAY_SIZE(ports)];
			rnd_addr(s.family, s.src);
			rnd_addr(s.family, s.dst);
			want = ref_match(tree, &s);
			got = n ? bc_run(bc, (int)n, &s) : true;
			if (want && !got)
				lost++;
			if (exact && want != got)
				inexact++;
		}
	}
	CHECK(sent > 1000);
	CHECK(bad_audit == 0);
	CHECK(lost == 0);
	CHECK(inexact == 0);
	if (bad_audit || lost || inexact)
		fprintf(stderr, "bytecode: %d refused, %d lost, %d inexact\n", bad_audit, lost,
			inexact);
}

/* A deep tree does not recurse without bound, and still never loses a match. */
static void test_bc_deep(void)
{
	static uint8_t bc[65536];
	const struct filter_node *t = mk_port(FOP_SPORT, FCMP_EQ, 80);
	struct sock s = { .family = AF_INET, .sport = 80, .dport = 9 };
	size_t n;

	pool_n = 0;
	for (int i = 0; i < 1000; i++)
		t = mk2(FOP_NOT, mk2(FOP_NOT, t, NULL), NULL);
	n = diag_bc_compile(t, bc, sizeof(bc));
	CHECK(!n || (audit(bc, (int)n) && bc_run(bc, (int)n, &s)));
}

static char *write_tmp(const char *text)
{
	static char paths[2][64];
	static int k;
	char *path = paths[k++ % 2];
	int fd;

	snprintf(path, sizeof(paths[0]), "%s/unit_diag.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	fd = mkstemp(path);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	return path;
}

/* The size of a first dump, guessed from the kernel's counters: both families and TIME_WAIT. */
static void test_count_hint(void)
{
	char *v4 = write_tmp("sockets: used 300\n"
			     "TCP: inuse 120 orphan 3 tw 45 alloc 130 mem 9\n"
			     "UDP: inuse 7 mem 1\n");
	char *v6 = write_tmp("TCP6: inuse 11\nUDP6: inuse 2\n");

	CHECK(diag_count_hint_from(v4, v6) == 120 + 45 + 11);
	unlink(v6);
	CHECK(diag_count_hint_from(v4, v6) == 120 + 45); /* no IPv6 */
	unlink(v4);
	CHECK(diag_count_hint_from(v4, v6) == 0);
	v4 = write_tmp("TCPX: inuse 99\nTCP: orphan 1 tw 2\n");
	CHECK(diag_count_hint_from(v4, "/nonexistent") == 2); /* no inuse: tw alone */
	unlink(v4);
}

int main(void)
{
	RUN(test_good_rows);
	RUN(test_bad_header_length);
	RUN(test_short_payload);
	RUN(test_bad_attributes);
	RUN(test_info_sizes);
	RUN(test_state_family);
	RUN(test_errors);
	RUN(test_foreign_replies);
	RUN(test_duplicates);
	RUN(test_dedup_large);
	RUN(test_one_walk_rows);
	RUN(test_notices);
	RUN(test_bc_shapes);
	RUN(test_bc_random);
	RUN(test_bc_deep);
	RUN(test_count_hint);
	return unit_done();
}
