/* leaks.h - sockets left in CLOSE_WAIT or FIN_WAIT_2 past a threshold, by owning process. */
#ifndef TCPDWELL_LEAKS_H
#define TCPDWELL_LEAKS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "loop.h"

struct procmap;
struct owner;

/* One leaking socket and its owner (NULL when unknown). */
struct leak_sock {
	const struct tsock *ts;
	const struct owner *own;
	int64_t age;
};

/* Whether ts counts as a leak at monotonic now: alive, CLOSE_WAIT or FIN_WAIT_2, that old. */
bool leak_is(const struct tsock *ts, int64_t now, int64_t leak_ns);
/*
 * The leaks among v[] into *out (grown, *cap its size); owners from pm
 * (NULL: none), which is asked for them: a later scan finds the new ones.
 * Owner pointers are valid until pm is scanned or collected.
 */
size_t leaks_collect(const struct tsock *const *v, size_t n, int64_t now, int64_t leak_ns,
		     struct procmap *pm, struct leak_sock **out, size_t *cap);

/* By owner (unknown last), then oldest first: the report's order. */
void leaks_sort(struct leak_sock *v, size_t n);
/* Whether a and b have the same owner (both unknown counts as the same). */
bool leaks_same_owner(const struct leak_sock *a, const struct leak_sock *b);

/* The one-shot report (--leaks): a sink that prints once the ages are known, then quits. */
struct leaks_opts {
	FILE *out;
	bool json;
	int64_t leak_ns;
	struct procmap *pm; /* owners, or NULL */
	bool utf8;
	bool replay; /* of a recording: report at its end */
};
void leaks_open(struct loop *l, const struct leaks_opts *o);

#endif
