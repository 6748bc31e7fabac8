/* metrics_int.h - inside the metrics sink: the exporter's own figures beside the sockets'. */
#ifndef TCPDWELL_METRICS_INT_H
#define TCPDWELL_METRICS_INT_H

#include <stdio.h>

#include "loop.h"

struct metrics_self;

/*
 * live: the sources are this process's own (not a replay), so dumps are
 * timed; ports: the size of the ephemeral port range, 0 when unknown.
 */
struct metrics_self *metrics_self_new(bool live, unsigned ports);
void metrics_self_free(struct metrics_self *s);
/* An observation the tracker t has just applied, at monotonic now. */
void metrics_self_observe(struct metrics_self *s, const struct track *t, const struct obs *o,
			  int64_t now);
/* The self-metrics families in Prometheus' text format. */
void metrics_self_write(struct metrics_self *s, struct loop *l, FILE *out);

struct metrics_leak;
struct netns_tab;

/* leak_ns: the age in CLOSE_WAIT or FIN_WAIT_2 that counts as a leak; live as above. */
struct metrics_leak *metrics_leak_new(bool live, int64_t leak_ns);
void metrics_leak_free(struct metrics_leak *k);
/* The leak families from the sockets v[] (ghosts skipped) at monotonic now. */
void metrics_leak_write(struct metrics_leak *k, const struct tsock *const *v, size_t n, int64_t now,
			const struct netns_tab *labels, FILE *out);
/* s escaped for a label value (backslash, double quote, newline). */
void metrics_label_value(const char *s, FILE *out);

#endif
