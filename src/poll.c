/* poll.c - sock_diag as sources of the loop: the full poll, the fast lane, destroy notices. */
#include "config.h"
#include "poll.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "poll_int.h"
#include "util.h"

#define MIN_INTERVAL (10 * NS_PER_MS)
#define MAX_INTERVAL (3600 * NS_PER_SEC)
/* Report a failing dump again only every so many polls: the status line, not a flood. */
#define FAIL_REPEAT 100
/*
 * A quiet box: the fast lane halves its pace after each run that found no
 * socket in a rare state while nothing changed anywhere, down to this many
 * times its interval. Every dump walks the kernel's whole hash table, empty
 * or not: 1.7 ms here even with five sockets, so 20 a second cost 4% of a
 * core doing nothing. Any change brings the lane back to its pace at once.
 */
#define FAST_QUIET_MAX 4 /* 2^4 = 16 times: 50 ms becomes 0.8 s */
/*
 * A churning box: rare states come and go faster than the lane looks (on
 * loopback a teardown takes microseconds). When, over a full poll's
 * interval, the tracker told at least CHURN_MIN changes a rare state may
 * have been part of (from destroy notices and full polls) and the lane told
 * fewer than one in CHURN_SHARE of them itself, it saw a sliver, at the
 * price of a walk through a table full of TIME_WAITs. It then slows down
 * to a probe, now and then, slower than the full poll, and changes do not
 * hurry it back (they are what it misses); an interval in which a probe
 * tells its share, or in which few changes come, does. Under 4,000
 * connections a second the lane told one change in 70 and took a third of
 * the poller's time.
 */
#define CHURN_MIN      32
#define CHURN_SHARE    20
#define FAST_CHURN_MAX 6 /* 2^6 = 64 times: 50 ms becomes 3.2 s */

struct poller;

/* One periodic dump of some states into a snapshot reused from poll to poll. */
struct lane {
	struct poller *p;
	const char *name;
	uint32_t mask;
	int64_t interval;  /* as asked */
	int64_t effective; /* as run: the fast lane stretches itself to stay in budget */
	int64_t next_due;
	int64_t last_start;
	struct snapshot sn;
	bool primed; /* sn holds a dump not yet observed (the one poll_open made) */
	double cost; /* moving average of one run, ns */
	bool stretched;
	int64_t need;	/* the interval its budget asks for */
	unsigned quiet; /* fast lane: runs in a row that found nothing new (see fast_pace) */
	bool churn;	/* fast lane: slowed because rare states pass faster than it looks */
	bool churn_said;
	uint64_t events;   /* the tracker's event count when it last looked */
	uint64_t own;	   /* fast lane: rare changes its looks told since the last full poll */
	unsigned looks;	   /* fast lane: its looks since the last full poll */
	unsigned failures; /* dumps failed in a row */
	uint64_t failed;   /* dumps failed since start, for the self-metrics */
	int last_err;
};

/* What the three sources share; freed when the last of them is closed. */
struct poller {
	struct poll_nsset ns;
	const struct filter *filter; /* the loop's, as last told (loop_set_filter) */
	double budget;
	struct lane full, fast;
	bool fast_on;
	uint64_t rare_mark; /* track_rare_events() after the last full poll */
	bool info;
	unsigned long resyncs;
	int refs;
	struct info_ring finals; /* for the detail view of a ghost */
};

static void poller_unref(struct poller *p)
{
	if (--p->refs > 0)
		return;
	poll_ns_close(&p->ns);
	snapshot_free(&p->full.sn);
	snapshot_free(&p->fast.sn);
	free(p);
}

/* "1s", "0.5s", "50ms": short, for the header. */
static void fmt_interval(char *buf, size_t len, int64_t ns)
{
	if (ns >= NS_PER_SEC)
		snprintf(buf, len, "%.3gs", (double)ns / NS_PER_SEC);
	else
		snprintf(buf, len, "%.3gms", (double)ns / NS_PER_MS);
}

static void schedule(struct lane *ln, int64_t start)
{
	int64_t next = ln->next_due + ln->effective;

	/* Woken late (a slow sink, a long dump): keep the period, do not catch up in a burst. */
	if (next < start)
		next = start + ln->effective;
	ln->last_start = start;
	ln->next_due = next;
}

