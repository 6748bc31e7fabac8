/* unit_exact_bpf - the eBPF exact source's pure parts: records, namespace cookies, filter, order.
 */
#include "config.h"
#include "unit.h"

#include <linux/types.h>
#include <string.h>
#include <sys/socket.h>

#include "exact_bpf.h"
#include "exact_rec.h"
#include "netns.h"

static struct exact_rec rec4(uint64_t mono, uint64_t cookie, uint64_t netns, uint8_t from,
			     uint8_t to)
{
	struct exact_rec r;

	memset(&r, 0, sizeof(r));
	r.mono = mono;
	r.cookie = cookie;
	r.netns = netns;
	r.family = AF_INET;
	r.saddr[0] = 127, r.saddr[3] = 1;
	r.daddr[0] = 127, r.daddr[3] = 2;
	r.sport = 40000;
	r.dport = 80;
	r.oldstate = from;
	r.newstate = to;
	return r;
}

/* A record becomes a change with the kernel's time, cookie, tuple and states; netns is left to
 * label. */
static void test_decode(void)
{
	struct exact_rec r = rec4(123456789, 0xabcdef, 4097, ST_SYN_SENT, ST_ESTABLISHED);
	struct obs o;
	uint64_t ns = 0;

	CHECK(exact_bpf_decode(&r, sizeof(r), &o, &ns) == 1);
	CHECK(o.kind == OBS_CHANGE && o.mono == 123456789 && o.cookie == 0xabcdef);
	CHECK(ns == 4097 && o.key.netns == 0);
	CHECK(o.key.family == AF_INET && o.key.sport == 40000 && o.key.dport == 80);
	CHECK(o.key.src[0] == 127 && o.key.src[3] == 1 && o.key.dst[3] == 2);
	/* IPv4 leaves the rest of the key zero: the tracker compares whole keys. */
	CHECK(o.key.src[4] == 0 && o.key.dst[15] == 0);
	CHECK(o.from == ST_SYN_SENT && o.to == ST_ESTABLISHED);

	/* A connect()'s first record has no local port yet: given as the kernel gave it. */
	r = rec4(5, 7, 1, ST_CLOSE, ST_SYN_SENT);
	r.sport = 0;
	CHECK(exact_bpf_decode(&r, sizeof(r), &o, &ns) == 1 && o.key.sport == 0);

	r.family = AF_INET6;
	memset(r.saddr, 0, 16);
	r.saddr[15] = 1;
	r.daddr[0] = 0xfe;
	CHECK(exact_bpf_decode(&r, sizeof(r), &o, &ns) == 1);
	CHECK(o.key.family == AF_INET6 && o.key.src[15] == 1 && o.key.dst[0] == 0xfe);
}

/* What the kernel cannot have written is refused, not turned into a state. */
static void test_decode_bad(void)
{
	struct exact_rec r = rec4(1, 2, 3, ST_ESTABLISHED, ST_FIN_WAIT1);
	struct obs o;
	uint64_t ns;

	CHECK(exact_bpf_decode(&r, sizeof(r) - 1, &o, &ns) == -1);
	CHECK(exact_bpf_decode(NULL, sizeof(r), &o, &ns) == -1);
	r.family = AF_UNIX;
	CHECK(exact_bpf_decode(&r, sizeof(r), &o, &ns) == -1);
	r = rec4(1, 2, 3, ST_ESTABLISHED, ST_MAX);
	CHECK(exact_bpf_decode(&r, sizeof(r), &o, &ns) == -1);
	r = rec4(1, 2, 3, 0, ST_CLOSE);
	CHECK(exact_bpf_decode(&r, sizeof(r), &o, &ns) == -1);
	r = rec4(UINT64_MAX, 2, 3, ST_ESTABLISHED, ST_CLOSE);
	CHECK(exact_bpf_decode(&r, sizeof(r), &o, &ns) == -1);
}

