#include "config.h"
#include "batch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "column.h"
#include "filter.h"
#include "group.h"
#include "netns.h"
#include "procmap.h"
#include "util.h"

int ev_format_parse(const char *s)
{
	if (!strcmp(s, "text"))
		return FMT_TEXT;
	if (!strcmp(s, "json") || !strcmp(s, "jsonl"))
		return FMT_JSON;
	if (!strcmp(s, "csv"))
		return FMT_CSV;
	return -1;
}

/*
 * "2026-11-23T09:30:01.123456Z". The date and time to the second change
 * once a second, and a stream under churn asks thousands of times in it.
 */
static char *iso_time(char *buf, size_t len, int64_t wall)
{
	static time_t last = -1;
	static char head[40];
	static size_t hn;
	time_t sec = (time_t)(wall / NS_PER_SEC);
	int64_t us = wall % NS_PER_SEC / 1000;
	char t[sizeof(head) + 9];

	if (sec != last || !hn) {
		struct tm tm;

		gmtime_r(&sec, &tm);
		hn = strftime(head, sizeof(head), "%Y-%m-%dT%H:%M:%S", &tm);
		last = sec;
	}
	memcpy(t, head, hn);
	t[hn] = '.';
	fmt_digits(t + hn + 1, 6, us < 0 ? 0 : (uint64_t)us);
	t[hn + 7] = 'Z';
	t[hn + 8] = 0;
	return fmt_str(buf, len, t);
}

/* ---- the periodic table (-b) ---- */

struct batch {
	struct batch_opts o;
	struct col_list cols;
	long printed;
	bool deferred;	 /* the first table waits for the next dump (see batch_observe) */
	bool first_done; /* the first table is out */
	const struct tsock **v;
	size_t cap;
	bool failed;
	struct col_ctx ctx;   /* for the sort */
	struct group_tab gt;  /* --group-by */
	size_t *gi, gicap;    /* per shown socket: its group */
	size_t *order, *rank; /* groups in output order; each group's place in it */
	size_t ordcap;
};

/* State order, then the dwell column's order: oldest first. */
static int by_group_then_dwell(const void *pa, const void *pb, void *arg)
{
	const struct col_ctx *c = arg;
	const struct tsock *a = *(const struct tsock *const *)pa;
	const struct tsock *b = *(const struct tsock *const *)pb;
	int r = col_table[COL_STATE].cmp(c, a, b);

	if (!r)
		r = col_table[COL_DWELL].cmp(c, a, b);
	return r ? r : a->s.cookie < b->s.cookie ? -1 : a->s.cookie > b->s.cookie;
}

/*
 * One line of the table: a title or a socket's text per column. A NETNS
 * column not asked for by name shows only when namespaces differ; the last
 * column is not padded (no trailing blanks).
 */
static void batch_line(struct batch *b, FILE *out, const struct tsock *ts, bool nscol)
{
	size_t last = b->cols.n;
	bool first = true;

	while (last > 0 && b->cols.id[last - 1] == COL_NETNS && !nscol && !b->o.cols)
		last--;
	for (size_t i = 0; i < last; i++) {
		const struct column *c = &col_table[b->cols.id[i]];
		char buf[ADDR_BUFSZ + 128];
		int w = i + 1 == last && !c->right ? 0 : c->width;

		if (b->cols.id[i] == COL_NETNS && !nscol && !b->o.cols)
			continue;
		if (ts)
			c->text(&b->ctx, ts, buf, sizeof(buf));
		fprintf(out, "%*s%*s", first ? 0 : c->gap, "", c->right ? w : -w,
			ts ? buf : c->title);
		first = false;
	}
	fputc('\n', out);
}

/* The output cannot be written: the reader went away (`| head -1`, end quietly) or it failed. */
static void output_failed(struct loop *l, int e)
{
	if (e == EPIPE) {
		loop_quit(l, 0);
		return;
	}
	loop_status(l, "cannot write the output: %s", strerror(e));
	loop_quit(l, 1);
}