static void report_failure(struct lane *ln, struct loop *l, int err)
{
	if (ln->failures == 0 || err != ln->last_err || ln->failures % FAIL_REPEAT == 0)
		loop_status(l, "%s: sock_diag dump failed: %s (%u in a row)", ln->name,
			    strerror(-err), ln->failures + 1);
	ln->failures++;
	ln->failed++;
	ln->last_err = err;
}

/* Dump and hand the snapshot on; false when the dump failed (nothing is observed then). */
static bool lane_dump(struct lane *ln, struct loop *l)
{
	int r = 0;

	if (!ln->primed)
		r = poll_ns_dump(&ln->p->ns, l, ln->mask, ln->p->filter, ln == &ln->p->full,
				 &ln->sn);
	ln->primed = false;
	if (r < 0) {
		report_failure(ln, l, r);
		return false;
	}
	if (ln->failures) {
		loop_status(l, "%s: sock_diag dumps work again after %u failures", ln->name,
			    ln->failures);
		ln->failures = 0;
	}
	/* The exact source's changes made while the dump ran come before its rows. */
	loop_sync(l);
	struct obs o = {
	    .kind = OBS_SNAPSHOT, .mono = ln->sn.mono, .wall = ln->sn.wall, .snap = &ln->sn};
	loop_observe(l, &o);
	return true;
}

/* One socket's tcp_info: the kernel's, or the final one a destroy notice brought. */
static int full_info(void *ctx, const struct sock *s, struct sock_info *out)
{
	struct poller *p = ((struct lane *)ctx)->p;
	int r = poll_ns_info(&p->ns, s, out);

	return r == 0 || !info_ring_get(&p->finals, s->cookie, out) ? r : 0;
}

/* The fast lane's interval: its own, stretched by its budget, slowed while all is quiet. */
static void fast_pace(struct lane *ln)
{
	int64_t calm = ln->interval << ln->quiet;

	ln->effective = ln->need > calm ? ln->need : calm;
	if (ln->effective > MAX_INTERVAL)
		ln->effective = MAX_INTERVAL;
}

/* Something changed (a dump or a notice told the tracker): the fast lane looks again soon. */
static void fast_wake(struct poller *p, struct loop *l, int64_t now)
{
	struct lane *ln = &p->fast;
	uint64_t ev = track_events(loop_track(l));

	if (ev == ln->events)
		return;
	ln->events = ev;
	if (!p->fast_on || !ln->quiet || ln->churn)
		return;
	ln->quiet = 0;
	fast_pace(ln);
	if (ln->next_due > now + ln->effective)
		ln->next_due = now + ln->effective;
}

static int64_t lane_next_due(void *ctx)
{
	return ((struct lane *)ctx)->next_due;
}

/*
 * After a full poll: of the changes a rare state may have been part of
 * that the tracker told since the one before, how many the fast lane told
 * (destroy notices wait for a full poll to be told: the period is the unit).
 */
static void fast_judge(struct poller *p, struct loop *l)
{
	struct lane *ln = &p->fast;
	uint64_t mark = track_rare_events(loop_track(l));
	uint64_t own = ln->own, others = mark - p->rare_mark - own;
	/* Without a look in the interval, the last verdict stands while changes come. */
	bool churn = others >= CHURN_MIN && (ln->looks ? others > own * CHURN_SHARE : ln->churn);

	p->rare_mark = mark;
	ln->own = 0;
	ln->looks = 0;
	if (!p->fast_on)
		return;
	if (churn && !ln->churn_said)
		loop_note(l,
			  "fast lane slowed: rare states pass faster than it looks (it saw %llu "
			  "of %llu changes in a poll)",
			  (unsigned long long)own, (unsigned long long)(own + others));
	ln->churn_said |= churn;
	if (!churn && ln->quiet > FAST_QUIET_MAX)
		ln->quiet = FAST_QUIET_MAX;
	ln->churn = churn;
}

static int full_run(void *ctx, struct loop *l, int64_t now)
{
	struct lane *ln = ctx;

	if (now < ln->next_due)
		return 0;
	/* New namespaces join the next full dump; vanished ones are let go. */
	poll_ns_rescan(&ln->p->ns, l, now);
	lane_dump(ln, l);
	schedule(ln, now);
	fast_judge(ln->p, l);
	fast_wake(ln->p, l, now);
	/*
	 * The dump just told the rare states too: the fast lane looks again one
	 * interval after it, not at once (the first screen waited for that look).
	 */
	if (ln->p->fast_on) {
		int64_t after = mono_ns() + ln->p->fast.effective;

		if (ln->p->fast.next_due < after)
			ln->p->fast.next_due = after;
	}
	return 0;
}

