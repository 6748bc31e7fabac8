/* exact.h - exact state changes from the sock:inet_sock_set_state tracepoint (perf_event_open). */
#ifndef TCPDWELL_EXACT_H
#define TCPDWELL_EXACT_H

#include "loop.h"

/*
 * Open the tracepoint on every CPU and add it to the loop as a source.
 * -1 with err saying exactly what is missing (root or CAP_PERFMON, tracefs
 * mount, a field in the format) and how to provide it.
 */
int exact_open(struct loop *l, char *err, size_t errlen);

#endif