static void json_str(FILE *out, const char *s);
/* A time_kind as JSON and CSV name it. */
static const char *const kind_names[] = {"between", "exact", "at_least"};

/* A socket's place: its group's rank, then state order and the dwell column's order. */
struct grouped {
	const struct tsock *ts;
	size_t rank;
};

static int by_rank_then_dwell(const void *pa, const void *pb, void *arg)
{
	const struct grouped *a = pa, *b = pb;

	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	return by_group_then_dwell(&a->ts, &b->ts, arg);
}

/* "TIME_WAIT 20, ESTABLISHED 10": a group's counts in state-machine order. */
static void group_counts(const struct group *g, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = 0;
	for (size_t i = 0; i <= st_order_len && at < len; i++) {
		unsigned st = i < st_order_len ? st_order[i] : ST_MAX;

		if (g->per_state[st])
			at += (size_t)snprintf(buf + at, len - at, "%s%s %zu", at ? ", " : "",
					       st < ST_MAX ? st_name(st) : "UNKNOWN",
					       g->per_state[st]);
	}
}

/*
 * The shown sockets totalled by the --group-by key: b->gt holds the groups,
 * b->order their output order and b->rank each one's place in it.
 */
static void batch_group(struct batch *b, size_t shown)
{
	char key[ADDR_BUFSZ + 64];

	group_tab_clear(&b->gt);
	if (shown > b->gicap) {
		b->gicap = shown;
		b->gi = xreallocarray(b->gi, b->gicap, sizeof(*b->gi));
	}
	for (size_t i = 0; i < shown; i++) {
		group_key((enum group_by)b->o.group_by, &b->ctx, b->v[i], key, sizeof(key));
		b->gi[i] = group_tab_add(&b->gt, key, b->v[i]);
	}
	if (b->gt.n > b->ordcap) {
		b->ordcap = b->gt.n;
		b->order = xreallocarray(b->order, b->ordcap, sizeof(*b->order));
		b->rank = xreallocarray(b->rank, b->ordcap, sizeof(*b->rank));
	}
	group_tab_order(&b->gt, b->o.group_by_age, b->order);
	for (size_t i = 0; i < b->gt.n; i++)
		b->rank[b->order[i]] = i;
}

/* The groups as one JSON line: what a script reads to answer "to which peer?". */
static void batch_json(struct batch *b, FILE *out, int64_t wall)
{
	char when[40];

	fprintf(out, "{\"time\":\"%s\",\"group_by\":\"%s\",\"groups\":[",
		iso_time(when, sizeof(when), wall), group_by_name((enum group_by)b->o.group_by));
	for (size_t i = 0; i < b->gt.n; i++) {
		const struct group *g = &b->gt.g[b->order[i]];
		bool first = true;

		fputs(i ? ",{\"key\":" : "{\"key\":", out);
		json_str(out, g->key);
		fprintf(out, ",\"count\":%zu,\"states\":{", g->n - g->ghosts);
		for (size_t k = 0; k <= st_order_len; k++) {
			unsigned st = k < st_order_len ? st_order[k] : ST_MAX;

			if (!g->per_state[st])
				continue;
			fprintf(out, "%s\"%s\":%zu", first ? "" : ",",
				st < ST_MAX ? st_name(st) : "UNKNOWN", g->per_state[st]);
			first = false;
		}
		fputc('}', out);
		if (g->oldest) {
			int64_t age = b->ctx.now - g->oldest;

			fprintf(out, ",\"oldest\":%lld.%06lld,\"oldest_kind\":\"%s\"",
				(long long)(age / NS_PER_SEC), (long long)(age % NS_PER_SEC / 1000),
				kind_names[g->oldest_kind < 3 ? g->oldest_kind : 0]);
		} else {
			fputs(",\"oldest\":null,\"oldest_kind\":null", out);
		}
		fputc('}', out);
	}
	fputs("]}\n", out);
}

