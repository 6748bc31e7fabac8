#include "config.h"
#include "order.h"

#include <stdint.h>
#include <stdlib.h>

#include "util.h"

/*
 * A binary min-heap by (time, arrival) of small keys, the events themselves
 * in slots beside it: a push and a release cost a log of what is held in
 * moves of a key, never a walk, and an event is copied in once and out once.
 * Under churn a poll interval holds a hundred thousand of them.
 */
struct key {
	int64_t mono;
	uint64_t seq;
	uint32_t slot;
};

struct order {
	struct key *h;
	size_t n, cap;
	struct track_event *ev; /* cap slots */
	uint32_t *free;		/* slots not in use, a stack */
	size_t nfree;
	uint64_t seq;
};

struct order *order_new(void)
{
	return xcalloc(1, sizeof(struct order));
}

void order_free(struct order *o)
{
	if (!o)
		return;
	free(o->h);
	free(o->ev);
	free(o->free);
	free(o);
}

static bool before(const struct key *a, const struct key *b)
{
	return a->mono < b->mono || (a->mono == b->mono && a->seq < b->seq);
}

static void grow(struct order *o)
{
	size_t cap = o->cap ? 2 * o->cap : 256;

	o->h = xreallocarray(o->h, cap, sizeof(*o->h));
	o->ev = xreallocarray(o->ev, cap, sizeof(*o->ev));
	o->free = xreallocarray(o->free, cap, sizeof(*o->free));
	/* The new slots, lowest on top. */
	for (size_t i = cap; i-- > o->cap;)
		o->free[o->nfree++] = (uint32_t)i;
	o->cap = cap;
}

void order_push(struct order *o, const struct track_event *ev)
{
	struct key x;
	size_t i;

	if (o->n == o->cap)
		grow(o);
	x = (struct key){ev->mono, o->seq++, o->free[--o->nfree]};
	o->ev[x.slot] = *ev;
	o->ev[x.slot].ts = NULL;
	/* Sift up: events mostly come in time order, so this rarely moves far. */
	for (i = o->n++; i > 0 && before(&x, &o->h[(i - 1) / 2]); i = (i - 1) / 2)
		o->h[i] = o->h[(i - 1) / 2];
	o->h[i] = x;
}

/* Take the first key off the heap; returns its slot. */
static uint32_t pop(struct order *o)
{
	struct key last = o->h[--o->n];
	uint32_t slot = o->h[0].slot;
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= o->n)
			break;
		if (c + 1 < o->n && before(&o->h[c + 1], &o->h[c]))
			c++;
		if (!before(&o->h[c], &last))
			break;
		o->h[i] = o->h[c];
		i = c;
	}
	if (o->n)
		o->h[i] = last;
	return slot;
}

size_t order_release(struct order *o, int64_t horizon, size_t max, track_event_fn fn, void *arg)
{
	size_t k = 0;

	while (o->n && o->h[0].mono <= horizon && k < max) {
		uint32_t slot = pop(o);
		struct track_event ev = o->ev[slot];

		/* Free before the call: a listener may push (nothing does yet). */
		o->free[o->nfree++] = slot;
		fn(arg, &ev);
		k++;
	}
	return k;
}

size_t order_flush(struct order *o, track_event_fn fn, void *arg)
{
	return order_release(o, INT64_MAX, SIZE_MAX, fn, arg);
}

int64_t order_oldest(const struct order *o)
{
	return o->n ? o->h[0].mono : INT64_MAX;
}

void order_reset(struct order *o)
{
	while (o->n)
		o->free[o->nfree++] = pop(o);
}

size_t order_held(const struct order *o)
{
	return o->n;
}