/*
 * Cookie -> index: found at once, gone never (0 is no cookie), moved when a
 * namespace is found again under a newer index, and many namespaces fit.
 * Setting cookies does not make the table show labels.
 */
static void test_cookies(void)
{
	struct netns_tab *t = netns_tab_new();
	uint32_t i = 99, gen;

	CHECK(!netns_tab_find_cookie(t, 4097, &i) && i == 99);
	netns_tab_set_cookie(t, 0, 4097);
	CHECK(!netns_tab_active(t));
	CHECK(netns_tab_find_cookie(t, 4097, &i) && i == 0);
	CHECK(netns_tab_cookie(t, 0) == 4097 && netns_tab_cookie(t, 5) == 0);
	gen = netns_tab_cookie_gen(t);
	netns_tab_set_cookie(t, 3, 0);
	CHECK(netns_tab_cookie_gen(t) == gen && netns_tab_cookies(t) == 1);
	CHECK(!netns_tab_find_cookie(t, 0, &i));
	for (uint32_t k = 1; k < 1000; k++)
		netns_tab_set_cookie(t, k, 4097 + k);
	CHECK(netns_tab_cookies(t) == 1000);
	CHECK(netns_tab_find_cookie(t, 4097 + 777, &i) && i == 777);
	CHECK(netns_tab_find_cookie(t, 4097, &i) && i == 0);
	netns_tab_set_cookie(t, 1000, 4097 + 5);
	CHECK(netns_tab_find_cookie(t, 4097 + 5, &i) && i == 1000);
	CHECK(!netns_tab_find_cookie(t, 99999, &i));
	CHECK(!netns_tab_find_cookie(NULL, 4097, &i));
	netns_tab_free(t);
}

/*
 * The kernel filter: everything passes until our namespace's cookie is
 * known, then only the listed ones; with all, always everything. The map
 * gets each cookie once, in batches.
 */
static void test_watch(void)
{
	struct netns_tab *t = netns_tab_new();
	uint64_t add[2];
	uint32_t synced = 0, mode = 99;

	CHECK(exact_bpf_watch(t, false, &synced, add, 2, &mode) == 0 && mode == EXACT_WATCH_ALL);
	netns_tab_set_cookie(t, 0, 11);
	CHECK(exact_bpf_watch(t, false, &synced, add, 2, &mode) == 1 && add[0] == 11);
	CHECK(mode == EXACT_WATCH_LISTED && synced == 1);
	CHECK(exact_bpf_watch(t, false, &synced, add, 2, &mode) == 0 && mode == EXACT_WATCH_LISTED);

	netns_tab_set_cookie(t, 1, 12);
	netns_tab_set_cookie(t, 2, 13);
	netns_tab_set_cookie(t, 4, 15);
	CHECK(exact_bpf_watch(t, true, &synced, add, 2, &mode) == 2);
	CHECK(add[0] == 12 && add[1] == 13 && mode == EXACT_WATCH_ALL);
	/* Index 3 was never set: skipped, not sent as cookie 0. */
	CHECK(exact_bpf_watch(t, true, &synced, add, 2, &mode) == 1 && add[0] == 15);
	CHECK(synced == 5);
	netns_tab_free(t);
}

struct seen {
	struct obs v[16];
	size_t n;
};

static void collect(void *ctx, const struct obs *o)
{
	struct seen *s = ctx;
	if (s->n < 16)
		s->v[s->n++] = *o;
}

static void push(struct exact_bpf_queue *q, int64_t mono, uint64_t cookie, uint64_t netns,
		 uint8_t from, uint8_t to)
{
	struct exact_rec r = rec4((uint64_t)mono, cookie, netns, from, to);
	struct obs o;
	uint64_t ns;

	exact_bpf_decode(&r, sizeof(r), &o, &ns);
	exact_bpf_queue_push(q, &o, ns);
}

/*
 * In time order across sockets, one socket's changes in the order they came
 * even at the same time; a change stamped after the drain began waits; each
 * is labelled with its namespace's index.
 */
