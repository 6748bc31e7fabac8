#include "config.h"
#include "order.h"

#include <stdint.h>
#include <stdlib.h>

#include "util.h"

/*
 * The events in slots, their times in a heap of due times (util.h) beside
 * them: a push and a release cost a log of what is held in moves of a
 * small key, never a walk, and an event is copied in once and out once.
 * Under churn a poll interval holds a hundred thousand of them.
 */
struct order {
	struct dueheap h;	/* ids: slots of ev */
	size_t cap;
	struct track_event *ev; /* cap slots */
	uint32_t *free;		/* slots not in use, a stack */
	size_t nfree;
};

struct order *order_new(void)
{
	return xcalloc(1, sizeof(struct order));
}

void order_free(struct order *o)
{
	if (!o)
		return;
	dueheap_free(&o->h);
	free(o->ev);
	free(o->free);
	free(o);
}

static void grow(struct order *o)
{
	size_t cap = o->cap ? 2 * o->cap : 256;

	o->ev = xreallocarray(o->ev, cap, sizeof(*o->ev));
	o->free = xreallocarray(o->free, cap, sizeof(*o->free));
	/* The new slots, lowest on top. */
	for (size_t i = cap; i-- > o->cap;)
		o->free[o->nfree++] = (uint32_t)i;
	o->cap = cap;
}

void order_push(struct order *o, const struct track_event *ev)
{
	uint32_t slot;

	if (!o->nfree)
		grow(o);
	slot = o->free[--o->nfree];
	o->ev[slot] = *ev;
	o->ev[slot].ts = NULL;
	dueheap_push(&o->h, ev->mono, slot);
}

size_t order_release(struct order *o, int64_t horizon, size_t max, track_event_fn fn, void *arg)
{
	size_t k = 0;

	while (o->h.n && dueheap_first(&o->h) <= horizon && k < max) {
		uint32_t slot = dueheap_pop(&o->h);
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
	return dueheap_first(&o->h);
}

void order_reset(struct order *o)
{
	while (o->h.n)
		o->free[o->nfree++] = dueheap_pop(&o->h);
}

size_t order_held(const struct order *o)
{
	return o->h.n;
}
