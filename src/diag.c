/* diag.c - sock_diag requests and the careful receive loop; destroy notices. */
#include "config.h"
#include "diag.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>

#include "diag_priv.h"
#include "filter.h"
#include "util.h"

/* The kernel fills at most 32 KiB per batch; twice that leaves room. */
#define RECV_BUF     (64 * 1024)
#define RECV_BUF_MAX (1024 * 1024)
#define BC_MAX	     4096
/* A blocking receive gives up after this many empty timeouts: a dump never hangs the loop. */
#define RECV_TIMEOUT_S 1
#define RECV_TIMEOUTS  10
/* Destroy notices read per call, so that a storm cannot starve the other sources. */

struct diag {
	struct mnl_socket *nl;
	uint32_t portid, seq;
	uint8_t *buf;
	size_t buflen;
	struct diag_cookie_set set;
	/* One walk for both families: 0 not tried yet, 1 the kernel takes it, -1 it refused. */
	int one_walk;
	struct snapshot one; /* the answer to diag_sock_info() */
	/* The bytecode of the last filter seen; compiled once. */
	const struct filter *bc_for;
	bool bc_ready, bc_refused;
	size_t bc_len;
	uint8_t bc[BC_MAX];
};

struct diag_events {
	struct mnl_socket *nl;
	uint8_t *buf;
	size_t buflen;
	int64_t empty_at; /* mono just before the last read that found the queue empty */
};

static int open_socket(struct diag *d)
{
	struct timeval tv = {.tv_sec = RECV_TIMEOUT_S};
	int e;

	d->nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	if (!d->nl)
		return -errno;
	if (mnl_socket_bind(d->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		e = errno;
		mnl_socket_close(d->nl);
		d->nl = NULL;
		return -e;
	}
	setsockopt(mnl_socket_get_fd(d->nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	d->portid = mnl_socket_get_portid(d->nl);
	return 0;
}

/* A dump abandoned midway leaves the kernel busy on that socket: start afresh. */
static int reopen_socket(struct diag *d)
{
	if (d->nl)
		mnl_socket_close(d->nl);
	d->nl = NULL;
	return open_socket(d);
}

struct diag *diag_open(void)
{
	struct diag *d = xcalloc(1, sizeof(*d));
	int e = open_socket(d);

	if (e < 0) {
		free(d);
		errno = -e;
		return NULL;
	}
	d->seq = (uint32_t)mono_ns();
	d->buflen = RECV_BUF;
	d->buf = xmalloc(d->buflen);
	return d;
}

void diag_close(struct diag *d)
{
	if (!d)
		return;
	if (d->nl)
		mnl_socket_close(d->nl);
	diag_cookie_set_free(&d->set);
	snapshot_free(&d->one);
	free(d->buf);
	free(d);
}

static void prepare_bytecode(struct diag *d, const struct filter *f)
{
	if (d->bc_ready && d->bc_for == f)
		return;
	d->bc_for = f;
	d->bc_ready = true;
	d->bc_refused = false;
	d->bc_len = f ? diag_bc_compile(filter_root(f), d->bc, sizeof(d->bc)) : 0;
}

void diag_filter_changed(struct diag *d)
{
	if (d)
		d->bc_ready = false;
}

static int send_msg(struct diag *d, struct nlmsghdr *nlh)
{
	ssize_t n;

	if (d->bc_len && !d->bc_refused && (nlh->nlmsg_flags & NLM_F_DUMP))
		mnl_attr_put(nlh, INET_DIAG_REQ_BYTECODE, d->bc_len, d->bc);
	do
		n = mnl_socket_sendto(d->nl, nlh, nlh->nlmsg_len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)nlh->nlmsg_len ? 0 : -EIO;
}

/* A request for one family (SOCK_DIAG_BY_FAMILY); with dump false, for the one socket in id. */
static int send_request(struct diag *d, int family, uint32_t states, bool info, bool dump,
			const struct inet_diag_sockid *id)
{
	uint8_t
	    req[NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct inet_diag_req_v2)) + NLA_HDRLEN + BC_MAX];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
	struct inet_diag_req_v2 *r;

	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0);
	nlh->nlmsg_seq = ++d->seq;
	r = mnl_nlmsg_put_extra_header(nlh, sizeof(*r));
	r->sdiag_family = (uint8_t)family;
	r->sdiag_protocol = IPPROTO_TCP;
	r->idiag_states = states;
	r->idiag_ext = info ? 1 << (INET_DIAG_INFO - 1) : 0;
	if (id)
		r->id = *id;
	return send_msg(d, nlh);
}

