/* leaks.c - sockets left in CLOSE_WAIT or FIN_WAIT_2 past a threshold: the report and its rule. */
#include "config.h"
#include "leaks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "column.h"
#include "filter.h"
#include "procmap.h"
#include "util.h"

bool leak_is(const struct tsock *ts, int64_t now, int64_t leak_ns)
{
	if (ts->flags & TS_GHOST)
		return false;
	if (ts->s.state != ST_CLOSE_WAIT && ts->s.state != ST_FIN_WAIT2)
		return false;
	return now - ts->since >= leak_ns;
}

size_t leaks_collect(const struct tsock *const *v, size_t n, int64_t now, int64_t leak_ns,
		     struct procmap *pm, struct leak_sock **out, size_t *cap)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const struct tsock *ts = v[i];

		if (!leak_is(ts, now, leak_ns))
			continue;
		if (k == *cap) {
			*cap = *cap ? 2 * *cap : 64;
			*out = xreallocarray(*out, *cap, sizeof(**out));
		}
		if (pm && ts->s.inode)
			procmap_want(pm, ts->s.inode);
		(*out)[k++] = (struct leak_sock){
		    .ts = ts,
		    .own = pm && ts->s.inode ? procmap_lookup(pm, ts->s.inode) : NULL,
		    .age = now - ts->since};
	}
	return k;
}

/* ---- the report ---- */

struct leaks {
	struct leaks_opts o;
	bool seen_full; /* the first full poll came */
	int64_t full_at;
	const struct tsock **v;
	size_t cap;
	struct leak_sock *lk;
	size_t lk_cap;
};

/* By owner (unknown last), then oldest first. */
static int by_owner(const void *pa, const void *pb)
{
	const struct leak_sock *a = pa, *b = pb;

	if (!a->own != !b->own)
		return a->own ? -1 : 1;
	if (a->own && a->own->pid != b->own->pid)
		return a->own->pid < b->own->pid ? -1 : 1;
	return a->age > b->age ? -1 : a->age < b->age;
}

bool leaks_same_owner(const struct leak_sock *a, const struct leak_sock *b)
{
	return a->own ? b->own && a->own->pid == b->own->pid : !b->own;
}

void leaks_sort(struct leak_sock *v, size_t n)
{
	/* qsort() wants an array even for none. */
	if (n)
		qsort(v, n, sizeof(*v), by_owner);
}

/* A JSON string body: text from the system is sanitised already; escape what JSON needs. */
static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void print_text(struct leaks *k, const struct col_ctx *cc, size_t n, const char *when)
{
	FILE *out = k->o.out;
	char lim[DUR_BUFSZ], buf[ADDR_BUFSZ + 128];
	size_t procs = 0;

	fmt_dur(lim, k->o.leak_ns, TIME_EXACT, k->o.utf8);
	for (size_t i = 0; i < n; i++)
		procs += i == 0 || !leaks_same_owner(&k->lk[i - 1], &k->lk[i]);
	if (!n) {
		fprintf(out,
			"tcpdwell leaks %s: no socket in CLOSE_WAIT or FIN_WAIT_2 for %s or more\n",
			when, lim + strspn(lim, " "));
		return;
	}
	fprintf(out,
		"tcpdwell leaks %s: %zu socket%s in CLOSE_WAIT or FIN_WAIT_2 for %s or more, %zu "
		"owner%s\n",
		when, n, n == 1 ? "" : "s", lim + strspn(lim, " "), procs, procs == 1 ? "" : "s");
	for (size_t i = 0, j; i < n; i = j) {
		size_t cw = 0, fw = 0;

		for (j = i; j < n && leaks_same_owner(&k->lk[i], &k->lk[j]); j++)
			cw += k->lk[j].ts->s.state == ST_CLOSE_WAIT,
			    fw += k->lk[j].ts->s.state != ST_CLOSE_WAIT;
		col_table[COL_DWELL].text(cc, k->lk[i].ts, buf, sizeof(buf));
		if (k->lk[i].own)
			fprintf(out, "%d/%s:", k->lk[i].own->pid, k->lk[i].own->comm);
		else
			fputs("- (owner unknown):", out);
		fprintf(out, " %zu CLOSE_WAIT, %zu FIN_WAIT_2, oldest %s\n", cw, fw,
			buf + strspn(buf, " "));
		for (size_t m = i; m < j; m++) {
			const struct tsock *ts = k->lk[m].ts;
			char loc[ADDR_BUFSZ + 16], peer[ADDR_BUFSZ + 16];

			col_table[COL_DWELL].text(cc, ts, buf, sizeof(buf));
			col_table[COL_LOCAL].text(cc, ts, loc, sizeof(loc));
			col_table[COL_PEER].text(cc, ts, peer, sizeof(peer));
			fprintf(out, "  %-11s %8s  %s -> %s\n", st_name(ts->s.state), buf, loc,
				peer);
		}
	}
}