static void test_order(void)
{
	struct netns_tab *t = netns_tab_new();
	struct exact_bpf_queue q = {0};
	struct seen s = {.n = 0};

	netns_tab_set_cookie(t, 0, 100);
	netns_tab_set_cookie(t, 1, 200);
	push(&q, 30, 1, 100, ST_SYN_SENT, ST_ESTABLISHED);
	push(&q, 10, 2, 200, ST_CLOSE, ST_LISTEN);
	push(&q, 30, 1, 100, ST_ESTABLISHED, ST_FIN_WAIT1);
	push(&q, 50, 3, 100, ST_CLOSE, ST_SYN_SENT);
	exact_bpf_queue_release(&q, t, false, 40, 40, collect, &s);
	CHECK(s.n == 3);
	CHECK(s.v[0].cookie == 2 && s.v[0].key.netns == 1);
	CHECK(s.v[1].cookie == 1 && s.v[1].to == ST_ESTABLISHED && s.v[1].key.netns == 0);
	CHECK(s.v[2].cookie == 1 && s.v[2].to == ST_FIN_WAIT1);
	CHECK(q.npend == 1 && exact_bpf_queue_due(&q) == 50);
	exact_bpf_queue_release(&q, t, false, 60, 60, collect, &s);
	CHECK(s.n == 4 && s.v[3].cookie == 3 && q.npend == 0);
	CHECK(exact_bpf_queue_due(&q) == INT64_MAX);
	exact_bpf_queue_free(&q);
	netns_tab_free(t);
}

/*
 * A namespace the poller has not labelled yet: its changes wait, in order,
 * and go on before any newer change once it is labelled; never labelled,
 * they are dropped and counted after the hold. Without hold (one namespace
 * watched, ours known) another namespace's changes are not ours: counted apart.
 */
static void test_park(void)
{
	struct netns_tab *t = netns_tab_new();
	struct exact_bpf_queue q = {0};
	struct seen s = {.n = 0};
	const int64_t hold = EXACT_BPF_HOLD_NS;

	netns_tab_set_cookie(t, 0, 100);
	push(&q, 10, 7, 300, ST_CLOSE, ST_SYN_SENT);
	push(&q, 20, 7, 300, ST_SYN_SENT, ST_ESTABLISHED);
	push(&q, 25, 8, 100, ST_CLOSE, ST_LISTEN);
	exact_bpf_queue_release(&q, t, true, 30, 30, collect, &s);
	CHECK(s.n == 1 && s.v[0].cookie == 8 && q.npark == 2);
	CHECK(exact_bpf_queue_due(&q) == 10 + hold);
	/* Labelled now; a newer change of the same socket came meanwhile. */
	netns_tab_set_cookie(t, 1, 300);
	push(&q, 40, 7, 300, ST_ESTABLISHED, ST_FIN_WAIT1);
	exact_bpf_queue_release(&q, t, true, 50, 50, collect, &s);
	CHECK(s.n == 4 && q.npark == 0);
	CHECK(s.v[1].to == ST_SYN_SENT && s.v[2].to == ST_ESTABLISHED && s.v[3].to == ST_FIN_WAIT1);
	CHECK(s.v[1].key.netns == 1 && s.v[3].key.netns == 1);

	/* Never labelled: dropped after the hold, counted, in order of age. */
	push(&q, 100, 9, 400, ST_CLOSE, ST_LISTEN);
	push(&q, 100 + hold, 10, 400, ST_CLOSE, ST_LISTEN);
	exact_bpf_queue_release(&q, t, true, 200 + hold, 200 + hold, collect, &s);
	CHECK(q.npark == 2 && q.unlabelled == 0);
	exact_bpf_queue_release(&q, t, true, 101 + hold, 101 + hold, collect, &s);
	CHECK(q.npark == 1 && q.unlabelled == 1 && s.n == 4);
	exact_bpf_queue_release(&q, t, true, 101 + 2 * hold, 101 + 2 * hold, collect, &s);
	CHECK(q.npark == 0 && q.unlabelled == 2);

	/* Not holding: not ours, not a loss. */
	push(&q, 500, 11, 500, ST_CLOSE, ST_LISTEN);
	exact_bpf_queue_release(&q, t, false, 600, 600, collect, &s);
	CHECK(s.n == 4 && q.unwatched == 1 && q.unlabelled == 2 && q.npark == 0);
	exact_bpf_queue_free(&q);
	netns_tab_free(t);
}