/*
 * The old TCP request: its dump takes family AF_UNSPEC, so the kernel walks
 * its tables once for both families. The walk itself is most of a dump of
 * the rare states, so this halves the fast lane.
 */
static int send_request_both(struct diag *d, uint32_t states, bool info)
{
	uint8_t req[NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct inet_diag_req)) + NLA_HDRLEN + BC_MAX];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
	struct inet_diag_req *r;

	nlh->nlmsg_type = TCPDIAG_GETSOCK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++d->seq;
	r = mnl_nlmsg_put_extra_header(nlh, sizeof(*r));
	r->idiag_family = AF_UNSPEC;
	r->idiag_states = states;
	r->idiag_ext = info ? 1 << (INET_DIAG_INFO - 1) : 0;
	return send_msg(d, nlh);
}

/* One datagram from the kernel: > 0 its length, or -errno. Others' datagrams are dropped. */
static ssize_t recv_batch(struct diag *d)
{
	int timeouts = 0;

	for (;;) {
		struct sockaddr_nl sa;
		struct iovec iov = {.iov_base = d->buf, .iov_len = d->buflen};
		struct msghdr msg = {
		    .msg_name = &sa,
		    .msg_namelen = sizeof(sa),
		    .msg_iov = &iov,
		    .msg_iovlen = 1,
		};
		ssize_t n = recvmsg(mnl_socket_get_fd(d->nl), &msg, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (++timeouts < RECV_TIMEOUTS)
					continue;
				return -ETIMEDOUT;
			}
			return -errno;
		}
		if (n == 0)
			return -ECONNRESET;
		if (msg.msg_flags & MSG_TRUNC) {
			/* Lost the tail of a batch: grow, and the caller starts the dump again. */
			if (d->buflen < RECV_BUF_MAX) {
				d->buflen *= 2;
				d->buf = xrealloc(d->buf, d->buflen);
			}
			return -EMSGSIZE;
		}
		/* Only the kernel (port id 0) answers a dump. */
		if (msg.msg_namelen != sizeof(sa) || sa.nl_family != AF_NETLINK || sa.nl_pid != 0)
			continue;
		return n;
	}
}

/* Receive and parse until the dump is done; the request has been sent (r its result). */
static int recv_rows(struct diag *d, int r, struct snapshot *sn)
{
	/*
	 * The kernel fills the first batch as the request is sent, and each
	 * next one as the read of the one before ends: a row's timers are read
	 * then, not when the dump began. A dump of 100,000 TIME_WAITs takes
	 * tens of milliseconds, and a TIME_WAIT dated by its timer from the
	 * dump's start was that much early.
	 */
	int64_t filled = mono_ns();

	while (r == 0) {
		size_t first = sn->n;
		ssize_t n = recv_batch(d);
		int64_t next = mono_ns();

		if (n < 0)
			return (int)n;
		r = diag_parse_rows(d->buf, (size_t)n, d->seq, d->portid, sn);
		snapshot_timers_since(sn, first, filled - sn->mono);
		filled = next;
	}
	return r < 0 ? r : 0;
}

static int dump_start(struct diag *d, struct snapshot *sn, uint32_t states)
{
	snapshot_clear(sn);
	sn->states = states;
	sn->mono = mono_ns();
	sn->wall = wall_ns();
	return d->nl ? 0 : open_socket(d);
}

static int dump_once(struct diag *d, uint32_t states, struct snapshot *sn)
{
	int r = dump_start(d, sn, states);

	if (r == 0 && d->one_walk >= 0) {
		r = recv_rows(d, send_request_both(d, states, sn->with_info), sn);
		if (r == 0) {
			d->one_walk = 1;
			return 0;
		}
		reopen_socket(d);
		if (d->one_walk == 1 || r == -EMSGSIZE || r == -ETIMEDOUT)
			return r;
		/* Refused at the first try: this kernel wants a request per family. */
		d->one_walk = -1;
		r = dump_start(d, sn, states);
	}
	if (r == 0)
		r = recv_rows(d, send_request(d, AF_INET, states, sn->with_info, true, NULL), sn);
	if (r == 0)
		r = recv_rows(d, send_request(d, AF_INET6, states, sn->with_info, true, NULL), sn);
	if (r < 0)
		reopen_socket(d);
	return r;
}