static int full_control(void *ctx, struct loop *l, enum source_ctl c, double arg)
{
	struct lane *ln = ctx;
	int64_t ns;

	(void)l;
	if (c != CTL_INTERVAL)
		return -ENOTSUP;
	if (!isfinite(arg) || arg <= 0)
		return -EINVAL;
	ns = arg * NS_PER_SEC < (double)MAX_INTERVAL ? (int64_t)(arg * NS_PER_SEC) : MAX_INTERVAL;
	if (ns < MIN_INTERVAL)
		ns = MIN_INTERVAL;
	ln->interval = ln->effective = ns;
	/* Takes effect now, not after the old period. */
	if (ln->last_start)
		ln->next_due = ln->last_start + ns;
	return 0;
}

/* The fast lane goes slower for quiet than its budget asks: quiet is the news. */
static bool quiet_paced(const struct lane *ln)
{
	return ln->quiet && (ln->interval << ln->quiet) >= ln->need;
}

static void fast_describe_into(const struct lane *ln, char *buf, size_t len)
{
	char iv[32];

	/* Slowed only while it runs slower than asked: "fast 50ms (slowed)" would contradict
	 * itself. */
	bool slowed = ln->stretched && ln->effective > ln->interval;

	fmt_interval(iv, sizeof(iv), ln->effective);
	/* Slowed past the full poll for churn, it still probes: say how often. */
	if (ln->effective >= ln->p->full.interval && !ln->churn)
		snprintf(buf, len, "fast idle%s", slowed ? " (slowed: budget)" : "");
	else
		snprintf(buf, len, "fast %s%s", iv,
			 quiet_paced(ln) ? (ln->churn ? " (churn)" : " (quiet)")
			 : slowed	 ? " (slowed: budget)"
					 : "");
}

static void full_describe(void *ctx, char *buf, size_t len)
{
	struct lane *ln = ctx;
	char iv[32], fast[64];

	char lost[48] = "";

	fmt_interval(iv, sizeof(iv), ln->interval);
	if (ln->p->resyncs)
		snprintf(lost, sizeof(lost), ", notices lost %lux", ln->p->resyncs);
	if (!ln->p->fast_on) {
		snprintf(buf, len, "poll %s%s", iv, lost);
		return;
	}
	fast_describe_into(&ln->p->fast, fast, sizeof(fast));
	snprintf(buf, len, "poll %s, %s%s", iv, fast, lost);
}

static void full_state(void *ctx, struct source_state *st)
{
	(void)ctx;
	st->says_interval = true;
}

static void lane_close(void *ctx)
{
	poller_unref(((struct lane *)ctx)->p);
}

static void lane_stats(void *ctx, struct source_stats *st)
{
	st->has = STAT_FAILURES;
	st->failures = ((struct lane *)ctx)->failed;
}

/*
 * The loop's filter changed (the view's f key): ask the kernel for the
 * states it can match from the next dump on, with its bytecode. A full
 * dump of more states than before is seen whole by the tracker at once; a
 * narrower one says nothing about the states it leaves out.
 */
static void full_refilter(void *ctx, struct loop *l, const struct filter *f)
{
	struct lane *ln = ctx;
	struct poller *p = ln->p;
	uint32_t states = f ? filter_states(f) & ST_ALL_MASK : ST_ALL_MASK;

	(void)l;
	p->filter = f;
	p->full.mask = states;
	/* The fast lane's mask only narrows: it was set up (or not) for the start's filter. */
	if (p->fast.mask)
		p->fast.mask = states & ST_RARE_MASK ? states & ST_RARE_MASK : p->fast.mask;
	poll_ns_filter_changed(&p->ns);
	/* Widening shows at the next dump, not one interval later. */
	p->full.next_due = mono_ns();
}

static int full_destroy(void *ctx, const struct sock *s)
{
	return poll_ns_destroy(&((struct lane *)ctx)->p->ns, s);
}

static const struct source_ops full_ops = {
    .name = "poll",
    .next_due = lane_next_due,
    .run = full_run,
    .control = full_control,
    .describe = full_describe,
    .refilter = full_refilter,
    .state = full_state,
    .info = full_info,
    .destroy = full_destroy,
    .stats = lane_stats,
    .close = lane_close,
};