/* The table under --group-by: a header per group (its counts, its oldest), then its sockets. */
static void batch_grouped_rows(struct batch *b, FILE *out, size_t shown, bool nscol)
{
	struct grouped *gs = xcalloc(shown ? shown : 1, sizeof(*gs));
	char counts[512], d[DUR_BUFSZ];

	for (size_t i = 0; i < shown; i++)
		gs[i] = (struct grouped){.ts = b->v[i], .rank = b->rank[b->gi[i]]};
	qsort_r(gs, shown, sizeof(*gs), by_rank_then_dwell, &b->ctx);
	for (size_t i = 0; i < shown; i++) {
		if (i == 0 || gs[i].rank != gs[i - 1].rank) {
			const struct group *g = &b->gt.g[b->order[gs[i].rank]];

			group_counts(g, counts, sizeof(counts));
			fprintf(out, "%s %s %zu: %s", group_by_name((enum group_by)b->o.group_by),
				g->key, g->n - g->ghosts, counts);
			if (g->oldest) {
				fmt_dur(d, b->ctx.now - g->oldest, g->oldest_kind, b->o.utf8);
				fprintf(out, "; oldest %s", d + strspn(d, " "));
			}
			fputc('\n', out);
		}
		batch_line(b, out, gs[i].ts, nscol);
	}
	free(gs);
}

static void batch_table(struct batch *b, struct loop *l)
{
	struct track *t = loop_track(l);
	FILE *out = b->o.out;
	int64_t wall = track_wall(t, track_last_poll(t));
	size_t n = track_collect(t, &b->v, &b->cap), shown = 0;
	const struct netns_tab *labels = loop_netns(l);
	const struct filter *flt = loop_filter(l);
	bool nscol = netns_tab_multi(labels);
	char when[40], src[64], nsdesc[96], counts[512] = "";
	size_t clen = 0;

	b->ctx = (struct col_ctx){
	    .now = loop_now(l), .pm = b->o.pm, .labels = labels, .utf8 = b->o.utf8};
	/* Ghosts are gone; the filter decides the rest. */
	for (size_t i = 0; i < n; i++)
		if (!(b->v[i]->flags & TS_GHOST) && (!flt || filter_match(flt, &b->v[i]->s)))
			b->v[shown++] = b->v[i];
	qsort_r(b->v, shown, sizeof(b->v[0]), by_group_then_dwell, &b->ctx);

	if (b->o.pm) {
		for (size_t i = 0; i < shown; i++)
			if (b->v[i]->s.inode)
				procmap_want(b->o.pm, b->v[i]->s.inode);
		procmap_scan(b->o.pm, mono_ns(), 0);
	}
	/* The owners are known now: grouping by process needs them. */
	if (b->o.group_by > GB_STATE || b->o.format == FMT_JSON)
		batch_group(b, shown);
	if (b->o.format == FMT_JSON) {
		batch_json(b, out, wall);
		goto flush;
	}

	for (size_t i = 0; i < st_order_len; i++) {
		size_t c = track_count(t, st_order[i]);
		if (c && clen < sizeof(counts))
			clen += (size_t)snprintf(counts + clen, sizeof(counts) - clen, "%s%s %zu",
						 clen ? ", " : "", st_name(st_order[i]), c);
	}
	loop_describe(l, src, sizeof(src));
	netns_tab_describe(labels, nsdesc, sizeof(nsdesc));
	fprintf(out, "tcpdwell %s, %s%s%s, %zu socket%s%s%s\n", iso_time(when, sizeof(when), wall),
		src, *nsdesc ? ", " : "", nsdesc, track_alive(t), track_alive(t) == 1 ? "" : "s",
		clen ? ": " : "", counts);
	if (b->o.pm && procmap_unreadable(b->o.pm))
		fprintf(out,
			"note: %zu sockets could not be attributed to a process (no privilege)\n",
			procmap_unreadable(b->o.pm));
	batch_line(b, out, NULL, nscol);
	if (b->o.group_by > GB_STATE) {
		batch_grouped_rows(b, out, shown, nscol);
		shown = 0;
	}
	for (size_t i = 0; i < shown; i++) {
		const struct tsock *ts = b->v[i];

		if (i == 0 || ts->s.state != b->v[i - 1]->s.state) {
			size_t c = 0;
			for (size_t j = i; j < shown && b->v[j]->s.state == ts->s.state; j++)
				c++;
			fprintf(out, "%s %zu\n", st_name(ts->s.state), c);
		}
		batch_line(b, out, ts, nscol);
	}
	fputc('\n', out);
flush:
	if (fflush(out) == EOF && !b->failed) {
		b->failed = true;
		output_failed(l, errno);
	}
	if (b->o.pm)
		procmap_gc(b->o.pm);
}

