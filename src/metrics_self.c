/* metrics_self.c - the exporter's own figures: build, dumps, losses, the table's size. */
#include "config.h"
#include "metrics_int.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/*
 * Upper bounds of the dump duration histogram, seconds: a quiet box dumps
 * in well under a millisecond, 100,000 sockets take a good part of a
 * second, and anything near the poll interval is trouble.
 */
static const double dump_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
				     0.025,  0.05,    0.1,    0.25,  0.5,    1,	    2.5};
#define NDB (sizeof(dump_bounds) / sizeof(dump_bounds[0]))

/* A full dump, or the fast lane's dump of the rare states. */
enum { LANE_FULL, LANE_FAST, NLANE };
static const char *const lane_name[NLANE] = {"poll", "fast"};

struct metrics_self {
	bool live;
	unsigned ports;
	int64_t start_wall;
	uint64_t dumps[NLANE], bucket[NLANE][NDB];
	double sum[NLANE];
	int64_t last_wall[NLANE]; /* 0 before the first */
};

struct metrics_self *metrics_self_new(bool live, unsigned ports)
{
	struct metrics_self *s = xcalloc(1, sizeof(*s));

	s->live = live;
	s->ports = ports;
	s->start_wall = wall_ns();
	return s;
}

void metrics_self_free(struct metrics_self *s)
{
	free(s);
}

void metrics_self_observe(struct metrics_self *s, const struct track *t, const struct obs *o,
			  int64_t now)
{
	/* A replay's dumps were timed on another day: nothing to say about this process. */
	if (!s->live || o->kind != OBS_SNAPSHOT || !o->snap->complete)
		return;
	/* Only a full dump moves the tracker's last poll; a fast-lane one leaves it. */
	unsigned lane = track_last_poll(t) == o->mono ? LANE_FULL : LANE_FAST;
	/* From the start of the dump to the tracker having applied it: what a poll costs. */
	double d = (double)(now > o->mono ? now - o->mono : 0) / NS_PER_SEC;

	s->dumps[lane]++;
	s->sum[lane] += d;
	for (size_t b = 0; b < NDB; b++)
		if (d <= dump_bounds[b])
			s->bucket[lane][b]++;
	s->last_wall[lane] = o->wall;
}

static void write_sources(struct loop *l, FILE *out)
{
	const char *names[8];
	struct source_stats st[8];
	size_t n = loop_source_stats(l, names, st, 8);
	static const struct {
		unsigned bit;
		const char *name, *help;
	} fam[] = {
	    {STAT_FAILURES, "tcpdwell_dump_failures_total",
	     "sock_diag dumps that failed (nothing was applied from them)."},
	    {STAT_LOST, "tcpdwell_samples_lost_total",
	     "State changes the kernel dropped before the exact source read them."},
	    {STAT_OVERRUNS, "tcpdwell_notice_overruns_total",
	     "Times the destroy-notice queue overflowed (how many were lost is unknown; "
	     "a full dump resynchronises)."},
	};

	for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		bool head = false;

		for (size_t i = 0; i < n; i++) {
			uint64_t v = fam[f].bit == STAT_FAILURES ? st[i].failures
				     : fam[f].bit == STAT_LOST	 ? st[i].lost
								 : st[i].overruns;

			if (!(st[i].has & fam[f].bit))
				continue;
			if (!head)
				fprintf(out, "# HELP %s %s\n# TYPE %s counter\n", fam[f].name,
					fam[f].help, fam[f].name);
			head = true;
			fprintf(out, "%s{source=\"%s\"} %llu\n", fam[f].name, names[i],
				(unsigned long long)v);
		}
	}
}

void metrics_self_write(struct metrics_self *s, struct loop *l, FILE *out)
{
	fputs("# HELP tcpdwell_build_info The tcpdwell version serving these metrics.\n"
	      "# TYPE tcpdwell_build_info gauge\n",
	      out);
	fprintf(out, "tcpdwell_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	fputs("# HELP tcpdwell_start_time_seconds When this tcpdwell started, seconds since the "
	      "epoch: oldest-in-state figures of sockets older than it are lower bounds.\n"
	      "# TYPE tcpdwell_start_time_seconds gauge\n",
	      out);
	fprintf(out, "tcpdwell_start_time_seconds %.3f\n", (double)s->start_wall / NS_PER_SEC);
	fputs("# HELP tcpdwell_tracked_sockets Entries in the socket table: alive, and gone "
	      "ones kept for a moment.\n"
	      "# TYPE tcpdwell_tracked_sockets gauge\n",
	      out);
	fprintf(out, "tcpdwell_tracked_sockets %zu\n", track_size(loop_track(l)));
	if (s->ports) {
		fputs("# HELP tcpdwell_ephemeral_ports Ports in net.ipv4.ip_local_port_range of "
		      "tcpdwell's network namespace: what TIME_WAIT sockets to one peer can "
		      "exhaust.\n"
		      "# TYPE tcpdwell_ephemeral_ports gauge\n",
		      out);
		fprintf(out, "tcpdwell_ephemeral_ports %u\n", s->ports);
	}
	if (!s->live)
		return;

	fputs("# HELP tcpdwell_last_poll_timestamp_seconds When the last complete dump was "
	      "taken, seconds since the epoch.\n"
	      "# TYPE tcpdwell_last_poll_timestamp_seconds gauge\n",
	      out);
	for (unsigned k = 0; k < NLANE; k++)
		if (s->last_wall[k])
			fprintf(out, "tcpdwell_last_poll_timestamp_seconds{source=\"%s\"} %.3f\n",
				lane_name[k], (double)s->last_wall[k] / NS_PER_SEC);
	fputs("# HELP tcpdwell_poll_duration_seconds Time from the start of a dump to the "
	      "tracker having applied it.\n"
	      "# TYPE tcpdwell_poll_duration_seconds histogram\n",
	      out);
	for (unsigned k = 0; k < NLANE; k++) {
		if (!s->dumps[k])
			continue;
		for (size_t b = 0; b < NDB; b++)
			fprintf(out,
				"tcpdwell_poll_duration_seconds_bucket{source=\"%s\",le=\"%g\"} "
				"%llu\n",
				lane_name[k], dump_bounds[b], (unsigned long long)s->bucket[k][b]);
		fprintf(out,
			"tcpdwell_poll_duration_seconds_bucket{source=\"%s\",le=\"+Inf\"} %llu\n",
			lane_name[k], (unsigned long long)s->dumps[k]);
		fprintf(out, "tcpdwell_poll_duration_seconds_sum{source=\"%s\"} %.6f\n",
			lane_name[k], s->sum[k]);
		fprintf(out, "tcpdwell_poll_duration_seconds_count{source=\"%s\"} %llu\n",
			lane_name[k], (unsigned long long)s->dumps[k]);
	}
	write_sources(l, out);
}
