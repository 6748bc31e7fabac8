#include "config.h"
#include "order.h"

#include <stdlib.h>

#include "util.h"

/*
 * A binary min-heap by (time, arrival): a push and a release cost a log of
 * what is held, never a walk of it.
 */
struct held {
	struct track_event ev;
	uint64_t seq;
};

struct order {
	struct held *h;
	size_t n, cap;
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
	free(o);
}

static bool before(const struct held *a, const struct held *b)
{
	return a->ev.mono < b->ev.mono || (a->ev.mono == b->ev.mono && a->seq < b->seq);
}

void order_push(struct order *o, const struct track_event *ev)
{
	struct held x = {*ev, o->seq++};
	size_t i;

	if (o->n == o->cap) {
		o->cap = o->cap ? 2 * o->cap : 256;
		o->h = xreallocarray(o->h, o->cap, sizeof(*o->h));
	}
	x.ev.ts = NULL;
	/* Sift up: events mostly come in time order, so this rarely moves far. */
	for (i = o->n++; i > 0 && before(&x, &o->h[(i - 1) / 2]); i = (i - 1) / 2)
		o->h[i] = o->h[(i - 1) / 2];
	o->h[i] = x;
}

/* Take the first off the heap into *out. */
static void pop(struct order *o, struct held *out)
{
	struct held last = o->h[--o->n];
	size_t i = 0;

	*out = o->h[0];
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
}

size_t order_release(struct order *o, int64_t horizon, track_event_fn fn, void *arg)
{
	size_t k = 0;

	while (o->n && o->h[0].ev.mono <= horizon) {
		struct held x;

		pop(o, &x);
		fn(arg, &x.ev);
		k++;
	}
	return k;
}

size_t order_flush(struct order *o, track_event_fn fn, void *arg)
{
	return order_release(o, INT64_MAX, fn, arg);
}

void order_reset(struct order *o)
{
	o->n = 0;
}

size_t order_held(const struct order *o)
{
	return o->n;
}
