/* record.h - the recording format: writer (a sink) and reader. See tcpdwell-record(5). */
#ifndef TCPDWELL_RECORD_H
#define TCPDWELL_RECORD_H

#include "loop.h"

struct procmap;

struct record_meta {
	int64_t interval_ns;
	const char *source; /* "poll", "exact", "scenario NAME" */
	struct procmap *pm; /* sockets' owners to record (shared with the sinks), or NULL */
};

/*
 * Open path for recording and add the writer to the loop. Refuses a file
 * that exists and is not a tcpdwell recording (appends to one that is), and
 * a symlink when running as root. -1 with err set.
 */
int record_open(struct loop *l, const char *path, const struct record_meta *m, char *err,
		size_t errlen);

#endif