static void batch_observe(void *ctx, struct loop *l, const struct obs *o)
{
	struct batch *b = ctx;

	/*
	 * One table per full dump (the tracker judges: under a state filter a
	 * full dump asks for fewer than all states); fast-lane dumps only
	 * refine the next one.
	 */
	bool full;

	if (o->kind != OBS_SNAPSHOT || !o->snap->complete || loop_quitting(l))
		return;
	full = o->snap->mono == track_last_poll(loop_track(l));
	/*
	 * The first full dump comes without tcp_info; the dump of the rare
	 * states right after it brings the kernel's clocks that date the
	 * sockets found in CLOSE_WAIT and the like. The first table waits for
	 * that next dump, whatever it is, so that it shows their ages.
	 */
	if (b->deferred) {
		b->deferred = false;
	} else if (!full) {
		return;
	} else if (!b->first_done && (o->snap->states & ST_RARE_MASK) && !o->snap->with_info) {
		b->deferred = true;
		b->first_done = true;
		return;
	}
	b->first_done = true;
	batch_table(b, l);
	if (b->o.count && ++b->printed >= b->o.count)
		loop_quit(l, 0);
}

static void batch_close(void *ctx)
{
	struct batch *b = ctx;
	free(b->v);
	free(b->gi);
	free(b->order);
	free(b->rank);
	group_tab_free(&b->gt);
	free(b);
}

static const struct sink_ops batch_ops = {
    .name = "batch",
    .observe = batch_observe,
    .close = batch_close,
};

void batch_open(struct loop *l, const struct batch_opts *o)
{
	struct batch *b = xcalloc(1, sizeof(*b));
	b->o = *o;
	/* Without --group-by the table is by state, and so are its JSON groups. */
	if (b->o.group_by < 0 || b->o.group_by >= GB_MAX)
		b->o.group_by = GB_STATE;
	if (o->cols)
		b->cols = *o->cols;
	else
		col_default(&b->cols, true);
	loop_add_sink(l, &batch_ops, b);
}

/* ---- the event stream (-e) ---- */

/*
 * One event's line, built whole before it is written: under churn the stream
 * carries tens of thousands of events a second, and a stdio call for each
 * character of each field was a tenth of tcpdwell's time.
 */
struct line {
	FILE *out;
	size_t n;
	char b[1024];
};

static void line_put(struct line *l, const char *s, size_t len)
{
	while (len) {
		size_t k = len < sizeof(l->b) - l->n ? len : sizeof(l->b) - l->n;

		memcpy(l->b + l->n, s, k);
		l->n += k;
		s += k;
		len -= k;
		if (l->n == sizeof(l->b)) {
			fwrite(l->b, 1, l->n, l->out);
			l->n = 0;
		}
	}
}

static void line_str(struct line *l, const char *s)
{
	line_put(l, s, strlen(s));
}

/* s between quotes, each of the quotes in it (q) and escape chars (e, 0: none) doubled by e or q.
 */
