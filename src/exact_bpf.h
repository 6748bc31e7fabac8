/* exact_bpf.h - exact state changes on eBPF: each with its socket's cookie and its namespace. */
#ifndef TCPDWELL_EXACT_BPF_H
#define TCPDWELL_EXACT_BPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exact.h"
#include "loop.h"
#include "util.h"

struct netns_tab;

struct exact_bpf_opts {
	/*
	 * --netns all: every namespace passes the kernel's filter, and a
	 * change from one the poller has not labelled yet waits for its label
	 * (EXACT_BPF_HOLD_NS at most). Otherwise only the namespace of index 0
	 * (ours, or --netns NAME's) passes, once the poller has told its cookie.
	 */
	bool all;
	const struct narrator *only; /* as exact_open()'s; NULL for all */
};

/*
 * Load the eBPF program, attach it and add it to the loop as a source. The
 * loop's namespace table must be the one the poller fills: the source reads
 * the namespaces' cookies from it. -1 with err saying what is missing
 * (built without eBPF, the kernel's BTF, root or CAP_BPF and CAP_PERFMON).
 */
int exact_bpf_open(struct loop *l, const struct exact_bpf_opts *o, char *err, size_t errlen);

/*
 * The pieces below are pure (no I/O), for exact_bpf.c and the unit tests.
 */

/* How long a change from a namespace not labelled yet waits: the poller looks every 3 s. */
#define EXACT_BPF_HOLD_NS (10 * NS_PER_SEC)
/*
 * A connect()'s first change (CLOSE -> SYN_SENT) comes before the kernel
 * picks the local port: it waits for the same cookie's next change, which
 * has the port, at most this long, so that a birth is told with its address.
 */
#define EXACT_BPF_PORT_NS (NS_PER_SEC)

/*
 * Decode one ring record (struct exact_rec) into o: kind OBS_CHANGE, mono,
 * cookie, key (netns 0: the caller labels it), from, to; *netns gets the
 * namespace's cookie. 1 for a TCP change, -1 when the record is too short
 * or a value cannot be what the kernel writes.
 */
int exact_bpf_decode(const void *rec, size_t len, struct obs *o, uint64_t *netns);

/*
 * What the kernel's filter must be now: *mode EXACT_WATCH_ALL or
 * EXACT_WATCH_LISTED, and the cookies of the namespaces labelled since
 * *synced (an index), written to add (at most max; *synced moves past
 * them). Returns how many were written; call again while it fills add.
 */
size_t exact_bpf_watch(const struct netns_tab *t, bool all, uint32_t *synced, uint64_t *add,
		       size_t max, uint32_t *mode);

/* One change read from the ring, with its namespace's cookie. */
struct exact_bpf_item {
	struct obs o;
	uint64_t netns;
	uint64_t seq; /* arrival order, to keep the sort stable */
};

/*
 * Changes read and not handed on yet: pend (not settled, or just read) and
 * park (from a namespace not labelled yet, in time order).
 */
struct exact_bpf_queue {
	struct exact_bpf_item *pend, *park;
	size_t npend, pend_cap, park_head, npark, park_cap;
	uint64_t seq;
	uint32_t gen;	     /* the table's cookie count when park was last looked at */
	uint64_t unlabelled; /* changes dropped after waiting for their namespace's label */
	uint64_t unwatched;  /* changes of a namespace not watched (before the filter was set) */
};

void exact_bpf_queue_push(struct exact_bpf_queue *q, const struct obs *o, uint64_t netns);
/*
 * Hand on, each with key.netns set to its namespace's index, the changes
 * whose namespace the table knows: first those parked that now have a
 * label, then the pending ones at or before settled in time order (later
 * ones stay pending). A change of a namespace not known waits in park when
 * hold (see exact_bpf_opts.all) until now - EXACT_BPF_HOLD_NS, then it is
 * dropped and counted in unlabelled; without hold it is counted in
 * unwatched. One socket's changes are handed on in the order they came.
 * A portless connect() waits for its port (EXACT_BPF_PORT_NS), taken from
 * its socket's next change.
 */
void exact_bpf_queue_release(struct exact_bpf_queue *q, const struct netns_tab *t, bool hold,
			     int64_t settled, int64_t now, exact_obs_fn fn, void *ctx);
/* When the queue next has something to do (a pending change, a parked one expiring). */
int64_t exact_bpf_queue_due(const struct exact_bpf_queue *q);
/* The time of the oldest change it holds, pending or parked; INT64_MAX when none. */
int64_t exact_bpf_queue_oldest(const struct exact_bpf_queue *q);
void exact_bpf_queue_free(struct exact_bpf_queue *q);

#endif