int diag_sock_info(struct diag *d, const struct sock *s, struct sock_info *out)
{
	struct inet_diag_sockid id = {
	    .idiag_sport = htons(s->sport),
	    .idiag_dport = htons(s->dport),
	    .idiag_if = s->ifindex,
	    .idiag_cookie = {(uint32_t)s->cookie, (uint32_t)(s->cookie >> 32)},
	};
	size_t alen = s->family == AF_INET6 ? 16 : 4;
	int r;

	if (s->netns || !s->cookie || (s->family != AF_INET && s->family != AF_INET6))
		return -ENOENT;
	memcpy(id.idiag_src, s->src, alen);
	memcpy(id.idiag_dst, s->dst, alen);
	if (!d->nl && (r = open_socket(d)) < 0)
		return r;
	d->one.with_info = true;
	snapshot_clear(&d->one);
	r = send_request(d, s->family, ST_ALL_MASK, true, false, &id);
	/* No dump: the answer is one row or an error, and no NLMSG_DONE follows. */
	while (r == 0 && d->one.n == 0) {
		ssize_t n = recv_batch(d);

		if (n < 0) {
			r = (int)n;
			break;
		}
		r = diag_parse_rows(d->buf, (size_t)n, d->seq, d->portid, &d->one);
		if (r == 1 && d->one.n == 0)
			r = -ENOENT;
	}
	if (r < 0) {
		if (r != -ENOENT)
			reopen_socket(d);
		return r;
	}
	if (!d->one.v[0].has_info || d->one.v[0].cookie != s->cookie)
		return -ENOENT;
	*out = d->one.info[0];
	return 0;
}

int diag_destroy(struct diag *d, const struct sock *s)
{
	uint8_t req[NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct inet_diag_req_v2))];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
	struct inet_diag_req_v2 *r;
	size_t alen = s->family == AF_INET6 ? 16 : 4;
	ssize_t n;
	int e;

	/* Without the cookie the kernel could take a later socket that reused the 4-tuple. */
	if (!s->cookie || (s->family != AF_INET && s->family != AF_INET6))
		return -EINVAL;
	if (!d->nl && (e = open_socket(d)) < 0)
		return e;
	nlh->nlmsg_type = SOCK_DESTROY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++d->seq;
	r = mnl_nlmsg_put_extra_header(nlh, sizeof(*r));
	r->sdiag_family = s->family;
	r->sdiag_protocol = IPPROTO_TCP;
	r->idiag_states = ST_ALL_MASK;
	r->id.idiag_sport = htons(s->sport);
	r->id.idiag_dport = htons(s->dport);
	r->id.idiag_if = s->ifindex;
	r->id.idiag_cookie[0] = (uint32_t)s->cookie;
	r->id.idiag_cookie[1] = (uint32_t)(s->cookie >> 32);
	memcpy(r->id.idiag_src, s->src, alen);
	memcpy(r->id.idiag_dst, s->dst, alen);
	if ((e = send_msg(d, nlh)) < 0)
		return e;
	/* The answer is one NLMSG_ERROR: 0 is the ACK, else the kernel's refusal. */
	n = recv_batch(d);
	if (n < 0) {
		reopen_socket(d);
		return (int)n;
	}
	if (mnl_cb_run(d->buf, (size_t)n, d->seq, d->portid, NULL, NULL) < 0) {
		e = errno ? -errno : -EIO;
		reopen_socket(d);
		return e;
	}
	return 0;
}

/* "TCP: inuse 5 orphan 0 tw 2 alloc 9 mem 1": the figure after key on the line of proto. */
static size_t sockstat_field(const char *path, const char *proto, const char *key)
{
	char line[256];
	size_t v = 0, plen = strlen(proto);
	FILE *f = fopen(path, "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *at;

		if (strncmp(line, proto, plen) || line[plen] != ':')
			continue;
		at = strstr(line + plen, key);
		if (at && at[strlen(key)] == ' ')
			v = strtoul(at + strlen(key) + 1, NULL, 10);
		break;
	}
	fclose(f);
	return v;
}