static void line_quoted(struct line *l, const char *s, char q, char e)
{
	line_put(l, &q, 1);
	for (;;) {
		size_t run = strcspn(s, e ? (const char[]){q, e, 0} : (const char[]){q, 0});

		line_put(l, s, run);
		s += run;
		if (!*s)
			break;
		line_put(l, e ? &e : &q, 1);
		line_put(l, s++, 1);
	}
	line_put(l, &q, 1);
}

/* Out with what is left of the line. */
static void line_end(struct line *l)
{
	fwrite(l->b, 1, l->n, l->out);
	l->n = 0;
}

/* A JSON string body: the text is sanitised already; escape what JSON needs. */
static void json_str(FILE *out, const char *s)
{
	struct line l = {.out = out, .n = 0};

	line_quoted(&l, s, '"', '\\');
	line_end(&l);
}

/* One event and what its fields are written from. */
struct ev_ctx {
	const struct track_event *ev;
	const struct owner *own; /* NULL when unknown */
	const char *ns;		 /* NULL when namespaces are not labelled */
};

/* How JSON writes a field: a string, a number or true/false; NULL when absent. */
enum ev_json { EJ_STR, EJ_NUM, EJ_BOOL };

/*
 * The JSON and CSV fields of an event, in CSV order, described once: the
 * header, the JSON keys and the values come from here. text() returns
 * false where the value is unknown (JSON null, CSV empty).
 */
struct ev_field {
	const char *name;
	enum ev_json json;
	bool (*text)(const struct ev_ctx *c, char *buf, size_t len);
	bool ns_only; /* only when namespaces are labelled (--netns) */
};

static bool f_time(const struct ev_ctx *c, char *buf, size_t len)
{
	iso_time(buf, len, c->ev->wall);
	return true;
}

static bool f_mono(const struct ev_ctx *c, char *buf, size_t len)
{
	fmt_secs(buf, len, c->ev->mono);
	return true;
}

/* A string in JSON: a 64-bit number is more than a double holds exactly. */
static bool f_cookie(const struct ev_ctx *c, char *buf, size_t len)
{
	fmt_u64(buf, len, c->ev->s.cookie);
	return true;
}

static bool f_family(const struct ev_ctx *c, char *buf, size_t len)
{
	fmt_str(buf, len, c->ev->s.family == AF_INET6 ? "inet6" : "inet");
	return true;
}

static bool f_local(const struct ev_ctx *c, char *buf, size_t len)
{
	col_addr(buf, len, c->ev->s.family, c->ev->s.src, c->ev->s.sport);
	return true;
}

static bool f_peer(const struct ev_ctx *c, char *buf, size_t len)
{
	col_addr(buf, len, c->ev->s.family, c->ev->s.dst, c->ev->s.dport);
	return true;
}

static bool f_from(const struct ev_ctx *c, char *buf, size_t len)
{
	fmt_str(buf, len, st_name(c->ev->from));
	return true;
}

static bool f_to(const struct ev_ctx *c, char *buf, size_t len)
{
	fmt_str(buf, len, st_name(c->ev->to));
	return true;
}

static bool f_dwell(const struct ev_ctx *c, char *buf, size_t len)
{
	fmt_secs(buf, len, c->ev->dwell);
	return true;
}

static bool f_dwell_kind(const struct ev_ctx *c, char *buf, size_t len)
{
	unsigned k = c->ev->dwell_kind;

	fmt_str(buf, len, k < ARRAY_SIZE(kind_names) ? kind_names[k] : "between");
	return true;
}

static bool f_jump(const struct ev_ctx *c, char *buf, size_t len)
{
	fmt_str(buf, len, c->ev->jump ? "true" : "false");
	return true;
}

static bool f_pid(const struct ev_ctx *c, char *buf, size_t len)
{
	if (c->own)
		snprintf(buf, len, "%d", c->own->pid);
	return c->own != NULL;
}

