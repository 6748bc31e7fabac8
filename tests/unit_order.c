/* unit_order.c - transitions in time order, in arrival order within a time, none lost. */
#include "config.h"

#include <stdlib.h>

#include "order.h"
#include "unit.h"

struct got {
	int64_t mono[4096];
	uint8_t to[4096];
	size_t n;
	bool ts_seen;
};

static void take(void *arg, const struct track_event *ev)
{
	struct got *g = arg;

	if (g->n < 4096) {
		g->mono[g->n] = ev->mono;
		g->to[g->n] = ev->to;
		g->n++;
	}
	g->ts_seen |= ev->ts != NULL;
}

static struct track_event at(int64_t mono, uint8_t tag)
{
	return (struct track_event){.mono = mono, .to = tag};
}

/* Events pushed out of order come out in order, each once no later than its horizon allows. */
static void test_release_by_horizon(void)
{
	struct order *o = order_new();
	struct got g = {0};
	struct track_event ev = at(30, 0);

	ev.ts = (const struct tsock *)&g; /* any non-NULL pointer: it must not be kept */
	order_push(o, &ev);
	ev = at(10, 1);
	order_push(o, &ev);
	ev = at(20, 2);
	order_push(o, &ev);
	CHECK(order_release(o, 5, SIZE_MAX, take, &g) == 0);
	CHECK(order_release(o, 20, SIZE_MAX, take, &g) == 2);
	CHECK(g.n == 2 && g.mono[0] == 10 && g.mono[1] == 20);
	CHECK(order_held(o) == 1);
	/* A late one, earlier than what went: it still goes, not dropped. */
	ev = at(15, 3);
	order_push(o, &ev);
	CHECK(order_flush(o, take, &g) == 2);
	CHECK(g.n == 4 && g.mono[2] == 15 && g.mono[3] == 30);
	CHECK(!g.ts_seen);
	CHECK(order_held(o) == 0);
	order_free(o);
}

/* Events of one time keep the order they came in (a socket's two changes in one dump). */
static void test_same_time_stable(void)
{
	struct order *o = order_new();
	struct got g = {0};

	for (uint8_t i = 0; i < 100; i++) {
		struct track_event ev = at(i % 2 ? 7 : 3, i);
		order_push(o, &ev);
	}
	order_flush(o, take, &g);
	CHECK(g.n == 100);
	for (size_t i = 1; i < g.n; i++) {
		CHECK(g.mono[i - 1] <= g.mono[i]);
		if (g.mono[i - 1] == g.mono[i])
			CHECK(g.to[i - 1] < g.to[i]);
	}
	order_free(o);
}

/* Many, in a random order, released as the horizon moves: sorted, and all of them. */
static void test_random(void)
{
	struct order *o = order_new();
	struct got g = {0};

	srand(14);
	for (int64_t h = 0; h < 4000; h += 100) {
		for (int i = 0; i < 100; i++) {
			struct track_event ev = at(h + rand() % 1000, 0);
			order_push(o, &ev);
		}
		order_release(o, h, 7, take, &g);
	}
	order_flush(o, take, &g);
	CHECK(g.n == 4000);
	size_t back = 0;
	for (size_t i = 1; i < g.n; i++)
		back += g.mono[i - 1] > g.mono[i];
	CHECK(back == 0);
	order_free(o);
}

/* A reset (a replay seek) forgets what is held. */
static void test_reset(void)
{
	struct order *o = order_new();
	struct got g = {0};
	struct track_event ev = at(1, 0);

	order_push(o, &ev);
	order_reset(o);
	CHECK(order_flush(o, take, &g) == 0 && g.n == 0);
	order_free(o);
}

int main(void)
{
	RUN(test_release_by_horizon);
	RUN(test_same_time_stable);
	RUN(test_random);
	RUN(test_reset);
	return unit_done();
}