/*
 * The fast lane's cost is its dump plus what the tracker and sinks do with
 * it; it runs no more often than that cost divided by its share of a core.
 */
static void fast_account(struct lane *ln, struct loop *l, int64_t cost)
{
	double budget = ln->p->budget;
	int64_t need;
	char iv[32];

	ln->cost = ln->cost > 0 ? 0.8 * ln->cost + 0.2 * (double)cost : (double)cost;
	need = (int64_t)(ln->cost / budget);
	ln->need = need;
	/* The pace first: the note and the header then give the interval it runs at. */
	fast_pace(ln);
	/*
	 * The interval follows the budget to the microsecond; saying so waits
	 * for a stretch of a tenth (50 ms to 50.2 ms is no news), and stops
	 * below four fifths, so that the header does not flicker.
	 */
	if (!ln->stretched && need > ln->interval + ln->interval / 10) {
		ln->stretched = true;
		fmt_interval(iv, sizeof(iv), ln->effective);
		loop_note(l, "fast lane slowed to %s to stay within %g%% of a core", iv,
			  budget * 100);
	} else if (ln->stretched && need < ln->interval * 4 / 5) {
		/* Said by the header going back to plain "fast 50ms": no news for the status line.
		 */
		ln->stretched = false;
	}
}

static int fast_run(void *ctx, struct loop *l, int64_t now)
{
	struct lane *ln = ctx;
	int64_t t0;

	if (now < ln->next_due)
		return 0;
	if (!ln->p->fast_on) {
		lane_dump(ln, l);
		ln->next_due = INT64_MAX;
		return 0;
	}
	/*
	 * No faster than the full poll: it would only repeat it. But a lane
	 * slowed that far by its budget or by churn still looks at that pace,
	 * or it would never learn that its cost fell or the churn stopped; a
	 * quiet one is woken by the first change (fast_wake).
	 */
	if (ln->effective < ln->p->full.interval || ln->churn || ln->need >= ln->p->full.interval) {
		/* CPU time, ours and the kernel's for us: a busy box's waits are not our cost. */
		const struct track *t = loop_track(l);
		uint64_t before = ln->events, rare = track_rare_events(t);
		/* The first look tells the tracker what poll_open saw: start-up's cost. */
		bool first = ln->primed;

		t0 = thread_cpu_ns();
		lane_dump(ln, l);
		if (!first)
			fast_account(ln, l, thread_cpu_ns() - t0);
		ln->events = track_events(t);
		ln->own += track_rare_events(t) - rare;
		ln->looks++;
		if (!ln->churn && (ln->sn.n || ln->events != before))
			ln->quiet = 0;
		else if (ln->quiet < (ln->churn ? FAST_CHURN_MAX : FAST_QUIET_MAX))
			ln->quiet++;
		fast_pace(ln);
	}
	schedule(ln, now);
	return 0;
}

static void fast_describe(void *ctx, char *buf, size_t len)
{
	fast_describe_into(ctx, buf, len);
}

static const struct source_ops fast_ops = {
    .name = "fast",
    .next_due = lane_next_due,
    .run = fast_run,
    .describe = fast_describe,
    .stats = lane_stats,
    .close = lane_close,
};

struct destroy_batch {
	struct loop *l;
	struct poller *p;
};

static void on_destroy(void *arg, const struct sock *s, const struct sock_info *info,
		       const struct notice_when *w)
{
	struct destroy_batch *b = arg;
	/* Stamped as read, on the reader's thread: the kernel sent it between lo and then. */
	struct obs o = {.kind = OBS_DESTROY,
			.mono = w->mono,
			.wall = w->wall,
			.lo = w->lo,
			.sock = *s,
			.info = info};

	if (info && s->cookie)
		info_ring_put(&b->p->finals, s->cookie, info);
	loop_observe(b->l, &o);
}

static int64_t destroy_next_due(void *ctx)
{
	(void)ctx;
	return INT64_MAX;
}

static int destroy_fd(void *ctx)
{
	return poll_ns_events_fd(&((struct poller *)ctx)->ns);
}