static bool f_comm(const struct ev_ctx *c, char *buf, size_t len)
{
	if (c->own)
		fmt_str(buf, len, c->own->comm);
	return c->own != NULL;
}

static bool f_netns(const struct ev_ctx *c, char *buf, size_t len)
{
	if (c->ns)
		fmt_str(buf, len, c->ns);
	return c->ns != NULL;
}

static const struct ev_field ev_fields[] = {
    {"time", EJ_STR, f_time, false},	 {"mono", EJ_NUM, f_mono, false},
    {"cookie", EJ_STR, f_cookie, false}, {"family", EJ_STR, f_family, false},
    {"local", EJ_STR, f_local, false},	 {"peer", EJ_STR, f_peer, false},
    {"from", EJ_STR, f_from, false},	 {"to", EJ_STR, f_to, false},
    {"dwell", EJ_NUM, f_dwell, false},	 {"dwell_kind", EJ_STR, f_dwell_kind, false},
    {"jump", EJ_BOOL, f_jump, false},	 {"pid", EJ_NUM, f_pid, false},
    {"comm", EJ_STR, f_comm, false},	 {"netns", EJ_STR, f_netns, true},
};

void events_print_header(FILE *out, enum ev_format fmt, const struct netns_tab *labels)
{
	if (fmt != FMT_CSV)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(ev_fields); i++)
		if (!ev_fields[i].ns_only || netns_tab_active(labels))
			fprintf(out, "%s%s", i ? "," : "", ev_fields[i].name);
	fputc('\n', out);
}

/* The JSON object or the CSV line of one event, field by field from ev_fields. */
static void print_fields(FILE *out, enum ev_format fmt, const struct ev_ctx *c)
{
	struct line l = {.out = out, .n = 0};
	bool first = true;

	if (fmt == FMT_JSON)
		line_put(&l, "{", 1);
	for (size_t i = 0; i < ARRAY_SIZE(ev_fields); i++) {
		const struct ev_field *f = &ev_fields[i];
		char buf[ADDR_BUFSZ + 64];
		bool known;

		/* A field of namespaces only is absent, not null, without them. */
		if (f->ns_only && !c->ns)
			continue;
		known = f->text(c, buf, sizeof(buf));
		if (!first)
			line_put(&l, ",", 1);
		first = false;
		if (fmt == FMT_CSV) {
			/* Quoted only when it must be, a quote doubled. */
			if (known && strpbrk(buf, ",\""))
				line_quoted(&l, buf, '"', 0);
			else if (known)
				line_str(&l, buf);
			continue;
		}
		line_put(&l, "\"", 1);
		line_str(&l, f->name);
		line_put(&l, "\":", 2);
		if (!known)
			line_put(&l, "null", 4);
		else if (f->json == EJ_STR)
			line_quoted(&l, buf, '"', '\\');
		else
			line_str(&l, buf);
	}
	line_put(&l, fmt == FMT_JSON ? "}\n" : "\n", fmt == FMT_JSON ? 2 : 1);
	line_end(&l);
}

void events_print(FILE *out, enum ev_format fmt, const struct track_event *ev,
		  const struct procmap *pm, const struct netns_tab *labels, bool utf8)
{
	const struct sock *s = &ev->s;
	struct ev_ctx c = {
	    .ev = ev,
	    .own = pm && s->inode ? procmap_lookup(pm, s->inode) : NULL,
	    .ns = netns_tab_active(labels) ? netns_label(labels, s->netns) : NULL,
	};
	struct col_ctx cc = {.pm = pm};
	char when[40], la[ADDR_BUFSZ], pa[ADDR_BUFSZ], dur[DUR_BUFSZ], own[128];

	if (fmt != FMT_TEXT) {
		print_fields(out, fmt, &c);
		return;
	}
	/* Text is for people: one sentence, not a field list. */
	f_time(&c, when, sizeof(when));
	f_local(&c, la, sizeof(la));
	f_peer(&c, pa, sizeof(pa));
	fmt_dur(dur, ev->dwell, ev->dwell_kind, utf8);
	fprintf(out, "%s %-26s %-26s %s -> %s", when, la, pa, st_name(ev->from), st_name(ev->to));
	if (ev->from != ST_CLOSE)
		fprintf(out, " after %s", dur + strspn(dur, " "));
	if (ev->jump)
		fputs(" (jump)", out);
	if (c.own)
		fprintf(out, " %s", col_owner(&cc, s, own, sizeof(own)));
	if (c.ns)
		fprintf(out, " netns %s", c.ns);
	fputc('\n', out);
}

