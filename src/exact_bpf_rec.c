#include "config.h"
#include "exact_bpf.h"

/*
 * The pure half of the eBPF exact source: decoding ring records, the
 * kernel filter's bookkeeping, and the queue that keeps changes in order
 * and waits for namespace labels. No kernel here: the unit tests drive it.
 */

#include <linux/types.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "exact_rec.h"
#include "netns.h"

int exact_bpf_decode(const void *rec, size_t len, struct obs *o, uint64_t *netns)
{
	struct exact_rec r;

	if (!rec || len < sizeof(r))
		return -1;
	memcpy(&r, rec, sizeof(r));
	if (r.family != AF_INET && r.family != AF_INET6)
		return -1;
	/* The program reports TCP only: anything else is not a state of ours. */
	if (r.oldstate == ST_UNKNOWN || r.oldstate >= ST_MAX || r.newstate == ST_UNKNOWN ||
	    r.newstate >= ST_MAX || r.mono > INT64_MAX)
		return -1;
	memset(o, 0, sizeof(*o));
	o->kind = OBS_CHANGE;
	o->mono = (int64_t)r.mono;
	o->cookie = r.cookie;
	o->key.family = (uint8_t)r.family;
	o->key.sport = r.sport;
	o->key.dport = r.dport;
	memcpy(o->key.src, r.saddr, r.family == AF_INET ? 4 : 16);
	memcpy(o->key.dst, r.daddr, r.family == AF_INET ? 4 : 16);
	o->from = r.oldstate;
	o->to = r.newstate;
	*netns = r.netns;
	return 1;
}

size_t exact_bpf_watch(const struct netns_tab *t, bool all, uint32_t *synced, uint64_t *add,
		       size_t max, uint32_t *mode)
{
	uint32_t n = netns_tab_cookies(t);
	size_t k = 0;

	/*
	 * Every namespace passes while we do not know our own (records are
	 * held until we do), and always with all: a namespace the poller has
	 * not found yet is still one we watch.
	 */
	*mode = all || !netns_tab_cookie(t, 0) ? EXACT_WATCH_ALL : EXACT_WATCH_LISTED;
	for (; *synced < n && k < max; ++*synced) {
		uint64_t c = netns_tab_cookie(t, *synced);
		if (c)
			add[k++] = c;
	}
	return k;
}

void exact_bpf_queue_push(struct exact_bpf_queue *q, const struct obs *o, uint64_t netns)
{
	struct exact_bpf_item *it;

	if (q->npend == q->pend_cap) {
		q->pend_cap = q->pend_cap ? 2 * q->pend_cap : 256;
		q->pend = xreallocarray(q->pend, q->pend_cap, sizeof(*q->pend));
	}
	it = &q->pend[q->npend++];
	it->o = *o;
	it->netns = netns;
	it->seq = q->seq++;
}

