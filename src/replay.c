/* replay.c - a recording as a source: the same observations again, paced, paused or sought. */
#include "config.h"
#include "replay.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "procmap.h"
#include "record_fmt.h"
#include "util.h"

#define SPEED_MIN 0.25
#define SPEED_MAX 64.0
/* Snapshots kept for the detail view's tcp_info: one per state mask (full and fast dumps). */
#define KEEP_SNAPS 4
/* How much later than its time an exact change may have been recorded (see rp_horizon). */
#define REPLAY_LATE_NS (2 * NS_PER_SEC)

struct replay {
	struct record_reader *r;
	char from[96]; /* " (SOURCE)": what recorded it, made safe for a terminal once */
	bool realtime, paused, done;
	double speed;
	int64_t t0;	    /* the recording's start on its timeline */
	int64_t begin, end; /* the window on the timeline */
	struct record_item pend;
	bool have_pend;
	int64_t anchor_real, anchor_rec; /* pacing: when, in our time, anchor_rec was due */
	int64_t pos_at, pos_wall;	 /* the last record fed */
	int64_t snap_at;		 /* the last snapshot fed */
	bool fed_snap;
	bool fed_late; /* an exact change or a notice was fed since the last reset: rp_horizon() */
	struct {
		struct snapshot sn;
		uint64_t fed; /* 0: empty */
	} kept[KEEP_SNAPS];
	uint64_t nfed;
	struct info_ring finals;
	struct procmap *owners;
};

/* A copy of a snapshot fed, replacing the one of the same state mask (or the oldest). */
static void keep_snapshot(struct replay *rp, const struct snapshot *sn)
{
	size_t k = 0;

	for (size_t i = 0; i < KEEP_SNAPS; i++) {
		if (rp->kept[i].fed && rp->kept[i].sn.states == sn->states) {
			k = i;
			break;
		}
		if (rp->kept[i].fed < rp->kept[k].fed)
			k = i;
	}
	snapshot_copy(&rp->kept[k].sn, sn);
	rp->kept[k].fed = ++rp->nfed;
}

static void forget_kept(struct replay *rp)
{
	for (size_t i = 0; i < KEEP_SNAPS; i++)
		rp->kept[i].fed = 0;
	rp->finals.n = 0;
}

/* The tcp_info the recording holds for a socket: the newest snapshot's, or its final one. */
static int rp_info(void *ctx, const struct sock *s, struct sock_info *out)
{
	struct replay *rp = ctx;
	uint64_t found = 0; /* the feed number of the snapshot it came from */

	if (!s->cookie)
		return -ENOENT;
	for (size_t k = 0; k < KEEP_SNAPS; k++) {
		const struct snapshot *sn = &rp->kept[k].sn;

		for (size_t i = 0; rp->kept[k].fed > found && i < sn->n; i++)
			if (sn->v[i].cookie == s->cookie && snapshot_info(sn, i)) {
				*out = sn->info[i];
				found = rp->kept[k].fed;
			}
	}
	return found || info_ring_get(&rp->finals, s->cookie, out) ? 0 : -ENOENT;
}