struct events {
	struct events_opts o;
	struct loop *l;
	long printed;
	bool failed;
	bool headed;  /* the CSV header is out */
	bool pending; /* lines printed since the output was last flushed */
};

/*
 * The header waits for the first observation: a replay learns whether its
 * sockets have namespaces (a CSV column more) from its first snapshot.
 */
static void events_head(struct events *e)
{
	if (e->headed)
		return;
	e->headed = true;
	events_print_header(e->o.out, e->o.format, loop_netns(e->l));
}

static bool event_wanted(const struct events *e, const struct track_event *ev)
{
	struct sock s;

	const struct filter *f = loop_filter(e->l);

	if (!f)
		return true;
	/* A transition belongs to the filter when either of its ends does. */
	s = ev->s;
	s.state = ev->from;
	if (filter_match(f, &s))
		return true;
	s.state = ev->to;
	return filter_match(f, &s);
}

/* At once: the owner is looked for while the event waits its turn (see events_timed). */
static void events_event(void *ctx, const struct track_event *ev)
{
	struct events *e = ctx;

	if (e->o.pm && ev->s.inode && event_wanted(e, ev))
		procmap_want(e->o.pm, ev->s.inode);
}

/* In time order: a dump tells what it found late, a notice when it was read. */
static void events_timed(void *ctx, const struct track_event *ev)
{
	struct events *e = ctx;

	if (e->failed || (e->o.count && e->printed >= e->o.count) || !event_wanted(e, ev))
		return;
	events_head(e);
	events_print(e->o.out, e->o.format, ev, e->o.pm, loop_netns(e->l), e->o.utf8);
	e->printed++;
	e->pending = true;
}

/* Out to the reader at once, and the end once -c is reached. */
static void events_flush(struct events *e, struct loop *l)
{
	e->pending = false;
	if (fflush(e->o.out) == EOF && !e->failed) {
		e->failed = true;
		output_failed(l, errno);
	}
	if (e->o.count && e->printed >= e->o.count)
		loop_quit(l, 0);
}

static void events_observe(void *ctx, struct loop *l, const struct obs *o)
{
	struct events *e = ctx;

	(void)o;
	events_head(e);
	events_flush(e, l);
	if (e->o.pm)
		procmap_scan(e->o.pm, mono_ns(), 20 * NS_PER_MS);
}

/* Due when the loop has handed on lines since the last flush (events_timed). */
static int64_t events_next_due(void *ctx)
{
	return ((struct events *)ctx)->pending ? 0 : INT64_MAX;
}

static void events_tick(void *ctx, struct loop *l, int64_t now)
{
	(void)now;
	events_flush(ctx, l);
}

static void events_close(void *ctx)
{
	struct events *e = ctx;
	fflush(e->o.out);
	free(e);
}

static const struct sink_ops events_ops = {
    .name = "events",
    .observe = events_observe,
    .event = events_event,
    .timed = events_timed,
    .next_due = events_next_due,
    .tick = events_tick,
    .close = events_close,
};

void events_open(struct loop *l, const struct events_opts *o)
{
	struct events *e = xcalloc(1, sizeof(*e));

	e->o = *o;
	e->l = l;
	loop_add_sink(l, &events_ops, e);
}
