/* metrics.c - counts, transitions and dwell times for Prometheus, as a node_exporter textfile. */
#include "config.h"
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define WRITE_EVERY NS_PER_SEC

/* Upper bounds of the dwell histogram, seconds: from a loopback FIN_WAIT_1 to a leak. */
static const double bounds[] = { 0.0001, 0.001, 0.01, 0.1, 1, 10, 60, 300, 3600 };
#define NB (sizeof(bounds) / sizeof(bounds[0]))

/* Index ST_MAX collects state numbers we do not know. */
#define NST (ST_MAX + 1)

struct metrics {
	uint64_t trans[NST][NST];
	uint64_t dwell_count[NST], dwell_bucket[NST][NB];
	double dwell_sum[NST];
	const struct tsock **v; /* scratch for the oldest socket of each state */
	size_t cap;
};

struct metrics_sink {
	struct metrics *m;
	struct loop *l;
	char *path, *tmp;
	int64_t next;
	bool failed; /* the last write failed: said once, until one works again */
};

static unsigned idx(unsigned st)
{
	return st < ST_MAX ? st : ST_MAX;
}

struct metrics *metrics_new(void)
{
	return xcalloc(1, sizeof(struct metrics));
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	free(m->v);
	free(m);
}

void metrics_event(struct metrics *m, const struct track_event *ev)
{
	unsigned from = idx(ev->from), to = idx(ev->to);
	double d = (double)ev->dwell / NS_PER_SEC;

	m->trans[from][to]++;
	/* An appearance has no dwell, and an unseen socket's is unknown. */
	if (ev->from == ST_CLOSE || ev->from == ST_UNKNOWN)
		return;
	m->dwell_count[from]++;
	m->dwell_sum[from] += d;
	for (size_t b = 0; b < NB; b++)
		if (d <= bounds[b])
			m->dwell_bucket[from][b]++;
}

/* A state as a label value: the kernel's number for one we do not know. */
static const char *label(unsigned i)
{
	return i < ST_MAX ? st_name(i) : "OTHER";
}

void metrics_write(const struct metrics *cm, const struct track *t, int64_t now, FILE *out)
{
	struct metrics *m = (struct metrics *)cm; /* only the scratch array changes */
	int64_t oldest[NST] = { 0 };
	size_t n = track_collect(t, &m->v, &m->cap);

	for (size_t i = 0; i < n; i++) {
		const struct tsock *ts = m->v[i];
		unsigned s = idx(ts->s.state);

		if (!(ts->flags & TS_GHOST) && (!oldest[s] || ts->since < oldest[s]))
			oldest[s] = ts->since;
	}

	fputs("# HELP tcpdwell_sockets TCP sockets alive, by state.\n"
	      "# TYPE tcpdwell_sockets gauge\n", out);
	for (size_t i = 0; i < st_order_len; i++) {
		unsigned st = st_order[i];
		size_t c = track_count(t, st);

		/* The ten states of the state machine always; the kernel's request sockets when any. */
		if (st == ST_CLOSE || st == ST_UNKNOWN || (st == ST_NEW_SYN_RECV && !c))
			continue;
		fprintf(out, "tcpdwell_sockets{state=\"%s\"} %zu\n", st_name(st), c);
	}

	fputs("# HELP tcpdwell_oldest_seconds How long the oldest socket of a state has been in it "
	      "(at least: from the first poll for one older than tcpdwell).\n"
	      "# TYPE tcpdwell_oldest_seconds gauge\n", out);
	for (size_t i = 0; i < st_order_len; i++) {
		unsigned s = st_order[i];

		if (oldest[s])
			fprintf(out, "tcpdwell_oldest_seconds{state=\"%s\"} %.6f\n", st_name(s),
				(double)(now > oldest[s] ? now - oldest[s] : 0) / NS_PER_SEC);
	}

	fputs("# HELP tcpdwell_transitions_total State changes seen, by old and new state.\n"
	      "# TYPE tcpdwell_transitions_total counter\n", out);
	for (unsigned f = 0; f < NST; f++)
		for (unsigned s = 0; s < NST; s++)
			if (m->trans[f][s])
				fprintf(out,
					"tcpdwell_transitions_total{from=\"%s\",to=\"%s\"} %llu\n",
					label(f), label(s), (unsigned long long)m->trans[f][s]);

	fputs("# HELP tcpdwell_dwell_seconds Time spent in a state, counted when it was left.\n"
	      "# TYPE tcpdwell_dwell_seconds histogram\n", out);
	for (unsigned s = 0; s < NST; s++) {
		if (!m->dwell_count[s])
			continue;
		for (size_t b = 0; b < NB; b++)
			fprintf(out, "tcpdwell_dwell_seconds_bucket{state=\"%s\",le=\"%g\"} %llu\n",
				label(s), bounds[b], (unsigned long long)m->dwell_bucket[s][b]);
		fprintf(out, "tcpdwell_dwell_seconds_bucket{state=\"%s\",le=\"+Inf\"} %llu\n",
			label(s), (unsigned long long)m->dwell_count[s]);
		fprintf(out, "tcpdwell_dwell_seconds_sum{state=\"%s\"} %.6f\n", label(s),
			m->dwell_sum[s]);
		fprintf(out, "tcpdwell_dwell_seconds_count{state=\"%s\"} %llu\n", label(s),
			(unsigned long long)m->dwell_count[s]);
	}
}