static int item_cmp(const void *a, const void *b)
{
	const struct exact_bpf_item *x = a, *y = b;

	if (x->o.mono != y->o.mono)
		return x->o.mono < y->o.mono ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void park(struct exact_bpf_queue *q, const struct exact_bpf_item *it)
{
	/* Slide the live part to the front before growing: the head moves on as items leave. */
	if (q->park_head + q->npark == q->park_cap) {
		if (q->park_head) {
			memmove(q->park, q->park + q->park_head, q->npark * sizeof(*q->park));
			q->park_head = 0;
		} else {
			q->park_cap = q->park_cap ? 2 * q->park_cap : 64;
			q->park = xreallocarray(q->park, q->park_cap, sizeof(*q->park));
		}
	}
	q->park[q->park_head + q->npark++] = *it;
}

static void hand_on(struct exact_bpf_item *it, uint32_t idx, exact_obs_fn fn, void *ctx)
{
	it->o.key.netns = idx;
	fn(ctx, &it->o);
}

/* Parked changes whose namespace now has a label go on; the rest keep their order. */
static void unpark(struct exact_bpf_queue *q, const struct netns_tab *t, exact_obs_fn fn, void *ctx)
{
	struct exact_bpf_item *v = q->park + q->park_head;
	size_t kept = 0;

	for (size_t i = 0; i < q->npark; i++) {
		uint32_t idx;
		if (netns_tab_find_cookie(t, v[i].netns, &idx))
			hand_on(&v[i], idx, fn, ctx);
		else
			v[kept++] = v[i];
	}
	q->npark = kept;
}

/* A connect()'s first change, reported before the kernel chose the local port. */
static bool portless_birth(const struct obs *o)
{
	return o->from == ST_CLOSE && o->to == ST_SYN_SENT && !o->key.sport;
}

/*
 * Give v[i], a portless birth, the local address and port of its socket's
 * next change among v[i + 1 .. n); false when none has come yet.
 */
static bool fill_port(struct exact_bpf_item *v, size_t i, size_t n)
{
	for (size_t j = i + 1; j < n; j++) {
		const struct obs *o = &v[j].o;

		if (o->cookie != v[i].o.cookie || !o->key.sport)
			continue;
		v[i].o.key.sport = o->key.sport;
		memcpy(v[i].o.key.src, o->key.src, sizeof(o->key.src));
		return true;
	}
	return false;
}

void exact_bpf_queue_release(struct exact_bpf_queue *q, const struct netns_tab *t, bool hold,
			     int64_t settled, int64_t now, exact_obs_fn fn, void *ctx)
{
	size_t kept = 0;

	/* Before anything newer: a parked change is older than a pending one of its socket. */
	if (q->npark && netns_tab_cookie_gen(t) != q->gen)
		unpark(q, t, fn, ctx);
	q->gen = netns_tab_cookie_gen(t);
	if (!hold) {
		q->unwatched += q->npark;
		q->npark = 0;
	}
	while (q->npark && q->park[q->park_head].o.mono < now - EXACT_BPF_HOLD_NS) {
		q->park_head++;
		q->npark--;
		q->unlabelled++;
	}
	if (!q->npark)
		q->park_head = 0;

	if (q->npend)
		qsort(q->pend, q->npend, sizeof(*q->pend), item_cmp);
	for (size_t i = 0; i < q->npend; i++) {
		struct exact_bpf_item *it = &q->pend[i];
		uint32_t idx;

		if (it->o.mono > settled ||
		    (portless_birth(&it->o) && !fill_port(q->pend, i, q->npend) &&
		     it->o.mono + EXACT_BPF_PORT_NS > now))
			q->pend[kept++] = *it;
		else if (netns_tab_find_cookie(t, it->netns, &idx))
			hand_on(it, idx, fn, ctx);
		else if (hold)
			park(q, it);
		else
			q->unwatched++;
	}
	q->npend = kept;
}

int64_t exact_bpf_queue_due(const struct exact_bpf_queue *q)
{
	int64_t due = INT64_MAX;

	for (size_t i = 0; i < q->npend; i++) {
		const struct obs *o = &q->pend[i].o;
		/* A birth waiting for its port is due when its wait is up, or with the next read.
		 */
		int64_t at = portless_birth(o) ? o->mono + EXACT_BPF_PORT_NS : o->mono;

		if (at < due)
			due = at;
	}
	if (q->npark && q->park[q->park_head].o.mono + EXACT_BPF_HOLD_NS < due)
		due = q->park[q->park_head].o.mono + EXACT_BPF_HOLD_NS;
	return due;
}

int64_t exact_bpf_queue_oldest(const struct exact_bpf_queue *q)
{
	int64_t t = INT64_MAX;

	for (size_t i = 0; i < q->npend; i++)
		if (q->pend[i].o.mono < t)
			t = q->pend[i].o.mono;
	/* Parked in time order: each release parks what it hands on, oldest first. */
	if (q->npark && q->park[q->park_head].o.mono < t)
		t = q->park[q->park_head].o.mono;
	return t;
}

void exact_bpf_queue_free(struct exact_bpf_queue *q)
{
	free(q->pend);
	free(q->park);
	memset(q, 0, sizeof(*q));
}
