/* metrics.h - counts, transitions and dwell times for Prometheus, as a node_exporter textfile. */
#ifndef TCPDWELL_METRICS_H
#define TCPDWELL_METRICS_H

#include "loop.h"

struct metrics_opts {
	/*
	 * Written every second (and once more at the end): to a temporary file
	 * beside it, then renamed over it, so that a collector never reads half
	 * a file. NULL: none.
	 */
	const char *path;
	/* "[ADDR:]PORT" to serve GET /metrics on (ADDR 127.0.0.1 unless given); NULL: none. */
	const char *listen;
	/* The sources are live (not a replay): the self-metrics time the dumps. */
	bool live;
	/* How long in CLOSE_WAIT or FIN_WAIT_2 makes a leak (--leak). */
	int64_t leak_ns;
	/* Ports of net.ipv4.ip_local_port_range; 0: unknown, not written. */
	unsigned ephemeral_ports;
};

/*
 * Add the metrics sink. Refuses a path whose directory cannot take the
 * temporary file, an address it cannot listen on, and a listen address when
 * built without libmicrohttpd. -1 with err set.
 */
int metrics_open(struct loop *l, const struct metrics_opts *o, char *err, size_t errlen);

#endif