/* Damage ends the replay where it is and says so, where the user looks. */
static void report_damage(struct replay *rp, struct loop *l)
{
	char when[64] = "the start";
	struct tm tm;
	time_t t = (time_t)(rp->pos_wall / NS_PER_SEC);

	if (rp->fed_snap && localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	if (rp->realtime)
		loop_status(l, "%s; replay stops at %s", record_reader_error(rp->r), when);
	else
		fprintf(stderr, "tcpdwell: %s; replayed up to %s\n", record_reader_error(rp->r),
			when);
}

/* Make the next record pending; false at the end of the file or the window. */
static bool fetch(struct replay *rp, struct loop *l)
{
	int ret;

	if (rp->have_pend)
		return true;
	if (rp->done)
		return false;
	ret = record_reader_next(rp->r, &rp->pend);
	if (ret < 0)
		report_damage(rp, l);
	if (ret <= 0 || rp->pend.at > rp->end) {
		rp->done = true;
		return false;
	}
	rp->have_pend = true;
	return true;
}

/* A snapshot's namespace labels reach the sinks before its sockets do. */
static void take_labels(struct loop *l, const struct rsnap *ns)
{
	struct netns_tab *labels = loop_netns(l);

	if (!labels || !ns || !(ns->nsflags & RNS_PRESENT))
		return;
	for (uint32_t i = 0; i < ns->nns; i++)
		netns_tab_set(labels, ns->ns[i].idx, ns->ns[i].label);
	netns_tab_watch(labels, ns->nsflags & RNS_MULTI, ns->nns);
}

/*
 * Recorded owners go to the sinks' map. They are kept across seeks within
 * the segment: an inode names one socket while it lives.
 */
static void take_owners(struct replay *rp, const struct record_item *it)
{
	if (!rp->owners)
		return;
	if (it->type == REC_SEGMENT) {
		/* Its inodes are another boot's or another time's: their owners start over too. */
		procmap_clear(rp->owners);
		return;
	}
	for (size_t i = 0; i < it->nowners; i++)
		procmap_set(rp->owners, it->owners[i].inode, it->owners[i].pid, it->owners[i].comm);
}

/* Hand the pending record to the pipeline. */
static void feed(struct replay *rp, struct loop *l)
{
	const struct record_item *it = &rp->pend;
	struct obs o = {.mono = it->mono, .wall = it->wall};

	rp->have_pend = false;
	rp->pos_at = it->at;
	rp->pos_wall = it->wall;
	switch (it->type) {
	case REC_SEGMENT:
		/*
		 * A later writing session started with a fresh table, so does its
		 * replay; what the session before told is all told first.
		 */
		loop_flush(l);
		loop_reset(l);
		rp->fed_late = false;
		take_owners(rp, it);
		return;
	case REC_OWNER:
		take_owners(rp, it);
		return;
	case REC_KEY:
	case REC_DELTA:
		o.kind = OBS_SNAPSHOT;
		o.snap = it->snap;
		take_labels(l, it->ns);
		rp->snap_at = it->at;
		rp->fed_snap = true;
		/* Only the view asks for tcp_info: a conversion (-b, -e) copies nothing. */
		if (rp->realtime)
			keep_snapshot(rp, it->snap);
		break;
	case REC_DESTROY:
		o.kind = OBS_DESTROY;
		o.sock = it->sock;
		if (it->sock.has_info) {
			o.info = &it->info;
			if (it->sock.cookie)
				info_ring_put(&rp->finals, it->sock.cookie, &it->info);
		}
		rp->fed_late = true;
		break;
	case REC_CHANGE:
		rp->fed_late = true;
		o.kind = OBS_CHANGE;
		o.key = it->key;
		o.cookie = it->cookie;
		o.from = it->from;
		o.to = it->to;
		break;
	case REC_NOTE:
		o.kind = OBS_NOTE;
		o.note = it->note;
		break;
	case REC_LADDER:
		if (it->lad.type != SCENARIO_LADDER_SEG && it->lad.type != SCENARIO_LADDER_STATE)
			return;
		o.kind = OBS_SEGMENT;
		o.seg = &it->lad;
		o.seg_names[0] = it->lad_names[0];
		o.seg_names[1] = it->lad_names[1];
		break;
	default:
		return;
	}
	loop_observe(l, &o);
}

/* Feed up to and including the next snapshot; false when nothing was left. */
static bool feed_one_poll(struct replay *rp, struct loop *l)
{
	while (fetch(rp, l)) {
		bool snap = rp->pend.type == REC_KEY || rp->pend.type == REC_DELTA;
		feed(rp, l);
		if (snap)
			return true;
	}
	return false;
}

static void anchor(struct replay *rp, int64_t now)
{
	rp->anchor_real = now;
	rp->anchor_rec = rp->pos_at;
}

static int64_t due(const struct replay *rp)
{
	double d = (double)(rp->pend.at - rp->anchor_rec) / rp->speed;

	if (d < 0)
		d = 0;
	if (d > 1e18)
		return INT64_MAX;
	return rp->anchor_real + (int64_t)d;
}

/*
 * Go to target on the timeline: from the last epoch at or before it (or on
 * from here when that is nearer), feeding every record up to it without
 * pacing. A fresh start feeds at least the epoch's key frame.
 */
static void seek_to(struct replay *rp, struct loop *l, int64_t target)
{
	const struct record_epoch *ev, *e = NULL;
	size_t n = record_reader_epochs(rp->r, &ev, NULL, NULL);
	bool restart;

	for (size_t i = 0; i < n; i++)
		if (ev[i].mono <= target || !e)
			e = &ev[i];
	restart = target < rp->pos_at || !rp->fed_snap || (e && e->mono > rp->pos_at);
	if (restart && e) {
		loop_reset(l);
		rp->fed_late = false;
		forget_kept(rp);
		rp->have_pend = false;
		rp->done = false;
		rp->fed_snap = false;
		if (record_reader_goto(rp->r, e) < 0) {
			report_damage(rp, l);
			rp->done = true;
			return;
		}
		feed_one_poll(rp, l);
	}
	while (fetch(rp, l) && rp->pend.at <= target)
		feed(rp, l);
}

static int64_t rp_next_due(void *ctx)
{
	struct replay *rp = ctx;

	/* As fast as read; at the end too, so that run() can say it is the end. */
	if (!rp->realtime)
		return 0;
	if (rp->paused || !rp->have_pend)
		return INT64_MAX;
	return due(rp);
}

/* The recorded time now: it runs with the pacing, never past the next record nor back. */
static int64_t rp_clock(void *ctx)
{
	struct replay *rp = ctx;
	int64_t t;

	if (!rp->realtime || rp->paused || !rp->have_pend)
		return rp->pos_at;
	t = rp->anchor_rec + (int64_t)((double)(mono_ns() - rp->anchor_real) * rp->speed);
	if (t > rp->pend.at)
		t = rp->pend.at;
	return t < rp->pos_at ? rp->pos_at : t;
}

/*
 * Records come in the order they were observed. A dump was stamped as it
 * was read; a notice as its reader's thread read it, and handed on when the
 * loop took it; an exact change with the kernel's time, handed on once the
 * exact source had it in order: REPLAY_LATE_NS later at most (a connect()
 * waiting for its port, notices taken behind a dump), unless it waited for
 * its namespace's label. At the end nothing more comes.
 */
static int64_t rp_horizon(void *ctx)
{
	struct replay *rp = ctx;

	if (rp->done && !rp->have_pend)
		return INT64_MAX;
	return rp->fed_late ? rp->pos_at - REPLAY_LATE_NS : rp->pos_at;
}

static int rp_fd(void *ctx)
{
	(void)ctx;
	return -1;
}

static int rp_run(void *ctx, struct loop *l, int64_t now)
{
	struct replay *rp = ctx;

	if (!rp->realtime)
		return feed_one_poll(rp, l) ? 0 : 1;
	if (rp->paused)
		return 0;
	/* One poll per call, so that the sinks see each poll; the loop calls again when due. */
	while (fetch(rp, l) && due(rp) <= now) {
		bool snap = rp->pend.type == REC_KEY || rp->pend.type == REC_DELTA;
		feed(rp, l);
		if (snap)
			break;
	}
	if (!fetch(rp, l) && !rp->paused) {
		rp->paused = true;
		loop_status(l, "end of the recording");
	}
	return 0;
}

static int rp_control(void *ctx, struct loop *l, enum source_ctl c, double arg)
{
	struct replay *rp = ctx;
	int64_t now = mono_ns(), target;

	switch (c) {
	case CTL_PAUSE:
		rp->paused = arg != 0;
		anchor(rp, now);
		return 0;
	case CTL_STEP:
		rp->paused = true;
		if (arg > 0) {
			feed_one_poll(rp, l);
		} else if (rp->fed_snap) {
			seek_to(rp, l, rp->snap_at - 1);
		}
		fetch(rp, l);
		anchor(rp, now);
		return 0;
	case CTL_SPEED:
		if (!(arg > 0))
			return -EINVAL;
		rp->speed *= arg;
		if (rp->speed < SPEED_MIN)
			rp->speed = SPEED_MIN;
		if (rp->speed > SPEED_MAX)
			rp->speed = SPEED_MAX;
		anchor(rp, now);
		return 0;
	case CTL_SEEK:
		if (isnan(arg))
			return -EINVAL;
		target = arg <= 0 ? rp->t0 : arg >= 1e9 ? INT64_MAX : rp->t0 + (int64_t)(arg * 1e9);
		if (target < rp->begin)
			target = rp->begin;
		if (target > rp->end)
			target = rp->end;
		seek_to(rp, l, target);
		anchor(rp, now);
		return 0;
	default:
		return -ENOTSUP;
	}
}

static void rp_describe(void *ctx, char *buf, size_t len)
{
	struct replay *rp = ctx;
	char when[32] = "";
	time_t t = (time_t)(rp->pos_wall / NS_PER_SEC);
	struct tm tm;

	if (rp->fed_snap && localtime_r(&t, &tm))
		strftime(when, sizeof(when), " %Y-%m-%d %H:%M:%S", &tm);
	if (!rp->realtime) {
		snprintf(buf, len, "REPLAY%s%s", when, rp->from);
		return;
	}
	snprintf(buf, len, "REPLAY x%g%s%s%s", rp->speed, when,
		 !rp->have_pend && rp->done ? " end"
		 : rp->paused		    ? " paused"
					    : "",
		 rp->from);
}

static void rp_state(void *ctx, struct source_state *st)
{
	const struct replay *rp = ctx;

	st->replay = true;
	st->at_end = !rp->have_pend && rp->done;
	st->paused = rp->paused || st->at_end;
}

static void rp_close(void *ctx)
{
	struct replay *rp = ctx;

	record_reader_close(rp->r);
	for (size_t i = 0; i < KEEP_SNAPS; i++)
		snapshot_free(&rp->kept[i].sn);
	free(rp);
}

static const struct source_ops replay_source = {
    .name = "replay",
    .next_due = rp_next_due,
    .fd = rp_fd,
    .clock = rp_clock,
    .horizon = rp_horizon,
    .info = rp_info,
    .run = rp_run,
    .control = rp_control,
    .describe = rp_describe,
    .state = rp_state,
    .close = rp_close,
};

/* Skip to the first full snapshot at or after begin, decoding but not feeding what precedes. */
static void skip_to_begin(struct replay *rp, struct loop *l)
{
	const struct record_epoch *ev, *e = NULL;
	size_t n = record_reader_epochs(rp->r, &ev, NULL, NULL);
	uint32_t seen = 0;

	for (size_t i = 0; i < n; i++)
		if (ev[i].mono <= rp->begin)
			e = &ev[i];
	int ret;

	if (e && record_reader_goto(rp->r, e) < 0) {
		report_damage(rp, l);
		rp->done = true;
		return;
	}
	while ((ret = record_reader_next(rp->r, &rp->pend)) == 1) {
		const struct record_item *it = &rp->pend;
		bool snap = it->type == REC_KEY || it->type == REC_DELTA;
		if (snap && it->at >= rp->begin && (it->snap->states | seen) == it->snap->states) {
			rp->have_pend = true;
			return;
		}
		if (snap)
			seen |= it->snap->states;
		/* What is skipped still names owners for what follows. */
		if (it->type == REC_OWNER || it->type == REC_SEGMENT)
			take_owners(rp, it);
	}
	if (ret < 0)
		report_damage(rp, l);
	rp->done = true;
}

int replay_open(struct loop *l, const char *path, const struct replay_opts *o, char *err,
		size_t errlen)
{
	struct record_reader *r = record_reader_open(path, err, errlen);
	const struct record_seg *seg;
	struct replay *rp;
	int64_t off;

	if (!r)
		return -1;
	seg = record_reader_first_seg(r);
	rp = xcalloc(1, sizeof(*rp));
	rp->r = r;
	/* The source that recorded it (poll-bounded or exact times), from the file: sanitised. */
	if (seg->source[0]) {
		char clean[80];

		sanitize(clean, sizeof(clean), seg->source, (size_t)-1);
		snprintf(rp->from, sizeof(rp->from), " (%s)", clean);
	}
	rp->realtime = o->realtime;
	rp->owners = o->owners;
	rp->speed = o->speed >= SPEED_MIN && o->speed <= SPEED_MAX ? o->speed : 1.0;
	rp->t0 = seg->start_mono + seg->shift;
	rp->begin = INT64_MIN;
	rp->end = INT64_MAX;
	rp->pos_at = rp->t0;
	rp->pos_wall = seg->start_wall;
	if (o->begin) {
		if (replay_parse_time(o->begin, seg->start_wall, &off) < 0) {
			snprintf(err, errlen, "--begin '%s': not a time (try 90, 1m30s, 10:03:04)",
				 o->begin);
			goto fail;
		}
		rp->begin = sat_add(rp->t0, off > 0 ? off : 0);
	}
	if (o->end) {
		if (replay_parse_time(o->end, seg->start_wall, &off) < 0) {
			snprintf(err, errlen, "--end '%s': not a time (try 90, 1m30s, 10:03:04)",
				 o->end);
			goto fail;
		}
		rp->end = sat_add(rp->t0, off);
		if (rp->end < rp->begin) {
			snprintf(err, errlen, "--end '%s' comes before --begin '%s'", o->end,
				 o->begin ? o->begin : "0");
			goto fail;
		}
	}
	if (o->begin)
		skip_to_begin(rp, l);
	if (fetch(rp, l))
		rp->pos_at = rp->pend.at;
	anchor(rp, mono_ns());
	loop_add_source(l, &replay_source, rp);
	return 0;
fail:
	record_reader_close(r);
	free(rp);
	return -1;
}