static void print_json(struct leaks *k, const struct col_ctx *cc, size_t n, const char *when)
{
	FILE *out = k->o.out;

	fprintf(out, "{\"time\":\"%s\",\"leak\":%.3f,\"count\":%zu,\"owners\":[", when,
		(double)k->o.leak_ns / NS_PER_SEC, n);
	for (size_t i = 0, j; i < n; i = j) {
		const struct owner *ow = k->lk[i].own;

		fputs(i ? ",{" : "{", out);
		if (ow) {
			fprintf(out, "\"pid\":%d,\"comm\":", ow->pid);
			json_str(out, ow->comm);
		} else
			fputs("\"pid\":null,\"comm\":null", out);
		fputs(",\"sockets\":[", out);
		for (j = i; j < n && leaks_same_owner(&k->lk[i], &k->lk[j]); j++) {
			const struct tsock *ts = k->lk[j].ts;
			char loc[ADDR_BUFSZ + 16], peer[ADDR_BUFSZ + 16];

			col_table[COL_LOCAL].text(cc, ts, loc, sizeof(loc));
			col_table[COL_PEER].text(cc, ts, peer, sizeof(peer));
			fprintf(out,
				"%s{\"state\":\"%s\",\"age\":%.3f,\"age_kind\":\"%s\",\"local\":",
				j > i ? "," : "", st_name(ts->s.state),
				(double)k->lk[j].age / NS_PER_SEC,
				ts->since_kind == TIME_ATLEAST ? "at_least"
				: ts->since_kind == TIME_EXACT ? "exact"
							       : "between");
			json_str(out, loc);
			fputs(",\"peer\":", out);
			json_str(out, peer);
			fputc('}', out);
		}
		fputs("]}", out);
	}
	fputs("]}\n", out);
}

static void report(struct leaks *k, struct loop *l)
{
	struct track *t = loop_track(l);
	const struct filter *flt = loop_filter(l);
	size_t n = track_collect(t, &k->v, &k->cap), shown = 0;
	int64_t now = loop_now(l);
	/* The recorded time in a replay. */
	time_t sec = (time_t)(track_wall(t, track_last_poll(t)) / NS_PER_SEC);
	char when[40];
	struct tm tm;

	for (size_t i = 0; i < n; i++)
		if (!flt || filter_match(flt, &k->v[i]->s))
			k->v[shown++] = k->v[i];
	/* Every owner before printing: a report is read once, so wait for the whole walk. */
	n = leaks_collect(k->v, shown, now, k->o.leak_ns, k->o.pm, &k->lk, &k->lk_cap);
	if (k->o.pm && n) {
		procmap_scan(k->o.pm, mono_ns(), 0);
		n = leaks_collect(k->v, shown, now, k->o.leak_ns, k->o.pm, &k->lk, &k->lk_cap);
	}
	leaks_sort(k->lk, n);
	gmtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	struct col_ctx cc = {.now = now, .pm = k->o.pm, .labels = loop_netns(l), .utf8 = k->o.utf8};
	if (k->o.json)
		print_json(k, &cc, n, when);
	else
		print_text(k, &cc, n, when);
	if (fflush(k->o.out) == EOF && errno != EPIPE) {
		loop_status(l, "cannot write the report: %s", strerror(errno));
		loop_quit(l, 1);
		return;
	}
	/* The status a health check reads: 0 none, 1 some. */
	loop_quit(l, n ? 1 : 0);
}

/*
 * Sockets found in CLOSE_WAIT or FIN_WAIT_2 at start have their age from the
 * kernel's clock, read in the rare states' dump that follows the first full
 * poll (with tcp_info): report after it, or after a second full poll when no
 * such dump comes (no fast lane).
 */
static void leaks_observe(void *ctx, struct loop *l, const struct obs *o)
{
	struct leaks *k = ctx;
	const struct snapshot *sn = o->snap;
	uint32_t aged = 1u << ST_CLOSE_WAIT | 1u << ST_FIN_WAIT2;

	if (o->kind != OBS_SNAPSHOT || loop_quitting(l))
		return;
	/* A replay reports at its end (leaks_tick()). */
	if (k->o.replay)
		return;
	if (!k->seen_full) {
		if (sn->complete) {
			k->seen_full = true;
			k->full_at = sn->mono;
		}
		return;
	}
	if (sn->mono <= k->full_at)
		return;
	if (sn->complete || (sn->with_info && (sn->states & aged)))
		report(k, l);
}

/* A replay's report is on the recording's last poll (or --end's): ages have grown by then. */
static void leaks_tick(void *ctx, struct loop *l, int64_t now)
{
	struct leaks *k = ctx;
	struct source_state st = {0};

	(void)now;
	if (!k->o.replay || loop_quitting(l))
		return;
	loop_source_state(l, &st);
	if (st.at_end)
		report(k, l);
}

static int64_t leaks_next_due(void *ctx)
{
	(void)ctx;
	return INT64_MAX;
}

static void leaks_close(void *ctx)
{
	struct leaks *k = ctx;

	free(k->v);
	free(k->lk);
	free(k);
}

static const struct sink_ops leaks_ops = {
    .name = "leaks",
    .observe = leaks_observe,
    .next_due = leaks_next_due,
    .tick = leaks_tick,
    .close = leaks_close,
};

void leaks_open(struct loop *l, const struct leaks_opts *o)
{
	struct leaks *k = xcalloc(1, sizeof(*k));

	k->o = *o;
	loop_add_sink(l, &leaks_ops, k);
}