static int destroy_run(void *ctx, struct loop *l, int64_t now)
{
	struct poller *p = ctx;
	struct destroy_batch b = {.l = l, .p = p};
	int r = poll_ns_events_read(&p->ns, on_destroy, &b);

	fast_wake(p, l, now);

	if (r == -ENOBUFS) {
		/* Some sockets ended unseen: only a full dump tells what is left. */
		p->resyncs++;
		/* Said once where it is echoed; the status line and the header keep the count. */
		if (p->resyncs == 1)
			loop_status(l, "destroy notices lost, resynchronising from a full dump "
				       "(counted in the header from now on)");
		else
			loop_note(l, "destroy notices lost, resynchronising (%lu times so far)",
				  p->resyncs);
		p->full.next_due = now;
		return 0;
	}
	return r;
}

/* Notices are stamped on the reader's thread: those not taken yet may be older than now. */
static int64_t destroy_horizon(void *ctx)
{
	return poll_ns_events_horizon(&((struct poller *)ctx)->ns);
}

static void destroy_describe(void *ctx, char *buf, size_t len)
{
	struct poller *p = ctx;

	snprintf(buf, len, "destroy notices, %lu resyncs", p->resyncs);
}

static void destroy_close(void *ctx)
{
	poller_unref(ctx);
}

static void destroy_stats(void *ctx, struct source_stats *st)
{
	st->has = STAT_OVERRUNS;
	st->overruns = ((struct poller *)ctx)->resyncs;
}

static const struct source_ops destroy_ops = {
    .name = "destroy",
    .next_due = destroy_next_due,
    .fd = destroy_fd,
    .run = destroy_run,
    .horizon = destroy_horizon,
    .describe = destroy_describe,
    .stats = destroy_stats,
    .close = destroy_close,
};

static void lane_init(struct lane *ln, struct poller *p, const char *name, uint32_t mask,
		      int64_t interval)
{
	ln->p = p;
	ln->name = name;
	ln->mask = mask;
	if (interval < MIN_INTERVAL)
		interval = MIN_INTERVAL;
	ln->interval = ln->effective = interval;
	snapshot_init(&ln->sn);
	ln->sn.with_info = p->info;
}

int poll_open(struct loop *l, const struct poll_opts *o, char *err, size_t errlen)
{
	struct poller *p = xcalloc(1, sizeof(*p));
	uint32_t states = o->filter ? filter_states(o->filter) & ST_ALL_MASK : ST_ALL_MASK;
	int r;

	if (poll_ns_open(&p->ns, o, l, err, errlen) < 0) {
		poll_ns_close(&p->ns);
		free(p);
		return -1;
	}
	p->filter = o->filter;
	p->info = o->info;
	p->budget = o->fast_budget > 0 && o->fast_budget <= 1 ? o->fast_budget : 0.05;
	/* The kernel filters by state: a state no match can be in is not asked for. */
	lane_init(&p->full, p, "poll", states, o->interval_ns);
	lane_init(&p->fast, p, "fast", states & ST_RARE_MASK, o->fast_ns);
	/*
	 * The rare states come with tcp_info: the kernel's clocks bound how
	 * long a socket found already in CLOSE_WAIT has been there.
	 */
	p->fast.sn.with_info = true;

	/*
	 * The first dump now, so that a refusal is one clear error before any
	 * screen is set up. Unfiltered, its size is known about: room at once,
	 * in the snapshot and the tracker, faulted in while the kernel works.
	 */
	if (p->ns.hint)
		loop_expect(l, p->ns.hint, snapshot_expect(&p->full.sn, p->ns.hint));
	r = poll_ns_dump(&p->ns, l, p->full.mask, p->filter, true, &p->full.sn);
	if (r < 0) {
		snprintf(err, errlen, "cannot dump TCP sockets over sock_diag: %s%s", strerror(-r),
			 poll_hint(-r));
		p->refs = 1;
		poller_unref(p);
		return -1;
	}
	p->full.primed = true;
	p->full.next_due = mono_ns();

	p->refs = 1;
	loop_add_source(l, &full_ops, &p->full);
	/*
	 * Without a fast lane it still runs once, right after the first full
	 * dump, for the ages of the sockets found in rare states.
	 */
	if (p->fast.mask) {
		p->fast_on = o->fast_ns > 0;
		p->fast.next_due = p->full.next_due + (p->fast_on ? p->fast.interval : 0);
		p->refs++;
		loop_add_source(l, &fast_ops, &p->fast);
	}
	if (poll_ns_events_fd(&p->ns) >= 0) {
		p->refs++;
		loop_add_source(l, &destroy_ops, p);
	}
	return 0;
}
