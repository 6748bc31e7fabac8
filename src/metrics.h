/* metrics.h - counts, transitions and dwell times for Prometheus, as a node_exporter textfile. */
#ifndef TCPDWELL_METRICS_H
#define TCPDWELL_METRICS_H

#include "loop.h"

/*
 * Write the metrics to path every second (and once more at the end): to a
 * temporary file beside it, then renamed over it, so that a collector never
 * reads half a file. Refuses a path whose directory cannot take that
 * temporary file. -1 with err set.
 */
int metrics_open(struct loop *l, const char *path, char *err, size_t errlen);

/* The text itself, as written to the file (tests and the sink share it). */
struct metrics;
struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);
void metrics_event(struct metrics *m, const struct track_event *ev);
void metrics_write(const struct metrics *m, const struct track *t, int64_t now, FILE *out);

#endif