size_t diag_count_hint_from(const char *sockstat, const char *sockstat6)
{
	/* inuse counts full sockets of each family, tw the TIME_WAIT ones of both. */
	return sockstat_field(sockstat, "TCP", " inuse") + sockstat_field(sockstat, "TCP", " tw") +
	       sockstat_field(sockstat6, "TCP6", " inuse");
}

size_t diag_count_hint(void)
{
	return diag_count_hint_from("/proc/net/sockstat", "/proc/net/sockstat6");
}

int diag_dump(struct diag *d, uint32_t states, const struct filter *f, struct snapshot *sn)
{
	int r;

	prepare_bytecode(d, f);
	r = dump_once(d, states, sn);
	if (r == -EMSGSIZE) {
		r = dump_once(d, states, sn);
	} else if (r == -EINVAL && d->bc_len && !d->bc_refused) {
		/* The kernel's audit refused our bytecode: filter in user space alone. */
		d->bc_refused = true;
		r = dump_once(d, states, sn);
	}
	if (r < 0) {
		sn->complete = false;
		return r;
	}
	diag_dedup(sn, &d->set);
	sn->complete = true;
	sn->unique = true;
	return 0;
}

struct diag_events *diag_events_open(void)
{
	static const int groups[] = {SKNLGRP_INET_TCP_DESTROY, SKNLGRP_INET6_TCP_DESTROY};
	struct diag_events *e = xcalloc(1, sizeof(*e));
	int fd, size = 32 << 20, err;

	e->nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!e->nl)
		goto fail;
	if (mnl_socket_bind(e->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	for (size_t i = 0; i < ARRAY_SIZE(groups); i++)
		if (mnl_socket_setsockopt(e->nl, NETLINK_ADD_MEMBERSHIP, (void *)&groups[i],
					  sizeof(groups[i])) < 0)
			goto fail;
	/*
	 * A busy server ends thousands of sockets a second, each notice near
	 * a kilobyte of queue, and a dump of every namespace keeps the loop
	 * away for a third of a second: 8 MiB overflowed with two namespaces
	 * at 11,000 connections a second. The queue takes memory only while
	 * full (root may exceed rmem_max).
	 */
	fd = mnl_socket_get_fd(e->nl);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	e->buflen = RECV_BUF;
	e->buf = xmalloc(e->buflen);
	return e;
fail:
	err = errno;
	if (e->nl)
		mnl_socket_close(e->nl);
	free(e);
	errno = err;
	return NULL;
}

int diag_events_fd(const struct diag_events *e)
{
	return mnl_socket_get_fd(e->nl);
}

ssize_t diag_events_recv(struct diag_events *e, const void **buf)
{
	for (;;) {
		struct sockaddr_nl sa;
		struct iovec iov = {.iov_base = e->buf, .iov_len = e->buflen};
		struct msghdr msg = {
		    .msg_name = &sa,
		    .msg_namelen = sizeof(sa),
		    .msg_iov = &iov,
		    .msg_iovlen = 1,
		};
		/*
		 * Taken before the read: the queue was empty at some moment after
		 * it. A time taken after an empty read is a bound for nothing, as
		 * the thread may wait tens of milliseconds for a core on the way
		 * back while notices arrive.
		 */
		int64_t before = mono_ns();
		ssize_t n = recvmsg(diag_events_fd(e), &msg, MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				e->empty_at = before;
				return -EAGAIN;
			}
			/* ENOBUFS: the queue overflowed; what is still queued is good. */
			return -errno;
		}
		if (msg.msg_flags & MSG_TRUNC) {
			if (e->buflen < RECV_BUF_MAX) {
				e->buflen *= 2;
				e->buf = xrealloc(e->buf, e->buflen);
			}
			return -ENOBUFS;
		}
		/* Only the kernel (port id 0) sends notices. */
		if (msg.msg_namelen != sizeof(sa) || sa.nl_pid != 0)
			continue;
		*buf = e->buf;
		return n;
	}
}

int64_t diag_events_empty_at(const struct diag_events *e)
{
	return e->empty_at;
}

void diag_events_close(struct diag_events *e)
{
	if (!e)
		return;
	mnl_socket_close(e->nl);
	free(e->buf);
	free(e);
}