/* Many parked changes keep their order through the park's growth and sliding. */
static void test_park_many(void)
{
	struct netns_tab *t = netns_tab_new();
	struct exact_bpf_queue q = {0};
	struct seen s = {.n = 0};
	bool ordered = true;
	int64_t last = -1;

	for (int round = 0; round < 10; round++) {
		for (int i = 0; i < 50; i++)
			push(&q, round * 100 + i, 1, 900, ST_ESTABLISHED, ST_ESTABLISHED);
		exact_bpf_queue_release(&q, t, true, round * 100 + 99, round * 100 + 99, collect,
					&s);
	}
	CHECK(q.npark == 500 && s.n == 0);
	for (size_t i = 0; i < q.npark; i++) {
		if (q.park[q.park_head + i].o.mono <= last)
			ordered = false;
		last = q.park[q.park_head + i].o.mono;
	}
	CHECK(ordered);
	exact_bpf_queue_free(&q);
	netns_tab_free(t);
}

/*
 * connect()'s first change has no local port yet: it waits for the same
 * socket's next change and takes its port, while other sockets' changes go
 * on; one whose next change never comes goes on portless after the wait.
 */
static void test_port(void)
{
	struct netns_tab *t = netns_tab_new();
	struct exact_bpf_queue q = {0};
	struct seen s = {.n = 0};
	struct exact_rec r = rec4(10, 7, 100, ST_CLOSE, ST_SYN_SENT);
	struct obs o;
	uint64_t ns;

	netns_tab_set_cookie(t, 0, 100);
	r.sport = 0;
	exact_bpf_decode(&r, sizeof(r), &o, &ns);
	exact_bpf_queue_push(&q, &o, ns);
	push(&q, 12, 8, 100, ST_CLOSE, ST_LISTEN);
	exact_bpf_queue_release(&q, t, false, 20, 20, collect, &s);
	CHECK(s.n == 1 && s.v[0].cookie == 8 && q.npend == 1);
	CHECK(exact_bpf_queue_due(&q) == 10 + EXACT_BPF_PORT_NS);
	push(&q, 30, 7, 100, ST_SYN_SENT, ST_ESTABLISHED);
	exact_bpf_queue_release(&q, t, false, 40, 40, collect, &s);
	CHECK(s.n == 3 && s.v[1].cookie == 7 && s.v[1].to == ST_SYN_SENT);
	CHECK(s.v[1].key.sport == 40000 && s.v[1].mono == 10 && s.v[2].to == ST_ESTABLISHED);

	/* Its next change never comes: portless, once the wait is up. */
	r.cookie = 9;
	exact_bpf_decode(&r, sizeof(r), &o, &ns);
	exact_bpf_queue_push(&q, &o, ns);
	exact_bpf_queue_release(&q, t, false, 50, 50, collect, &s);
	CHECK(s.n == 3 && q.npend == 1);
	exact_bpf_queue_release(&q, t, false, 60, 10 + EXACT_BPF_PORT_NS, collect, &s);
	CHECK(s.n == 4 && s.v[3].cookie == 9 && s.v[3].key.sport == 0 && q.npend == 0);
	exact_bpf_queue_free(&q);
	netns_tab_free(t);
}

int main(void)
{
	RUN(test_decode);
	RUN(test_decode_bad);
	RUN(test_cookies);
	RUN(test_watch);
	RUN(test_order);
	RUN(test_park);
	RUN(test_park_many);
	RUN(test_port);
	return unit_done();
}
