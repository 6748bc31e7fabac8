/* bare.c - the floor: a sock_diag dump with libmnl that asks for nothing extra and parses nothing. */
#include "config.h"
#include "bench.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "sock.h"
#include "util.h"

/* As large as the kernel's largest dump batch (32 KiB) with room to spare, like diag.c. */
#define BUF (64 * 1024)

struct walk {
	size_t n;
	size_t *by_state; /* NULL: count only */
	struct inet_diag_msg *keep; /* when not NULL, every message header is kept here */
	size_t cap;
};

static int count_cb(const struct nlmsghdr *nlh, void *data)
{
	struct walk *w = data;

	w->n++;
	if (w->by_state && nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
		const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
		w->by_state[m->idiag_state & 15]++;
	}
	if (w->cap && nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
		if (w->n > w->cap) {
			w->cap *= 2;
			w->keep = xreallocarray(w->keep, w->cap, sizeof(*w->keep));
		}
		memcpy(&w->keep[w->n - 1], mnl_nlmsg_get_payload(nlh), sizeof(*w->keep));
	}
	return MNL_CB_OK;
}

static int dump_family(struct mnl_socket *nl, uint8_t family, uint32_t states, uint32_t seq,
		       uint8_t *buf, struct walk *w)
{
	uint32_t portid = mnl_socket_get_portid(nl);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	int ret;

	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	if (family == AF_UNSPEC) {
		/* Both families in one walk of the kernel's tables, as tcpdwell asks. */
		struct inet_diag_req *r = mnl_nlmsg_put_extra_header(nlh, sizeof(*r));

		nlh->nlmsg_type = TCPDIAG_GETSOCK;
		r->idiag_family = AF_UNSPEC;
		r->idiag_states = states;
	} else {
		struct inet_diag_req_v2 *r = mnl_nlmsg_put_extra_header(nlh, sizeof(*r));

		nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
		r->sdiag_family = family;
		r->sdiag_protocol = IPPROTO_TCP;
		r->idiag_states = states;
	}
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ssize_t n = mnl_socket_recvfrom(nl, buf, BUF);
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, count_cb, w);
	} while (ret > MNL_CB_STOP);
	return ret < 0 ? -errno : 0;
}

static struct mnl_socket *nl;
static uint8_t *buf;
static uint32_t seq;
static int one_walk; /* 0 untried, 1 the kernel takes it, -1 refused */

static int dump(uint32_t states, struct walk *w)
{
	static uint64_t netns_gen;
	int r;

	/* A socket belongs to the namespace it was made in: reopen after a move. */
	if (!nl || netns_gen != bench_netns_gen) {
		if (nl)
			mnl_socket_close(nl);
		nl = mnl_socket_open(NETLINK_SOCK_DIAG);
		if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
			r = -errno;
			if (nl)
				mnl_socket_close(nl);
			nl = NULL;
			return r;
		}
		netns_gen = bench_netns_gen;
	}
	if (!buf)
		buf = xmalloc(BUF);
	if (one_walk >= 0) {
		r = dump_family(nl, AF_UNSPEC, states, ++seq, buf, w);
		if (r == 0 || one_walk > 0) {
			one_walk = r == 0 ? 1 : one_walk;
			goto done;
		}
		one_walk = -1;
		mnl_socket_close(nl);
		nl = NULL;
		return dump(states, w);
	}
	r = dump_family(nl, AF_INET, states, ++seq, buf, w);
	if (r == 0)
		r = dump_family(nl, AF_INET6, states, ++seq, buf, w);
done:
	if (r < 0) {
		/* A dump abandoned midway leaves the socket busy. */
		mnl_socket_close(nl);
		nl = NULL;
	}
	return r;
}

int bare_dump(size_t *n)
{
	struct walk w = { 0 };
	int r = dump(ST_ALL_MASK, &w);

	*n = w.n;
	return r;
}

int bare_count(uint32_t states, size_t by_state[16])
{
	struct walk w = { .by_state = by_state };

	return dump(states, &w);
}

/* Refusals of a batch of destroy requests; they come back as NLMSG_ERROR only on failure. */
static int drain_errors(size_t *refused)
{
	for (;;) {
		ssize_t n = recv(mnl_socket_get_fd(nl), buf, BUF, MSG_DONTWAIT);
		int len = (int)n;

		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; mnl_nlmsg_ok(h, len);
		     h = mnl_nlmsg_next(h, &len))
			if (h->nlmsg_type == NLMSG_ERROR)
				(*refused)++;
	}
}

int bare_destroy(uint32_t states, size_t *destroyed)
{
	struct walk w = { .cap = 1024 };
	size_t refused = 0, off = 0;
	int r;

	w.keep = xmalloc(w.cap * sizeof(*w.keep));
	r = dump(states, &w);
	for (size_t i = 0; r == 0 && i <= w.n; i++) {
		/* Many requests to one send: the kernel takes them one after the other. */
		if (i == w.n || off + 256 > BUF) {
			if (off && mnl_socket_sendto(nl, buf, off) < 0)
				r = -errno;
			else
				r = drain_errors(&refused);
			off = 0;
			if (i == w.n)
				break;
		}
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + off);
		struct inet_diag_req_v2 *q;

		nlh->nlmsg_type = SOCK_DESTROY;
		nlh->nlmsg_flags = NLM_F_REQUEST;
		nlh->nlmsg_seq = ++seq;
		q = mnl_nlmsg_put_extra_header(nlh, sizeof(*q));
		q->sdiag_family = w.keep[i].idiag_family;
		q->sdiag_protocol = IPPROTO_TCP;
		q->idiag_states = ~0u;
		q->id = w.keep[i].id;
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	free(w.keep);
	*destroyed = w.n - refused;
	return r;
}