/* Write the temporary file and rename it over the real one; -errno on failure. */
static int write_file(struct metrics_sink *k)
{
	int fd = open(k->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	FILE *f;
	int e = 0;

	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		e = -errno;
		close(fd);
		unlink(k->tmp);
		return e;
	}
	metrics_write(k->m, loop_track(k->l), loop_now(k->l), f);
	if (ferror(f))
		e = -EIO;
	if (fclose(f) != 0 && !e)
		e = -errno;
	if (!e && rename(k->tmp, k->path) < 0)
		e = -errno;
	if (e)
		unlink(k->tmp);
	return e;
}

static void flush(struct metrics_sink *k)
{
	int e = write_file(k);

	if (e && !k->failed)
		loop_status(k->l, "metrics: cannot write '%s': %s", k->path, strerror(-e));
	else if (!e && k->failed)
		loop_status(k->l, "metrics: '%s' written again", k->path);
	k->failed = e != 0;
}

static void s_event(void *ctx, const struct track_event *ev)
{
	metrics_event(((struct metrics_sink *)ctx)->m, ev);
}

static int64_t s_next_due(void *ctx)
{
	return ((struct metrics_sink *)ctx)->next;
}

static void s_tick(void *ctx, struct loop *l, int64_t now)
{
	struct metrics_sink *k = ctx;

	/* Nothing to say before the first poll: a collector would read all zeros. */
	if (now < k->next || !track_last_poll(loop_track(l)))
		return;
	k->next = now + WRITE_EVERY;
	flush(k);
}

static void s_close(void *ctx)
{
	struct metrics_sink *k = ctx;

	/* The last figures stay behind for the collector. */
	flush(k);
	metrics_free(k->m);
	free(k->path);
	free(k->tmp);
	free(k);
}

static const struct sink_ops metrics_ops = {
	.name = "metrics",
	.event = s_event,
	.next_due = s_next_due,
	.tick = s_tick,
	.close = s_close,
};

int metrics_open(struct loop *l, const char *path, char *err, size_t errlen)
{
	struct metrics_sink *k;
	size_t len = strlen(path) + 16;
	char *tmp = xmalloc(len);
	int fd;

	/* node_exporter's textfile collector reads only *.prom: it never sees this name. */
	snprintf(tmp, len, "%s.%ld.tmp", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot write metrics beside '%s': %s", path, strerror(errno));
		free(tmp);
		return -1;
	}
	close(fd);
	unlink(tmp);
	k = xcalloc(1, sizeof(*k));
	k->m = metrics_new();
	k->l = l;
	k->path = xstrdup(path);
	k->tmp = tmp;
	k->next = 0;
	loop_add_sink(l, &metrics_ops, k);
	return 0;
}
