/* unit_track - the tracker on synthetic dumps, destroy notices and exact changes (no I/O). */
#include "config.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "track.h"
#include "track_tab.h"

#define S(x)	 ((int64_t)(x)*NS_PER_SEC)
#define MS(x)	 ((int64_t)(x)*NS_PER_MS)
#define WALL_OFF S(1700000000)

/* Every event a test saw, in order. */
static struct track_event evs[4096];
static size_t nev, nev_total;

static void on_event(void *arg, const struct track_event *ev)
{
	(void)arg;
	if (nev < ARRAY_SIZE(evs))
		evs[nev++] = *ev;
	nev_total++;
}

static struct track *new_track(void)
{
	struct track_opts o = {
	    .ghost_ns = S(3),
	    .fin_timeout_ns = S(60),
	    .universe = ST_ALL_MASK,
	    .max_hist = 16,
	};
	struct track *t = track_new(&o);

	track_listen(t, on_event, NULL);
	nev = nev_total = 0;
	return t;
}

/* 127.0.0.1:sport -> 127.0.0.2:dport, cookie, state. */
static struct sock mk(uint64_t cookie, unsigned st, uint16_t sport, uint16_t dport)
{
	struct sock s = {0};

	s.cookie = cookie;
	s.family = AF_INET;
	s.state = (uint8_t)st;
	s.sport = sport;
	s.dport = dport;
	s.src[0] = 127;
	s.src[3] = 1;
	s.dst[0] = 127;
	s.dst[3] = 2;
	s.inode = (uint32_t)(1000 + cookie);
	return s;
}

static struct sock mk_tw(uint64_t cookie, uint16_t sport, uint16_t dport, uint32_t left_ms)
{
	struct sock s = mk(cookie, ST_TIME_WAIT, sport, dport);

	s.timer = TM_TIMEWAIT;
	s.expires_ms = left_ms;
	s.inode = 0;
	return s;
}

static struct sock_key key_of(const struct sock *s)
{
	struct sock_key k;

	sock_key(s, &k);
	return k;
}

/* Apply a dump of n sockets taken at mono, asking for states, covering namespaces cov. */
static void dump_cov(struct track *t, int64_t mono, uint32_t states, const uint32_t *cov,
		     size_t ncov, const struct sock *v, size_t n)
{
	struct snapshot sn;

	snapshot_init(&sn);
	sn.mono = mono;
	sn.wall = mono + WALL_OFF;
	sn.states = states;
	sn.complete = true;
	for (size_t i = 0; i < ncov; i++)
		snapshot_cover(&sn, cov[i]);
	for (size_t i = 0; i < n; i++)
		*snapshot_push(&sn) = v[i];
	track_apply(t, &sn);
	snapshot_free(&sn);
}

/* Apply a dump of n sockets taken at mono, asking for states. */
static void dump(struct track *t, int64_t mono, uint32_t states, const struct sock *v, size_t n)
{
	dump_cov(t, mono, states, NULL, 0, v, n);
}

#define FULL(t, mono, ...)                                                                         \
	do {                                                                                       \
		struct sock v_[] = {__VA_ARGS__};                                                  \
		dump(t, mono, ST_ALL_MASK, v_, ARRAY_SIZE(v_));                                    \
	} while (0)

static void full_empty(struct track *t, int64_t mono)
{
	dump(t, mono, ST_ALL_MASK, NULL, 0);
}

/* A destroy notice read at mono, its queue's last empty time unknown. */
static void notice(struct track *t, const struct sock *s, int64_t mono, int64_t wall)
{
	track_destroyed(t, s, 0, mono, -1, wall);
}

/* The destroy notice of a socket never dumped: closed, no inode, the usual addresses. */
static void notice_of(struct track *t, uint64_t cookie, uint16_t sport, uint16_t dport,
		      int64_t mono)
{
	struct sock s = mk(cookie, ST_CLOSE, sport, dport);

	s.inode = 0;
	notice(t, &s, mono, 0);
}

/* The event at i is from -> to at mono. */
static bool ev_is(size_t i, uint64_t cookie, unsigned from, unsigned to, int64_t mono)
{
	return i < nev && evs[i].s.cookie == cookie && evs[i].from == from && evs[i].to == to &&
	       evs[i].mono == mono && evs[i].wall == mono + WALL_OFF;
}

/* Appearance, then a change seen between two polls: dwell and its window. */
static void test_transition(void)
{
	struct track *t = new_track();
	const struct tsock *ts;

	FULL(t, S(1), mk(1, ST_LISTEN, 80, 0));
	CHECK(nev == 0);
	FULL(t, S(2), mk(1, ST_LISTEN, 80, 0), mk(2, ST_ESTABLISHED, 80, 5000));
	CHECK(nev == 1 && ev_is(0, 2, ST_CLOSE, ST_ESTABLISHED, S(2)));
	/* An appearance in ESTABLISHED skipped the handshake: a jump, as everything track_legal
	 * refuses. */
	CHECK(evs[0].jump && evs[0].dwell == 0 && evs[0].dwell_kind == TIME_BETWEEN);
	ts = track_find(t, 2);
	CHECK(ts && ts->since == S(2) && ts->since_lo == S(1) && ts->since_kind == TIME_BETWEEN);
	CHECK(ts && (ts->flags & TS_NEW) && ts->prev_state == ST_CLOSE && ts->first_seen == S(2));

	FULL(t, S(3), mk(1, ST_LISTEN, 80, 0), mk(2, ST_CLOSE_WAIT, 80, 5000));
	CHECK(nev == 2 && ev_is(1, 2, ST_ESTABLISHED, ST_CLOSE_WAIT, S(3)));
	CHECK(evs[1].dwell == S(1) && evs[1].dwell_kind == TIME_BETWEEN && !evs[1].jump);
	CHECK(evs[1].ts == track_find(t, 2));
	CHECK(ts == track_find(t, 2)); /* the entry did not move */
	CHECK(ts->s.state == ST_CLOSE_WAIT && ts->since == S(3) && ts->since_lo == S(2));
	CHECK(ts->prev_state == ST_ESTABLISHED && ts->changed == S(3) && !(ts->flags & TS_JUMP));
	CHECK(ts->nhist == 1 && ts->hist[0].state == ST_ESTABLISHED && ts->hist[0].enter == S(2) &&
	      ts->hist[0].dwell == S(1) && ts->hist[0].kind == TIME_BETWEEN);
	CHECK(track_count(t, ST_CLOSE_WAIT) == 1 && track_count(t, ST_ESTABLISHED) == 0);
	CHECK(track_count(t, ST_LISTEN) == 1 && track_alive(t) == 2 && track_size(t) == 2);
	CHECK(track_last_poll(t) == S(3) && track_wall(t, S(5)) == S(5) + WALL_OFF);

	/* The listener was there at start: its dwell is a lower bound. */
	ts = track_find(t, 1);
	CHECK(ts && ts->since_kind == TIME_ATLEAST && ts->since == S(1) && !(ts->flags & TS_NEW));
	CHECK(ts && ts->prev_state == ST_UNKNOWN);
	track_free(t);
}

/* ESTABLISHED seen, then TIME_WAIT: reported as observed, marked a jump, entry from the timer. */
static void test_jump(void)
{
	struct track *t = new_track();
	const struct tsock *ts;

	full_empty(t, S(1));
	FULL(t, S(2), mk(5, ST_ESTABLISHED, 4000, 80), mk(6, ST_ESTABLISHED, 4001, 80));
	nev = 0;
	FULL(t, S(3), mk_tw(5, 4000, 80, 59600), mk(6, ST_LAST_ACK, 4001, 80));
	CHECK(nev == 2);
	/* 60 s - 59.6 s left: entered 0.4 s before the dump. */
	CHECK(ev_is(0, 5, ST_ESTABLISHED, ST_TIME_WAIT, S(3) - MS(400)));
	CHECK(evs[0].jump && evs[0].dwell == S(1) - MS(400) && evs[0].dwell_kind == TIME_BETWEEN);
	ts = track_find(t, 5);
	CHECK(ts && (ts->flags & TS_JUMP) && ts->since_kind == TIME_EXACT);
	CHECK(ts && ts->since == S(3) - MS(400) && ts->since_lo == ts->since);
	/* Without a timer: the window of two polls. */
	CHECK(ev_is(1, 6, ST_ESTABLISHED, ST_LAST_ACK, S(3)) && evs[1].jump);
	CHECK(track_find(t, 6)->since_kind == TIME_BETWEEN && track_find(t, 6)->since_lo == S(2));

	/* A timer that claims more than the window allows is held to it. */
	FULL(t, S(4), mk_tw(5, 4000, 80, 59600), mk_tw(6, 4001, 80, 1000));
	CHECK(nev == 3 && ev_is(2, 6, ST_LAST_ACK, ST_TIME_WAIT, S(3)) && evs[2].jump);
	CHECK(track_find(t, 6)->since == S(3) && track_find(t, 6)->since_kind == TIME_EXACT);
	/* No invented states in between: the history holds what was seen. */
	CHECK(track_find(t, 6)->nhist == 2 && track_find(t, 6)->hist[1].state == ST_LAST_ACK);
	CHECK(track_count(t, ST_TIME_WAIT) == 2);
	track_free(t);
}

/* Gone only after two full dumps without it; a ghost until the ghost time passes. */
static void test_ghost(void)
{
	struct track *t = new_track();
	const struct tsock *ts;

	FULL(t, S(1), mk(1, ST_CLOSE_WAIT, 80, 5000), mk(2, ST_LISTEN, 80, 0));
	FULL(t, S(2), mk(2, ST_LISTEN, 80, 0));
	ts = track_find(t, 1);
	CHECK(nev == 0 && ts && ts->missing == 1 && (ts->flags & TS_MISSING));
	CHECK(track_alive(t) == 2 && track_count(t, ST_CLOSE_WAIT) == 1);
	FULL(t, S(3), mk(2, ST_LISTEN, 80, 0));
	CHECK(nev == 1 && ev_is(0, 1, ST_CLOSE_WAIT, ST_CLOSE, S(2)));
	/* Polls saw CLOSE_WAIT, then nothing: LAST_ACK may have come between. */
	CHECK(evs[0].dwell == S(1) && evs[0].dwell_kind == TIME_ATLEAST && evs[0].jump);
	CHECK(ts == track_find(t, 1) && (ts->flags & TS_GHOST) && !(ts->flags & TS_MISSING));
	CHECK(ts->gone == S(2) && ts->s.state == ST_CLOSE_WAIT);
	CHECK(track_alive(t) == 1 && track_size(t) == 2 && track_count(t, ST_CLOSE_WAIT) == 0);

	/* A ghost neither misses nor goes again. */
	FULL(t, S(4), mk(2, ST_LISTEN, 80, 0));
	CHECK(nev == 1);
	track_expire(t, S(5) - 1);
	CHECK(track_find(t, 1) != NULL && track_size(t) == 2);
	/* A dump begun before the end that still holds it changes nothing. */
	dump(t, S(2) - 1, ST_ALL_MASK, &(struct sock){.cookie = 1, .state = ST_CLOSE_WAIT}, 1);
	CHECK(nev == 1 && (ts->flags & TS_GHOST));
	track_expire(t, S(5));
	CHECK(track_find(t, 1) == NULL && track_size(t) == 1 && track_alive(t) == 1);
	track_free(t);
}

/*
 * Ghosts end in the order of their end times, whatever the order they went
 * in, and each at its own time: expiry looks only at the ones due.
 */
static void test_ghost_order(void)
{
	enum { N = 200 };
	struct track *t = new_track();
	int64_t end[N];

	for (unsigned i = 0; i < N; i++) {
		struct sock s = mk(0, ST_SYN_SENT, (uint16_t)(10000 + i), 80);
		struct sock_key k = key_of(&s);

		/* End times out of order: a stride through the range. */
		end[i] = S(10) + MS((i * 37) % N);
		track_changed(t, &k, 0, ST_CLOSE, ST_SYN_SENT, S(1) + i, 0);
		track_changed(t, &k, 0, ST_SYN_SENT, ST_CLOSE, end[i], 0);
	}
	CHECK(track_size(t) == N && track_alive(t) == 0);
	for (int64_t now = S(12); now <= S(14); now += MS(7)) {
		size_t want = 0;

		track_expire(t, now);
		for (unsigned i = 0; i < N; i++)
			if (now - end[i] < S(3))
				want++;
		CHECK(track_size(t) == want);
	}
	CHECK(track_size(t) == 0);
	track_free(t);
}

/* --ghost 0: nothing gone is shown, yet the tracker keeps it long enough to join late news. */
static void test_ghost_zero(void)
{
	struct track_opts o = {.ghost_ns = 0, .fin_timeout_ns = S(60), .max_hist = 16};
	struct track *t = track_new(&o);
	const struct tsock *ts;

	track_listen(t, on_event, NULL);
	nev = nev_total = 0;
	FULL(t, S(1), mk(1, ST_ESTABLISHED, 80, 5000), mk(2, ST_LISTEN, 80, 0));
	FULL(t, S(2), mk(2, ST_LISTEN, 80, 0));
	FULL(t, S(3), mk(2, ST_LISTEN, 80, 0));
	ts = track_find(t, 1);
	CHECK(nev == 1 && ts && (ts->flags & TS_GHOST));
	CHECK(!track_ghost_shown(t, ts, S(3)) && track_ghost_shown(t, track_find(t, 2), S(3)));
	/* A late notice of the same socket is the same history: no second end. */
	notice(t, &(struct sock){.cookie = 1, .state = ST_ESTABLISHED}, S(3), 0);
	CHECK(nev == 1);
	track_expire(t, S(2) + TRACK_KEEP_NS);
	CHECK(track_find(t, 1) == NULL);
	track_free(t);
}

/* A ghost back in a later dump (the dumps missed it twice): it appears again, history kept. */
static void test_resurrect(void)
{
	struct track *t = new_track();
	const struct tsock *ts;

	FULL(t, S(1), mk(1, ST_ESTABLISHED, 80, 5000));
	full_empty(t, S(2));
	full_empty(t, S(3));
	CHECK(nev == 1 && ev_is(0, 1, ST_ESTABLISHED, ST_CLOSE, S(2)));
	FULL(t, S(4), mk(1, ST_ESTABLISHED, 80, 5000));
	CHECK(nev == 2 && ev_is(1, 1, ST_CLOSE, ST_ESTABLISHED, S(4)));
	ts = track_find(t, 1);
	CHECK(ts && !(ts->flags & TS_GHOST) && ts->gone == 0 && ts->since_lo == S(2));
	CHECK(ts && ts->nhist == 1 && ts->hist[0].dwell == S(1) && track_alive(t) == 1);
	/* It left the ghost list: expiry does not take it. */
	track_expire(t, S(10));
	CHECK(track_find(t, 1) == ts && track_count(t, ST_ESTABLISHED) == 1);
	track_free(t);
}

/* Missing from one dump and back in the next: it simply goes on. */
static void test_missing_once(void)
{
	struct track *t = new_track();
	const struct tsock *ts;

	FULL(t, S(1), mk(1, ST_ESTABLISHED, 80, 5000));
	full_empty(t, S(2));
	FULL(t, S(3), mk(1, ST_ESTABLISHED, 80, 5000));
	ts = track_find(t, 1);
	CHECK(nev == 0 && ts && ts->missing == 0 && !(ts->flags & (TS_MISSING | TS_GHOST)));
	CHECK(ts && ts->since == S(1) && ts->nhist == 0);
	/* The count starts over: one more miss is not yet gone. */
	full_empty(t, S(4));
	CHECK(nev == 0 && ts->missing == 1 && track_alive(t) == 1);
	track_free(t);
}

/* The same cookie twice in one dump: one socket, the later row wins. */
static void test_duplicate(void)
{
	struct track *t = new_track();
	struct sock a = mk(1, ST_ESTABLISHED, 80, 5000), b = a;

	full_empty(t, S(1));
	b.rqueue = 77;
	FULL(t, S(2), a, b);
	CHECK(nev == 1 && ev_is(0, 1, ST_CLOSE, ST_ESTABLISHED, S(2)));
	CHECK(track_size(t) == 1 && track_count(t, ST_ESTABLISHED) == 1);
	CHECK(track_find(t, 1)->s.rqueue == 77);
	a.rqueue = 5;
	FULL(t, S(3), b, a);
	CHECK(nev == 1 && track_size(t) == 1 && track_find(t, 1)->s.rqueue == 5);
	track_free(t);
}

/* At start-up: lower bounds, or exact entry times where a kernel timer tells. */
static void test_baseline(void)
{
	struct track *t = new_track();
	struct sock orphan = mk(3, ST_FIN_WAIT2, 4002, 80), held = mk(4, ST_FIN_WAIT2, 4003, 80);
	const struct tsock *ts;

	orphan.inode = 0;
	orphan.timer = TM_TIMEWAIT;
	orphan.expires_ms = 50000;
	FULL(t, S(100), mk(1, ST_ESTABLISHED, 80, 5000), mk_tw(2, 4001, 80, 45000), orphan, held);
	CHECK(nev == 0 && track_alive(t) == 4);
	ts = track_find(t, 1);
	CHECK(ts->since_kind == TIME_ATLEAST && ts->since == S(100) && ts->changed == 0);
	ts = track_find(t, 2);
	CHECK(ts->since_kind == TIME_EXACT && ts->since == S(85));
	ts = track_find(t, 3);
	CHECK(ts->since_kind == TIME_EXACT && ts->since == S(90));
	ts = track_find(t, 4); /* a FIN_WAIT_2 after shutdown() has no timer */
	CHECK(ts->since_kind == TIME_ATLEAST && ts->since == S(100));

	/* A dwell that began before us stays a lower bound. */
	FULL(t, S(101), mk(1, ST_CLOSE_WAIT, 80, 5000), mk_tw(2, 4001, 80, 44000), orphan, held);
	CHECK(nev == 1 && ev_is(0, 1, ST_ESTABLISHED, ST_CLOSE_WAIT, S(101)));
	CHECK(evs[0].dwell == S(1) && evs[0].dwell_kind == TIME_ATLEAST);
	CHECK(track_find(t, 1)->hist[0].kind == TIME_ATLEAST);
	track_free(t);
}

/* A request socket's established child has a new cookie: one history, one transition. */
static void test_synrecv_link(void)
{
	struct track *t = new_track();
	struct sock req = mk(10, ST_SYN_RECV, 80, 5555), child = mk(11, ST_ESTABLISHED, 80, 5555);
	const struct tsock *ts;

	req.inode = 0;
	req.timer = TM_RETRANS;
	FULL(t, S(1), mk(1, ST_LISTEN, 80, 0));
	FULL(t, S(2), mk(1, ST_LISTEN, 80, 0), req);
	CHECK(nev == 1 && ev_is(0, 10, ST_CLOSE, ST_SYN_RECV, S(2)));
	FULL(t, S(3), mk(1, ST_LISTEN, 80, 0), child);
	CHECK(nev == 2 && ev_is(1, 11, ST_SYN_RECV, ST_ESTABLISHED, S(3)) && !evs[1].jump);
	CHECK(evs[1].dwell == S(1));
	CHECK(track_find(t, 10) == NULL);
	ts = track_find(t, 11);
	CHECK(ts && ts->nhist == 1 && ts->hist[0].state == ST_SYN_RECV && ts->first_seen == S(2));
	CHECK(track_size(t) == 2 && track_count(t, ST_SYN_RECV) == 0);
	FULL(t, S(4), mk(1, ST_LISTEN, 80, 0), child);
	FULL(t, S(5), mk(1, ST_LISTEN, 80, 0), child);
	CHECK(nev == 2 && track_size(t) == 2);

	/* A new request on another 4-tuple is not linked to this child. */
	req = mk(12, ST_SYN_RECV, 80, 5556);
	FULL(t, S(6), mk(1, ST_LISTEN, 80, 0), child, req);
	CHECK(nev == 3 && ev_is(2, 12, ST_CLOSE, ST_SYN_RECV, S(6)) && track_size(t) == 3);
	track_free(t);
}

/* A dump of the rare states only adds and updates: absence there means nothing. */
static void test_fastlane(void)
{
	struct track *t = new_track();
	struct sock a = mk(1, ST_ESTABLISHED, 4000, 80), b = mk(2, ST_FIN_WAIT1, 4001, 80);
	const struct tsock *ts;

	FULL(t, S(1), a, b);
	dump(t, S(1) + MS(50), ST_RARE_MASK, NULL, 0);
	dump(t, S(1) + MS(100), ST_RARE_MASK, NULL, 0);
	CHECK(nev == 0 && track_find(t, 1)->missing == 0 && track_find(t, 2)->missing == 0);
	CHECK(track_last_poll(t) == S(1));
	a.state = ST_FIN_WAIT1;
	dump(t, S(1) + MS(150), ST_RARE_MASK, &a, 1);
	CHECK(nev == 1 && ev_is(0, 1, ST_ESTABLISHED, ST_FIN_WAIT1, S(1) + MS(150)));
	/* The fast dump before would have shown FIN_WAIT_1: the window starts there. */
	ts = track_find(t, 1);
	CHECK(ts->since_lo == S(1) + MS(100) && ts->since_kind == TIME_BETWEEN);
	a.state = ST_FIN_WAIT2;
	FULL(t, S(2), a);
	CHECK(nev == 2 && ev_is(1, 1, ST_FIN_WAIT1, ST_FIN_WAIT2, S(2)));
	CHECK(evs[1].dwell == S(2) - S(1) - MS(150));
	CHECK(track_find(t, 2)->missing == 1 && track_alive(t) == 2);
	track_free(t);
}

/* With a state filter every lane asks for less than the universe: the widest dump is full. */
static void test_filtered_universe(void)
{
	struct track *t = new_track();
	uint32_t est = ST_MASK(ST_ESTABLISHED);
	struct sock a = mk(1, ST_ESTABLISHED, 4000, 80);

	dump(t, S(1), est, &a, 1);
	dump(t, S(2), est, NULL, 0);
	CHECK(track_find(t, 1)->missing == 1 && track_last_poll(t) == S(2));
	/* A narrower dump than that (a fast lane of nothing) says nothing. */
	dump(t, S(2) + MS(50), 0, NULL, 0);
	CHECK(nev == 0 && track_find(t, 1)->missing == 1);
	dump(t, S(3), est, NULL, 0);
	CHECK(nev == 1 && ev_is(0, 1, ST_ESTABLISHED, ST_CLOSE, S(2)));
	track_free(t);
}

/* Destroy notice of a socket that cannot be bound for TIME_WAIT: gone now, exactly. */
static void test_destroy_known(void)
{
	struct track *t = new_track();
	struct sock a = mk(1, ST_LAST_ACK, 80, 5000), n = mk(1, ST_CLOSE, 80, 5000);
	const struct tsock *ts;

	full_empty(t, S(1));
	FULL(t, S(2), a);
	n.has_info = 1;
	notice(t, &n, S(2) + MS(300), S(2) + MS(300) + WALL_OFF);
	/* LAST_ACK has no other way out: one step, though only a notice told it. */
	CHECK(nev == 2 && ev_is(1, 1, ST_LAST_ACK, ST_CLOSE, S(2) + MS(300)) && !evs[1].jump);
	CHECK(evs[1].dwell == MS(300) && evs[1].dwell_kind == TIME_BETWEEN);
	ts = track_find(t, 1);
	CHECK(ts && (ts->flags & TS_GHOST) && ts->gone == S(2) + MS(300));
	CHECK(track_alive(t) == 0 && track_count(t, ST_LAST_ACK) == 0);
	/* Later dumps without it, or a second notice: no second end. */
	full_empty(t, S(3));
	full_empty(t, S(4));
	notice(t, &n, S(4), S(4) + WALL_OFF);
	CHECK(nev == 2);
	track_free(t);
}

/* The full socket is freed on its way to TIME_WAIT: not gone; the next dump decides. */
static void test_destroy_tw_bound(void)
{
	struct track *t = new_track();
	struct sock a = mk(1, ST_FIN_WAIT2, 4000, 80), b = mk(2, ST_ESTABLISHED, 4001, 80);
	struct sock na = mk(1, ST_CLOSE, 4000, 80), nb = mk(2, ST_CLOSE, 4001, 80);
	const struct tsock *ts;

	FULL(t, S(1), b);
	FULL(t, S(2), a, b);
	nev = 0;
	notice(t, &na, S(2) + MS(250), 0);
	notice(t, &nb, S(2) + MS(500), 0);
	CHECK(nev == 0 && track_alive(t) == 2 && !(track_find(t, 1)->flags & TS_GHOST));
	/* A dump begun before the notices says nothing about them. */
	full_empty(t, S(2) + MS(200));
	CHECK(nev == 0 && track_find(t, 1)->missing == 0 && track_find(t, 2)->missing == 0);
	FULL(t, S(3), mk_tw(1, 4000, 80, 59500));
	CHECK(nev == 2);
	/*
	 * The TIME_WAIT began when the full socket ended: its timer says when,
	 * the notice only that it was before the notice was read.
	 */
	CHECK(ev_is(0, 1, ST_FIN_WAIT2, ST_TIME_WAIT, S(2) + MS(500)) && !evs[0].jump);
	CHECK(evs[0].dwell == MS(500) && evs[0].dwell_kind == TIME_BETWEEN);
	ts = track_find(t, 1);
	CHECK(ts->since_kind == TIME_EXACT && ts->since == S(2) + MS(500) &&
	      ts->since_lo == ts->since);
	/* The other was not in the dump after its end: gone then, at once. */
	CHECK(ev_is(1, 2, ST_ESTABLISHED, ST_CLOSE, S(2) + MS(500)) && evs[1].jump);
	CHECK(evs[1].dwell_kind == TIME_ATLEAST && (track_find(t, 2)->flags & TS_GHOST));
	FULL(t, S(4), mk_tw(1, 4000, 80, 58500));
	FULL(t, S(5), mk_tw(1, 4000, 80, 57500));
	CHECK(nev == 2 && track_count(t, ST_TIME_WAIT) == 1);
	track_free(t);
}

/* A socket that lived and died between polls: UNKNOWN -> CLOSED, or its TIME_WAIT appears. */
static void test_destroy_unknown(void)
{
	struct track *t = new_track();
	struct sock n1 = mk(99, ST_CLOSE, 4000, 80), n2 = mk(98, ST_CLOSE, 4001, 80);
	const struct tsock *ts;

	full_empty(t, S(1));
	notice(t, &n1, S(1) + MS(100), 0);
	notice(t, &n2, S(1) + MS(200), 0);
	CHECK(nev == 0 && track_size(t) == 0 && track_find(t, 99) == NULL);
	FULL(t, S(2), mk_tw(98, 4001, 80, 59000));
	CHECK(nev == 2);
	CHECK(ev_is(0, 98, ST_CLOSE, ST_TIME_WAIT, S(1)) && evs[0].jump);
	CHECK(track_find(t, 98)->since_kind == TIME_EXACT && (track_find(t, 98)->flags & TS_NEW));
	CHECK(ev_is(1, 99, ST_UNKNOWN, ST_CLOSE, S(1) + MS(100)) && evs[1].jump);
	CHECK(evs[1].dwell == 0 && evs[1].dwell_kind == TIME_ATLEAST);
	ts = track_find(t, 99);
	CHECK(ts && ts->s.state == ST_CLOSE && ts->gone == S(1) + MS(100));
	CHECK(ts && ts->flags == (TS_NEW | TS_GHOST) && ts->prev_state == ST_UNKNOWN);
	CHECK(track_size(t) == 2 && track_alive(t) == 1 && track_count(t, ST_CLOSE) == 0);
	full_empty(t, S(3));
	CHECK(nev == 2);
	track_expire(t, S(1) + MS(100) + S(3));
	CHECK(track_find(t, 99) == NULL && track_find(t, 98) != NULL);
	track_free(t);
}

/*
 * What the fast lane could have seen (its churn judgement, poll.c): changes
 * into or out of a rare state, jumps, and lives first seen at their end; a
 * TIME_WAIT's end is none of these.
 */
static void test_rare_events(void)
{
	struct track *t = new_track();
	struct sock n = mk(9, ST_CLOSE, 4002, 80);

	FULL(t, S(1), mk(1, ST_LISTEN, 80, 0), mk_tw(5, 4000, 80, 500),
	     mk(6, ST_ESTABLISHED, 4001, 80));
	FULL(t, S(2), mk(1, ST_LISTEN, 80, 0), mk(6, ST_ESTABLISHED, 4001, 80));
	FULL(t, S(3), mk(1, ST_LISTEN, 80, 0), mk(6, ST_ESTABLISHED, 4001, 80));
	CHECK(nev == 1 && evs[0].from == ST_TIME_WAIT && evs[0].to == ST_CLOSE && !evs[0].jump);
	CHECK(track_events(t) == 1 && track_rare_events(t) == 0);
	notice(t, &n, S(3) + MS(100), 0);
	FULL(t, S(4), mk(1, ST_LISTEN, 80, 0), mk(6, ST_CLOSE_WAIT, 4001, 80));
	CHECK(nev == 3 && track_rare_events(t) == 2);
	FULL(t, S(5), mk(1, ST_LISTEN, 80, 0), mk(6, ST_CLOSE_WAIT, 4001, 80),
	     mk(7, ST_ESTABLISHED, 4003, 80));
	CHECK(nev == 4 && evs[3].jump && track_rare_events(t) == 3);
	track_free(t);
}

/*
 * Under churn a 4-tuple comes back within seconds: a life that began and
 * ended between two polls on the 4-tuple of a socket that just went is
 * still reported, by its notice, never taken for the ghost before it.
 */
static void test_reuse_short_life(void)
{
	struct track *t = new_track();
	const struct tsock *ts;

	FULL(t, S(1), mk(2, ST_LISTEN, 80, 0));
	FULL(t, S(2), mk(2, ST_LISTEN, 80, 0), mk(10, ST_ESTABLISHED, 80, 4000));
	CHECK(nev == 1 && ev_is(0, 10, ST_CLOSE, ST_ESTABLISHED, S(2)));
	notice(t, &(struct sock){.cookie = 10}, S(2) + MS(10), 0);
	FULL(t, S(3), mk(2, ST_LISTEN, 80, 0));
	CHECK(nev == 2 && ev_is(1, 10, ST_ESTABLISHED, ST_CLOSE, S(2) + MS(10)));
	/* A second socket of the same 4-tuple, born and gone before the next poll. */
	struct sock s11 = mk(11, ST_ESTABLISHED, 80, 4000);
	notice(t, &s11, S(3) + MS(500), 0);
	FULL(t, S(4), mk(2, ST_LISTEN, 80, 0));
	CHECK(nev == 3 && ev_is(2, 11, ST_UNKNOWN, ST_CLOSE, S(3) + MS(500)) && evs[2].jump);
	ts = track_find(t, 10);
	CHECK(ts && ts->gone == S(2) + MS(10));
	track_free(t);
}

/*
 * A TIME_WAIT of a 4-tuple, last seen by a dump before the notice may have
 * been sent, is an earlier life's (a new SYN ends a TIME_WAIT): the notice
 * of a short life on that 4-tuple is still told, not taken for its end.
 */
static void test_notice_after_old_tw(void)
{
	struct track *t = new_track();

	full_empty(t, S(1));
	FULL(t, S(2), mk_tw(40, 4000, 80, 59000));
	CHECK(nev == 1 && ev_is(0, 40, ST_CLOSE, ST_TIME_WAIT, S(1)));
	/*
	 * A new life on the same 4-tuple ended after S(2) + 500 ms, when the
	 * queue was empty; its tcp_info heard the peer last 50 ms before the
	 * notice was made.
	 */
	struct sock n = mk(41, ST_CLOSE, 4000, 80);
	track_destroyed(t, &n, S(2) + MS(500), S(2) + MS(600), MS(50), 0);
	full_empty(t, S(3));
	CHECK(nev == 2 && ev_is(1, 41, ST_UNKNOWN, ST_CLOSE, S(2) + MS(600)));
	track_free(t);
}

/*
 * A socket a dump saw (its cookie made then, and copied to its TIME_WAIT)
 * whose notice came: a TIME_WAIT of the 4-tuple with another cookie is a
 * later life's, not its end; each life keeps its own history.
 */
static void test_tw_other_cookie(void)
{
	struct track *t = new_track();

	full_empty(t, S(1));
	dump(t, S(1) + MS(50), ST_RARE_MASK, &(struct sock){0}, 0);
	struct sock a = mk(5, ST_FIN_WAIT1, 4000, 80);
	dump(t, S(1) + MS(100), ST_RARE_MASK, &a, 1);
	CHECK(nev == 1 && ev_is(0, 5, ST_CLOSE, ST_FIN_WAIT1, S(1) + MS(100)));
	notice(t, &(struct sock){.cookie = 5, .state = ST_CLOSE}, S(1) + MS(150), 0);
	FULL(t, S(2), mk_tw(9, 4000, 80, 59800));
	CHECK(nev == 3);
	CHECK(ev_is(1, 5, ST_FIN_WAIT1, ST_CLOSE, S(1) + MS(150)) ||
	      ev_is(2, 5, ST_FIN_WAIT1, ST_CLOSE, S(1) + MS(150)));
	CHECK(ev_is(1, 9, ST_CLOSE, ST_TIME_WAIT, S(2) - MS(200)) ||
	      ev_is(2, 9, ST_CLOSE, ST_TIME_WAIT, S(2) - MS(200)));
	CHECK(track_find(t, 5) && (track_find(t, 5)->flags & TS_GHOST));
	track_free(t);
}

/*
 * The notice of a short life read late, after a dump showed its TIME_WAIT
 * (which got a cookie of its own): the TIME_WAIT told that life already.
 */
static void test_late_notice_after_tw(void)
{
	struct track *t = new_track();

	full_empty(t, S(1));
	FULL(t, S(2), mk_tw(9, 4000, 80, 59940));
	CHECK(nev == 1 && ev_is(0, 9, ST_CLOSE, ST_TIME_WAIT, S(2) - MS(60)));
	notice_of(t, 5, 4000, 80, S(2) + MS(400));
	FULL(t, S(3), mk_tw(9, 4000, 80, 58940));
	full_empty(t, S(4));
	CHECK(nev == 1);
	track_free(t);
}

/*
 * Under churn a 4-tuple comes back within a second: each new SYN ends the
 * TIME_WAIT before it. A life whose own TIME_WAIT was born and ended between
 * two dumps is told only by its notice, read while the tracker still held an
 * earlier life's TIME_WAIT (not yet known gone), and the next dump shows a
 * later life's. The notice is neither of them: it is told.
 */
static void test_notice_between_reused_tw(void)
{
	struct track *t = new_track();
	struct sock n = mk(150, ST_CLOSE, 4000, 80);

	n.inode = 0;
	full_empty(t, S(1));
	FULL(t, S(2), mk_tw(100, 4000, 80, 59000));
	CHECK(nev == 1 && ev_is(0, 100, ST_CLOSE, ST_TIME_WAIT, S(1)));
	/*
	 * L2 took the 4-tuple at S(2) + 400 ms and handed over to its TIME_WAIT
	 * at S(2) + 401 ms; the kernel made its notice 99 ms later.
	 */
	track_destroyed(t, &n, S(2) + MS(490), S(2) + MS(500), MS(99), 0);
	/*
	 * L3 took it at S(2) + 930 ms and became TIME_WAIT at 934; its notice
	 * came 2 ms later. The dump shows L3's TIME_WAIT, not L1's nor L2's:
	 * L3's notice fits it to the tick, L2's only if L2 had lingered in an
	 * orphaned FIN_WAIT_2. The closer fit takes it.
	 */
	struct sock n3 = mk(152, ST_CLOSE, 4000, 80);

	n3.inode = 0;
	track_destroyed(t, &n3, S(2) + MS(935), S(2) + MS(936), MS(2), 0);
	FULL(t, S(3), mk_tw(300, 4000, 80, 59934));
	CHECK(nev == 3);
	CHECK(ev_is(1, 150, ST_UNKNOWN, ST_CLOSE, S(2) + MS(500)) ||
	      ev_is(2, 150, ST_UNKNOWN, ST_CLOSE, S(2) + MS(500)));
	CHECK(ev_is(1, 300, ST_CLOSE, ST_TIME_WAIT, S(2) + MS(934)) ||
	      ev_is(2, 300, ST_CLOSE, ST_TIME_WAIT, S(2) + MS(934)));
	track_free(t);
}

/*
 * The notice read after a dump showed its TIME_WAIT, which a later life's
 * SYN ended before the next dump: the TIME_WAIT told that life, and the
 * notice, matched when read, adds nothing. Each TIME_WAIT takes one notice.
 */
static void test_notice_claims_one_tw(void)
{
	struct track *t = new_track();
	struct sock n1 = mk(150, ST_CLOSE, 4000, 80), n2 = mk(151, ST_CLOSE, 4000, 80);

	n1.inode = n2.inode = 0;
	full_empty(t, S(1));
	FULL(t, S(2), mk_tw(100, 4000, 80, 59950));
	CHECK(nev == 1 && ev_is(0, 100, ST_CLOSE, ST_TIME_WAIT, S(2) - MS(50)));
	notice(t, &n1, S(2) + MS(100), 0);
	/*
	 * A second notice of the 4-tuple: the TIME_WAIT is taken, so this life
	 * is told, unless a later TIME_WAIT is its own; the next one has its own
	 * notice, read 5 ms after it began.
	 */
	notice(t, &n2, S(2) + MS(700), 0);
	struct sock n3 = mk(152, ST_CLOSE, 4000, 80);

	n3.inode = 0;
	track_destroyed(t, &n3, S(2) + MS(904), S(2) + MS(905), MS(5), 0);
	FULL(t, S(3), mk_tw(300, 4000, 80, 59900));
	FULL(t, S(4), mk_tw(300, 4000, 80, 58900));
	CHECK(nev == 4);
	CHECK(ev_is(1, 151, ST_UNKNOWN, ST_CLOSE, S(2) + MS(700)) ||
	      ev_is(2, 151, ST_UNKNOWN, ST_CLOSE, S(2) + MS(700)) ||
	      ev_is(3, 151, ST_UNKNOWN, ST_CLOSE, S(2) + MS(700)));
	CHECK(track_find(t, 150) == NULL);
	CHECK(track_find(t, 100) && (track_find(t, 100)->flags & TS_GHOST));
	track_free(t);
}

/*
 * A dump that saw a request socket made its cookie, and the kernel copies it
 * to the full socket it becomes and on to that one's TIME_WAIT: a notice of
 * that cookie is the child's end, maybe a hand-over. Found under churn: the
 * life was told ended (SYN_RECV -> CLOSED), then again from its TIME_WAIT.
 */
static void test_notice_request_child(void)
{
	struct track *t = new_track();
	struct sock q1 = mk(7, ST_SYN_RECV, 80, 4000), q2 = mk(8, ST_SYN_RECV, 80, 4001);
	struct sock n1 = mk(7, ST_CLOSE, 80, 4000), n2 = mk(8, ST_CLOSE, 80, 4001);

	q1.inode = q2.inode = 0;
	full_empty(t, S(1));
	FULL(t, S(2), q1, q2);
	CHECK(nev == 2);
	notice(t, &n1, S(2) + MS(2), 0);
	notice(t, &n2, S(2) + MS(3), 0);
	CHECK(nev == 2);
	/* One went on to TIME_WAIT: one change, its timer's time; the other ended. */
	FULL(t, S(3), mk_tw(7, 80, 4000, 59000));
	CHECK(nev == 4);
	CHECK(ev_is(2, 7, ST_SYN_RECV, ST_TIME_WAIT, S(2)) && evs[2].jump);
	CHECK(ev_is(3, 8, ST_SYN_RECV, ST_CLOSE, S(2) + MS(3)) && evs[3].jump);
	FULL(t, S(4), mk_tw(7, 80, 4000, 58000));
	CHECK(nev == 4 && track_count(t, ST_TIME_WAIT) == 1);
	track_free(t);
}

/*
 * A request socket's child carries the request's cookie: once a notice of
 * that cookie told the child's end, a row of the same 4-tuple with another
 * cookie is a later life, never the request's child. Under 4,000
 * connections a second the next life's SYN killed the TIME_WAIT early, and
 * the life after that one was told as the request's (SYN_RECV -> TIME_WAIT),
 * merging two sockets. (The notice of the life between may still go to that
 * TIME_WAIT: a notice can come up to tcp_fin_timeout before its own.)
 */
static void test_request_notice_then_new_life(void)
{
	struct track *t = new_track();
	struct sock q = mk(100, ST_SYN_RECV, 80, 4000), n0 = mk(100, ST_CLOSE, 80, 4000);
	struct sock n1 = mk(150, ST_CLOSE, 80, 4000);
	size_t i;

	q.inode = n0.inode = n1.inode = 0;
	full_empty(t, S(1));
	FULL(t, S(2), q);
	CHECK(nev == 1 && ev_is(0, 100, ST_CLOSE, ST_SYN_RECV, S(2)));
	notice(t, &n0, S(2) + MS(50), 0);
	notice(t, &n1, S(2) + MS(60), 0);
	FULL(t, S(3), mk_tw(200, 80, 4000, 59990));
	FULL(t, S(4), mk_tw(200, 80, 4000, 58990));
	for (i = 0; i < nev; i++)
		CHECK(!(evs[i].s.cookie == 200 && evs[i].from != ST_CLOSE));
	/* The request's end, by its notice; the later life's TIME_WAIT, its own. */
	CHECK(nev == 3 && ev_is(1, 200, ST_CLOSE, ST_TIME_WAIT, S(3) - MS(10)));
	CHECK(ev_is(2, 100, ST_SYN_RECV, ST_CLOSE, S(2) + MS(50)) && evs[2].jump);
	CHECK(track_find(t, 200) && track_find(t, 200)->nhist == 0);
	track_free(t);
}

/*
 * A dump of a busy box takes a hundred milliseconds. A TIME_WAIT that began
 * while it ran has more time left, counted from the dump's start, than the
 * whole 60 s: it began that much after the start. Dated at the start
 * instead, it was too early for its own notice, read just after, and the
 * life was told twice (found under churn in two namespaces).
 */
static void test_tw_born_during_dump(void)
{
	struct track *t = new_track();
	struct sock n = mk(150, ST_CLOSE, 80, 4000);

	n.inode = 0;
	full_empty(t, S(1));
	FULL(t, S(2), mk_tw(100, 80, 4000, 60060));
	CHECK(nev == 1 && ev_is(0, 100, ST_CLOSE, ST_TIME_WAIT, S(2) + MS(60)));
	CHECK(evs[0].dwell_kind == TIME_EXACT);
	/* Its notice: the queue empty 1 ms after it began, the peer's FIN 1 ms old. */
	track_destroyed(t, &n, S(2) + MS(61), S(2) + MS(62), MS(1), 0);
	FULL(t, S(3), mk_tw(100, 80, 4000, 59060));
	CHECK(nev == 1 && track_find(t, 150) == NULL);
	/* A timer longer than 60 s by more than a dump can last is a longer timer. */
	FULL(t, S(4), mk_tw(100, 80, 4000, 58060), mk_tw(101, 80, 4001, 70000));
	CHECK(nev == 2 && ev_is(1, 101, ST_CLOSE, ST_TIME_WAIT, S(4)));
	track_free(t);
}

/*
 * Under churn a 4-tuple comes back every half second. An orphaned full
 * socket in FIN_WAIT_2 (its owner held it when the ACK of its FIN came) has
 * no inode but a keepalive timer, and its cookie is its own: it is not the
 * mini-socket an earlier life's notice handed over to. Taken for one, it
 * swallowed that life (found by the churn benchmark in two namespaces).
 */
static void test_orphan_full_fw2(void)
{
	struct track *t = new_track();
	struct sock n = mk(150, ST_CLOSE, 80, 4000), o = mk(160, ST_FIN_WAIT2, 80, 4000);

	n.inode = o.inode = 0;
	o.timer = TM_KEEPALIVE;
	o.expires_ms = 59000;
	full_empty(t, S(1));
	track_destroyed(t, &n, S(1) + MS(100), S(1) + MS(101), MS(1), 0);
	/* Half a second later the 4-tuple's next life, seen by a dump in FIN_WAIT_2. */
	FULL(t, S(1) + MS(600), o);
	FULL(t, S(2), mk_tw(160, 80, 4000, 59900));
	CHECK(nev == 3);
	CHECK(ev_is(0, 160, ST_CLOSE, ST_FIN_WAIT2, S(1) + MS(600)));
	/* That full dump did not have the notice's TIME_WAIT: it is told, alone. */
	CHECK(ev_is(1, 150, ST_UNKNOWN, ST_CLOSE, S(1) + MS(101)));
	CHECK(ev_is(2, 160, ST_FIN_WAIT2, ST_TIME_WAIT, S(2) - MS(100)));
	track_free(t);
}

/*
 * Notices queued behind a busy loop are read seconds after the kernel sent
 * them; the time the queue was last found empty bounds when they came, and
 * a TIME_WAIT that began then is still theirs.
 */
static void test_notice_queued_late(void)
{
	struct track *t = new_track();
	struct sock n = mk(150, ST_CLOSE, 4000, 80), m = mk(160, ST_CLOSE, 4001, 80);

	n.inode = m.inode = 0;
	full_empty(t, S(1));
	FULL(t, S(2), mk_tw(100, 4000, 80, 59950), mk_tw(110, 4001, 80, 59950));
	CHECK(nev == 2);
	/* Queue empty at S(2) - 100 ms; the notices read 3 s later. */
	track_destroyed(t, &n, S(2) - MS(100), S(5), -1, 0);
	/* Without that bound, a TIME_WAIT 3 s older is another life's. */
	track_destroyed(t, &m, 0, S(5), -1, 0);
	FULL(t, S(6), mk_tw(100, 4000, 80, 56000), mk_tw(110, 4001, 80, 56000));
	CHECK(nev == 3 && ev_is(2, 160, ST_UNKNOWN, ST_CLOSE, S(5)));
	CHECK(track_find(t, 150) == NULL);
	track_free(t);
}

/*
 * Notices carry the kernel's clock: tcp_info's time since the last segment
 * from the peer, counted when the kernel made the notice (after the queue
 * was last found empty, before it was read). For a socket handing over to
 * TIME_WAIT that segment is the peer's FIN: it dates the hand-over within a
 * tick, however late the kernel's workqueue made the notice, and tells its
 * TIME_WAIT from an earlier one that is still unclaimed.
 */
static void test_notice_ack_clock(void)
{
	struct track *t = new_track();
	struct sock n = mk(150, ST_CLOSE, 4000, 80);

	n.inode = 0;
	full_empty(t, S(1));
	/* Two unclaimed TIME_WAITs of two 4-tuples; the notice is of the second's life. */
	FULL(t, S(3), mk_tw(100, 4000, 80, 58000), mk_tw(200, 4000, 81, 59000));
	CHECK(nev == 2);
	/* Made 1.5 s after the hand-over at S(2), read at once. */
	struct sock n2 = mk(151, ST_CLOSE, 4000, 81);

	n2.inode = 0;
	track_destroyed(t, &n, S(3) + MS(495), S(3) + MS(500), MS(1500), 0);
	track_destroyed(t, &n2, S(3) + MS(495), S(3) + MS(500), MS(1500), 0);
	FULL(t, S(4), mk_tw(100, 4000, 80, 57000), mk_tw(200, 4000, 81, 58000));
	/* The first fits no TIME_WAIT of its 4-tuple (born at S(1)): told; the second joins. */
	CHECK(nev == 3 && ev_is(2, 150, ST_UNKNOWN, ST_CLOSE, S(3) + MS(500)));
	CHECK(track_find(t, 151) == NULL);
	track_free(t);
}

/*
 * A server that closes first while its peer still reads: the full socket
 * hands over to an orphaned FIN_WAIT_2 mini-socket at close(), and its
 * notice comes then; the mini-socket becomes TIME_WAIT, its timer started
 * again, when the peer's FIN comes 50 ms later. The dump shows only the
 * TIME_WAIT: one life, told once.
 */
static void test_notice_before_orphan_tw(void)
{
	struct track *t = new_track();
	struct sock n = mk(150, ST_CLOSE, 4000, 80);

	n.inode = 0;
	full_empty(t, S(1));
	track_destroyed(t, &n, S(1) + MS(99), S(1) + MS(100), 0, 0);
	FULL(t, S(2), mk_tw(300, 4000, 80, 59150));
	FULL(t, S(3), mk_tw(300, 4000, 80, 58150));
	CHECK(nev == 1 && ev_is(0, 300, ST_CLOSE, ST_TIME_WAIT, S(1) + MS(150)));
	track_free(t);
}

/* Exact changes and dumps joined by 4-tuple: one history, no duplicate events. */
static void test_exact_merge(void)
{
	struct track *t = new_track();
	struct sock a = mk(1, ST_ESTABLISHED, 4000, 80), c = mk(7, ST_ESTABLISHED, 40000, 80);
	struct sock_key ka = key_of(&a), kc = key_of(&c), kc0 = kc;
	const struct tsock *ts;

	FULL(t, S(1), a);
	track_changed(t, &ka, 0, ST_ESTABLISHED, ST_FIN_WAIT1, S(1) + 100, 0);
	track_changed(t, &ka, 0, ST_FIN_WAIT1, ST_FIN_WAIT2, S(1) + 160, 0);
	CHECK(nev == 2 && ev_is(0, 1, ST_ESTABLISHED, ST_FIN_WAIT1, S(1) + 100));
	CHECK(ev_is(1, 1, ST_FIN_WAIT1, ST_FIN_WAIT2, S(1) + 160));
	CHECK(evs[1].dwell == 60 && evs[1].dwell_kind == TIME_EXACT);
	/* A dump begun before the changes still shows ESTABLISHED: older news, ignored. */
	FULL(t, S(1) + 50, a);
	CHECK(nev == 2 && track_find(t, 1)->s.state == ST_FIN_WAIT2);
	/* A dump that shows what the exact source reported: silent. */
	a.state = ST_FIN_WAIT2;
	FULL(t, S(2), a);
	CHECK(nev == 2);
	/* The full socket ends (notice and tracepoint): the TIME_WAIT comes from the poll. */
	track_changed(t, &ka, 0, ST_FIN_WAIT2, ST_CLOSE, S(2) + 500, 0);
	notice(t, &(struct sock){.cookie = 1, .state = ST_CLOSE}, S(2) + 510, 0);
	CHECK(nev == 2 && track_alive(t) == 1);
	FULL(t, S(3), mk_tw(1, 4000, 80, 59000));
	CHECK(nev == 3 && ev_is(2, 1, ST_FIN_WAIT2, ST_TIME_WAIT, S(2) + 500));
	CHECK(evs[2].dwell == S(1) + 340 && evs[2].dwell_kind == TIME_EXACT);
	ts = track_find(t, 1);
	CHECK(ts->nhist == 3 && ts->hist[1].state == ST_FIN_WAIT1 && ts->hist[1].dwell == 60 &&
	      ts->hist[1].kind == TIME_EXACT);

	/* Born after the last poll: connect() reports SYN_SENT before its port is chosen. */
	nev = 0;
	kc0.sport = 0;
	track_changed(t, &kc0, 0, ST_CLOSE, ST_SYN_SENT, S(3) + 10, 0);
	track_changed(t, &kc, 0, ST_SYN_SENT, ST_ESTABLISHED, S(3) + 30, 0);
	CHECK(nev == 2 && evs[0].s.cookie == 0 && evs[0].from == ST_CLOSE &&
	      evs[0].to == ST_SYN_SENT && evs[0].mono == S(3) + 10);
	CHECK(evs[1].from == ST_SYN_SENT && evs[1].to == ST_ESTABLISHED && evs[1].dwell == 20 &&
	      evs[1].dwell_kind == TIME_EXACT && evs[1].s.sport == 40000);
	CHECK(track_alive(t) == 2 && track_count(t, ST_ESTABLISHED) == 1);
	/* The dump's row with a cookie adopts it: no appearance, one history. */
	FULL(t, S(4), mk_tw(1, 4000, 80, 58000), c);
	CHECK(nev == 2 && track_size(t) == 2);
	ts = track_find(t, 7);
	CHECK(ts && ts->nhist == 1 && ts->hist[0].state == ST_SYN_SENT && ts->since == S(3) + 30);
	CHECK(ts && ts->since_kind == TIME_EXACT && ts->s.inode == c.inode);

	/* The poll sees the change first; the exact sample comes late: no second event. */
	c.state = ST_CLOSE_WAIT;
	FULL(t, S(5), mk_tw(1, 4000, 80, 57000), c);
	CHECK(nev == 3 && ev_is(2, 7, ST_ESTABLISHED, ST_CLOSE_WAIT, S(5)));
	track_changed(t, &kc, 0, ST_ESTABLISHED, ST_CLOSE_WAIT, S(4) + MS(700), 0);
	CHECK(nev == 3 && ts->since == S(4) + MS(700) && ts->since_kind == TIME_EXACT);
	CHECK(ts->hist[1].dwell == S(1) + MS(700) - 30);
	/* An exact end that is no hand-over to TIME_WAIT: gone now, once. */
	track_changed(t, &kc, 0, ST_CLOSE_WAIT, ST_LAST_ACK, S(5) + 100, 0);
	track_changed(t, &kc, 0, ST_LAST_ACK, ST_CLOSE, S(5) + 200, 0);
	CHECK(nev == 5 && ev_is(4, 7, ST_LAST_ACK, ST_CLOSE, S(5) + 200));
	CHECK(evs[4].dwell == 100 && evs[4].dwell_kind == TIME_EXACT);
	notice(t, &(struct sock){.cookie = 7, .state = ST_CLOSE}, S(5) + 210, 0);
	FULL(t, S(6), mk_tw(1, 4000, 80, 56000));
	FULL(t, S(7), mk_tw(1, 4000, 80, 55000));
	CHECK(nev == 5 && track_alive(t) == 1);
	track_free(t);
}

/* A reset seen by the exact source is flagged; a late sample never rewrites history. */
static void test_exact_reset_and_stale(void)
{
	struct track *t = new_track();
	struct sock a = mk(1, ST_ESTABLISHED, 4000, 80), b = mk(2, ST_CLOSE_WAIT, 80, 5000);
	struct sock_key ka = key_of(&a), kb = key_of(&b);

	FULL(t, S(1), a, b);
	a.state = ST_FIN_WAIT2;
	FULL(t, S(2), a, b);
	CHECK(nev == 1 && ev_is(0, 1, ST_ESTABLISHED, ST_FIN_WAIT2, S(2)) && evs[0].jump);
	/* The missed FIN_WAIT_1 arrives late and lies before the known state: ignored. */
	track_changed(t, &ka, 0, ST_ESTABLISHED, ST_FIN_WAIT1, S(1) + 5, 0);
	CHECK(nev == 1 && track_find(t, 1)->s.state == ST_FIN_WAIT2);
	/* CLOSE_WAIT -> CLOSE skips LAST_ACK: only a reset does that. */
	track_changed(t, &kb, 0, ST_CLOSE_WAIT, ST_CLOSE, S(2) + 9, 0);
	CHECK(nev == 2 && ev_is(1, 2, ST_CLOSE_WAIT, ST_CLOSE, S(2) + 9) && !evs[1].jump);
	CHECK((track_find(t, 2)->flags & (TS_RESET | TS_GHOST)) == (TS_RESET | TS_GHOST));
	CHECK(!(track_find(t, 1)->flags & TS_RESET));
	/* Changes of a socket nobody saw end: ignored, the dumps and notices speak for it. */
	b.sport = 81;
	kb = key_of(&b);
	track_changed(t, &kb, 0, ST_LAST_ACK, ST_CLOSE, S(2) + 10, 0);
	CHECK(nev == 2 && track_size(t) == 2);
	track_free(t);
}

/* The exact source reports a request's child: the request's history carries on. */
static void test_exact_request_link(void)
{
	struct track *t = new_track();
	struct sock req = mk(10, ST_SYN_RECV, 80, 5555), child = mk(11, ST_ESTABLISHED, 80, 5555);
	struct sock_key k = key_of(&req);
	const struct tsock *ts;

	req.inode = 0;
	FULL(t, S(1), mk(1, ST_LISTEN, 80, 0));
	FULL(t, S(2), mk(1, ST_LISTEN, 80, 0), req);
	track_changed(t, &k, 0, ST_CLOSE, ST_SYN_RECV, S(2) + 100, 0);
	CHECK(nev == 1 && track_size(t) == 2);
	track_changed(t, &k, 0, ST_SYN_RECV, ST_ESTABLISHED, S(2) + 200, 0);
	CHECK(nev == 2 && ev_is(1, 10, ST_SYN_RECV, ST_ESTABLISHED, S(2) + 200));
	CHECK(evs[1].dwell == 200 && evs[1].dwell_kind == TIME_BETWEEN);
	FULL(t, S(3), mk(1, ST_LISTEN, 80, 0), child);
	CHECK(nev == 2 && track_find(t, 10) == NULL && track_size(t) == 2);
	ts = track_find(t, 11);
	CHECK(ts && ts->since == S(2) + 200 && ts->since_kind == TIME_EXACT && ts->nhist == 1);
	FULL(t, S(4), mk(1, ST_LISTEN, 80, 0), child);
	CHECK(nev == 2);
	track_free(t);
}

/*
 * Samples that arrive late (after a dump showed the socket further on) are
 * history; a passive open's child is born LISTEN -> SYN_RECV; a destroy notice
 * after the exact source ended the socket is no unknown socket.
 */
static void test_exact_late(void)
{
	struct track *t = new_track();
	struct sock c = mk(5, ST_ESTABLISHED, 40000, 80), srv = mk(6, ST_LAST_ACK, 80, 40001);
	struct sock_key kc = key_of(&c), ks = key_of(&srv);
	const struct tsock *ts;

	full_empty(t, S(1));
	FULL(t, S(2), mk_tw(5, 40000, 80, 59800));
	CHECK(nev == 1 && ev_is(0, 5, ST_CLOSE, ST_TIME_WAIT, S(2) - MS(200)));
	/* The whole life, reported seconds late. */
	track_changed(t, &kc, 0, ST_CLOSE, ST_SYN_SENT, S(1) + 10, 0);
	track_changed(t, &kc, 0, ST_SYN_SENT, ST_ESTABLISHED, S(1) + 20, 0);
	track_changed(t, &kc, 0, ST_ESTABLISHED, ST_FIN_WAIT1, S(1) + 30, 0);
	track_changed(t, &kc, 0, ST_FIN_WAIT2, ST_CLOSE, S(1) + 40, 0);
	CHECK(nev == 1 && track_size(t) == 1);
	FULL(t, S(3), mk_tw(5, 40000, 80, 58800));
	FULL(t, S(4), mk_tw(5, 40000, 80, 57800));
	CHECK(nev == 1 && track_size(t) == 1);

	/* A dump begun just before a birth that read the row after it: one socket, exact times. */
	nev = 0;
	c = mk(7, ST_ESTABLISHED, 40002, 80);
	kc = key_of(&c);
	FULL(t, S(4), mk_tw(5, 40000, 80, 57800), c);
	CHECK(nev == 1 && ev_is(0, 7, ST_CLOSE, ST_ESTABLISHED, S(4)) && evs[0].jump);
	track_changed(t, &kc, 0, ST_CLOSE, ST_SYN_SENT, S(4) + 100, 0);
	track_changed(t, &kc, 0, ST_SYN_SENT, ST_ESTABLISHED, S(4) + 200, 0);
	CHECK(nev == 1 && track_size(t) == 2);
	ts = track_find(t, 7);
	CHECK(ts && ts->since == S(4) + 200 && ts->since_kind == TIME_EXACT);
	track_changed(t, &kc, 0, ST_ESTABLISHED, ST_FIN_WAIT1, S(4) + 300, 0);
	CHECK(nev == 2 && ev_is(1, 7, ST_ESTABLISHED, ST_FIN_WAIT1, S(4) + 300));
	CHECK(evs[1].dwell == 100 && evs[1].dwell_kind == TIME_EXACT);

	/* The server's child: born from the listener, ended by the tracepoint, then the notice. */
	nev = 0;
	track_changed(t, &ks, 0, ST_LISTEN, ST_SYN_RECV, S(4) + 10, 0);
	CHECK(nev == 1 && evs[0].from == ST_CLOSE && evs[0].to == ST_SYN_RECV && !evs[0].jump);
	track_changed(t, &ks, 0, ST_SYN_RECV, ST_ESTABLISHED, S(4) + 20, 0);
	track_changed(t, &ks, 0, ST_ESTABLISHED, ST_CLOSE_WAIT, S(4) + 30, 0);
	track_changed(t, &ks, 0, ST_CLOSE_WAIT, ST_LAST_ACK, S(4) + 40, 0);
	track_changed(t, &ks, 0, ST_LAST_ACK, ST_CLOSE, S(4) + 50, 0);
	CHECK(nev == 5 && evs[4].from == ST_LAST_ACK && evs[4].to == ST_CLOSE);
	srv.state = ST_CLOSE;
	notice(t, &srv, S(4) + 60, 0);
	c.state = ST_FIN_WAIT1;
	FULL(t, S(5), mk_tw(5, 40000, 80, 56800), c);
	FULL(t, S(6), mk_tw(5, 40000, 80, 55800), c);
	CHECK(nev == 5);
	ts = track_find(t, 6);
	CHECK(ts && (ts->flags & TS_GHOST) && ts->nhist == 3 && ts->gone == S(4) + 50);
	track_free(t);
}

/*
 * A full socket whose cookie the kernel made only at its destruction hands
 * over to a mini-socket with a cookie of its own: still one history, in
 * whichever order the notice and the dump arrive.
 */
static void test_fresh_cookie_handover(void)
{
	struct track *t = new_track();
	struct sock a = mk(0, ST_ESTABLISHED, 40000, 80), fw2 = mk(21, ST_FIN_WAIT2, 40000, 80);
	struct sock_key ka = key_of(&a);
	struct sock n = mk(20, ST_CLOSE, 40000, 80);
	const struct tsock *ts;

	fw2.inode = 0;
	fw2.timer = TM_TIMEWAIT;
	fw2.expires_ms = 59900;
	full_empty(t, S(1));
	/* Exact source only: born, closed by its owner (orphaned FIN_WAIT_2), notice, dump. */
	track_changed(t, &ka, 0, ST_CLOSE, ST_SYN_SENT, S(1) + 10, 0);
	track_changed(t, &ka, 0, ST_SYN_SENT, ST_ESTABLISHED, S(1) + 20, 0);
	track_changed(t, &ka, 0, ST_ESTABLISHED, ST_FIN_WAIT1, S(1) + MS(500), 0);
	track_changed(t, &ka, 0, ST_FIN_WAIT1, ST_FIN_WAIT2, S(1) + MS(501), 0);
	track_changed(t, &ka, 0, ST_FIN_WAIT2, ST_CLOSE, S(1) + MS(502), 0);
	notice(t, &n, S(1) + MS(503), 0);
	CHECK(nev == 4 && track_size(t) == 1);
	FULL(t, S(2), fw2);
	FULL(t, S(3), mk_tw(21, 40000, 80, 59500));
	CHECK(nev == 5 && ev_is(4, 21, ST_FIN_WAIT2, ST_TIME_WAIT, S(3) - MS(500)));
	CHECK(track_size(t) == 1);
	ts = track_find(t, 21);
	CHECK(ts && ts->nhist == 4 && ts->hist[0].state == ST_SYN_SENT &&
	      track_find(t, 20) == NULL);

	/*
	 * Polls only: the notice first (read after the hand-over), then the
	 * TIME_WAIT with another cookie.
	 */
	nev = 0;
	n = mk(30, ST_CLOSE, 40001, 80);
	notice(t, &n, S(3) + MS(900), 0);
	FULL(t, S(4), mk_tw(21, 40000, 80, 58000), mk_tw(31, 40001, 80, 59800));
	CHECK(nev == 1 && ev_is(0, 31, ST_CLOSE, ST_TIME_WAIT, S(3) + MS(800)) && evs[0].jump);
	CHECK(track_find(t, 31)->since_kind == TIME_EXACT && track_size(t) == 2);

	/* The TIME_WAIT first, the notice late: no unseen socket is invented. */
	nev = 0;
	FULL(t, S(5), mk_tw(21, 40000, 80, 57000), mk_tw(31, 40001, 80, 58800),
	     mk_tw(41, 40002, 80, 59500));
	n = mk(40, ST_CLOSE, 40002, 80);
	notice(t, &n, S(5) + MS(100), 0);
	FULL(t, S(6), mk_tw(21, 40000, 80, 56000), mk_tw(31, 40001, 80, 57800),
	     mk_tw(41, 40002, 80, 58500));
	CHECK(nev == 1 && ev_is(0, 41, ST_CLOSE, ST_TIME_WAIT, S(5) - MS(500)));
	CHECK(track_size(t) == 3 && track_alive(t) == 3);
	track_free(t);
}

/* With the exact source on, a notice waits for the samples that tell the end precisely. */
static void test_exact_notice_first(void)
{
	struct track *t = new_track();
	struct sock a = mk(1, ST_CLOSE_WAIT, 80, 5000), b = mk(2, ST_CLOSE_WAIT, 80, 5001);
	struct sock l = mk(3, ST_LISTEN, 80, 0);
	struct sock_key ka = key_of(&a), kl = key_of(&l);
	struct sock na = a, nb = b;

	FULL(t, S(1), a, b);
	track_changed(t, &kl, 0, ST_CLOSE, ST_LISTEN, S(1) + 1, 0);
	CHECK(nev == 1);
	na.state = nb.state = ST_CLOSE;
	notice(t, &na, S(1) + MS(500), 0);
	notice(t, &nb, S(1) + MS(500), 0);
	CHECK(nev == 1 && track_alive(t) == 3);
	track_changed(t, &ka, 0, ST_CLOSE_WAIT, ST_LAST_ACK, S(1) + MS(400), 0);
	track_changed(t, &ka, 0, ST_LAST_ACK, ST_CLOSE, S(1) + MS(401), 0);
	CHECK(nev == 3 && ev_is(1, 1, ST_CLOSE_WAIT, ST_LAST_ACK, S(1) + MS(400)));
	CHECK(ev_is(2, 1, ST_LAST_ACK, ST_CLOSE, S(1) + MS(401)) && evs[2].dwell == MS(1));
	/* No sample for the other: the next full dump ends it at the notice. */
	FULL(t, S(2), l);
	CHECK(nev == 4 && ev_is(3, 2, ST_CLOSE_WAIT, ST_CLOSE, S(1) + MS(500)));
	FULL(t, S(3), l);
	CHECK(nev == 4 && track_alive(t) == 1);
	track_free(t);
}

/*
 * An orphan whose peer's FIN has not come yet is handed over to a mini-socket
 * still in FIN_WAIT_2: the tracepoint's FIN_WAIT_2 -> CLOSE is the end of the
 * full socket, and TIME_WAIT begins later, with the peer's FIN, which no
 * tracepoint reports. Once a dump has shown that mini-socket, neither the
 * tracepoint's time nor a destroy notice read later dates the TIME_WAIT: the
 * timer the FIN restarted does, and not as an exact time. (The order of a
 * burst run: samples, a fast-lane dump, a notice, the next full dump.)
 */
static void test_fw2_mini_handover(void)
{
	struct track *t = new_track();
	struct sock a = mk(0, ST_ESTABLISHED, 34612, 80), m = mk(7, ST_FIN_WAIT2, 34612, 80);
	struct sock b = mk(8, ST_FIN_WAIT1, 34613, 80), mb = mk(8, ST_FIN_WAIT2, 34613, 80);
	struct sock_key ka = key_of(&a), kb = key_of(&b);
	int64_t t2 = S(1) + MS(4), fast = t2 + 126000;
	const struct tsock *ts;

	m.inode = mb.inode = 0;
	m.timer = mb.timer = TM_TIMEWAIT;
	m.expires_ms = mb.expires_ms = 60000;
	full_empty(t, S(1));
	track_changed(t, &ka, 0, ST_CLOSE, ST_SYN_SENT, S(1) + 10, 0);
	track_changed(t, &ka, 0, ST_SYN_SENT, ST_ESTABLISHED, S(1) + 20, 0);
	track_changed(t, &ka, 0, ST_ESTABLISHED, ST_FIN_WAIT1, S(1) + 40, 0);
	track_changed(t, &ka, 0, ST_FIN_WAIT1, ST_FIN_WAIT2, t2, 0);
	track_changed(t, &ka, 0, ST_FIN_WAIT2, ST_CLOSE, t2 + 11000, 0);
	dump(t, fast, ST_RARE_MASK, &m, 1);
	CHECK(nev == 4 && track_find(t, 7) && track_find(t, 7)->s.state == ST_FIN_WAIT2);
	/* The notice (its cookie made at the destruction) and a repeated sample: nothing new. */
	notice_of(t, 5, 34612, 80, S(1) + MS(16));
	track_changed(t, &ka, 0, ST_FIN_WAIT2, ST_CLOSE, t2 + 11000, 0);
	CHECK(nev == 4 && track_alive(t) == 1);
	/* The peer's FIN came at about S(1) + 5 ms: the TIME_WAIT timer says so, roughly. */
	FULL(t, S(1) + MS(453), mk_tw(7, 34612, 80, 59552));
	CHECK(nev == 5 && ev_is(4, 7, ST_FIN_WAIT2, ST_TIME_WAIT, S(1) + MS(5)));
	CHECK(evs[4].dwell_kind == TIME_BETWEEN && evs[4].dwell == MS(1));
	ts = track_find(t, 7);
	CHECK(ts && ts->since_kind == TIME_BETWEEN && ts->since == S(1) + MS(5) &&
	      ts->since_lo == fast);

	/* The full socket had its cookie already: a notice after the sighting is a repeat. */
	nev = 0;
	FULL(t, S(2), mk_tw(7, 34612, 80, 59000), b);
	track_changed(t, &kb, 0, ST_FIN_WAIT1, ST_FIN_WAIT2, S(2) + MS(10), 0);
	track_changed(t, &kb, 0, ST_FIN_WAIT2, ST_CLOSE, S(2) + MS(10) + 20, 0);
	dump(t, S(2) + MS(12), ST_RARE_MASK, &mb, 1);
	notice(t, &(struct sock){.cookie = 8, .state = ST_CLOSE}, S(2) + MS(14), 0);
	CHECK(nev == 2 && track_find(t, 8)->s.state == ST_FIN_WAIT2);
	FULL(t, S(3), mk_tw(7, 34612, 80, 58000), mk_tw(8, 34613, 80, 59020));
	CHECK(nev == 3 && ev_is(2, 8, ST_FIN_WAIT2, ST_TIME_WAIT, S(2) + MS(20)));
	CHECK(evs[2].dwell_kind == TIME_BETWEEN);
	ts = track_find(t, 8);
	CHECK(ts && ts->since_kind == TIME_BETWEEN && ts->since_lo == S(2) + MS(12));
	/* A notice after the TIME_WAIT showed says nothing of its start either. */
	notice(t, &(struct sock){.cookie = 8, .state = ST_CLOSE}, S(2) + MS(15), 0);
	CHECK(ts->since == S(2) + MS(20) && ts->since_kind == TIME_BETWEEN);

	/* Seen in FIN_WAIT_2 by no dump, the handover is dated by the full socket's end. */
	nev = 0;
	b = mk(0, ST_ESTABLISHED, 34614, 80);
	kb = key_of(&b);
	track_changed(t, &kb, 0, ST_CLOSE, ST_SYN_SENT, S(3) + 10, 0);
	track_changed(t, &kb, 0, ST_SYN_SENT, ST_ESTABLISHED, S(3) + 20, 0);
	track_changed(t, &kb, 0, ST_ESTABLISHED, ST_FIN_WAIT1, S(3) + 30, 0);
	track_changed(t, &kb, 0, ST_FIN_WAIT1, ST_FIN_WAIT2, S(3) + 40, 0);
	track_changed(t, &kb, 0, ST_FIN_WAIT2, ST_CLOSE, S(3) + 50, 0);
	FULL(t, S(4), mk_tw(7, 34612, 80, 57000), mk_tw(8, 34613, 80, 58020),
	     mk_tw(9, 34614, 80, 59000));
	CHECK(nev == 5 && ev_is(4, 9, ST_FIN_WAIT2, ST_TIME_WAIT, S(3) + 50));
	CHECK(evs[4].dwell_kind == TIME_EXACT && evs[4].dwell == 10);
	track_free(t);
}

/* Cookie-less rows (old recordings) are tracked by 4-tuple. */
static void test_cookieless(void)
{
	struct track *t = new_track();
	struct sock a = mk(0, ST_ESTABLISHED, 4000, 80), b = mk(0, ST_ESTABLISHED, 4001, 80);

	FULL(t, S(1), a, b);
	a.state = ST_CLOSE_WAIT;
	FULL(t, S(2), a, b);
	CHECK(nev == 1 && evs[0].from == ST_ESTABLISHED && evs[0].to == ST_CLOSE_WAIT &&
	      evs[0].s.sport == 4000);
	FULL(t, S(3), b);
	FULL(t, S(4), b);
	CHECK(nev == 2 && evs[1].to == ST_CLOSE && evs[1].s.sport == 4000);
	CHECK(track_alive(t) == 1 && track_size(t) == 2);
	track_free(t);
}

/* The state machine table: the edges Linux takes, and a few it never does. */
static void test_legal(void)
{
	CHECK(track_legal(ST_CLOSE, ST_SYN_SENT) && track_legal(ST_CLOSE, ST_LISTEN));
	CHECK(track_legal(ST_LISTEN, ST_SYN_RECV) && track_legal(ST_CLOSE, ST_SYN_RECV));
	CHECK(track_legal(ST_SYN_SENT, ST_ESTABLISHED) && track_legal(ST_SYN_RECV, ST_ESTABLISHED));
	CHECK(track_legal(ST_ESTABLISHED, ST_FIN_WAIT1) &&
	      track_legal(ST_ESTABLISHED, ST_CLOSE_WAIT));
	CHECK(track_legal(ST_FIN_WAIT1, ST_FIN_WAIT2) && track_legal(ST_FIN_WAIT1, ST_CLOSING));
	/* Linux passes FIN_WAIT_2 between them, always. */
	CHECK(!track_legal(ST_FIN_WAIT1, ST_TIME_WAIT) && track_legal(ST_CLOSING, ST_TIME_WAIT));
	CHECK(track_legal(ST_FIN_WAIT2, ST_TIME_WAIT) && track_legal(ST_CLOSE_WAIT, ST_LAST_ACK));
	CHECK(track_legal(ST_ESTABLISHED, ST_CLOSE) && track_legal(ST_SYN_SENT, ST_CLOSE));
	CHECK(track_legal(ST_FIN_WAIT2, ST_CLOSE) && track_legal(ST_TIME_WAIT, ST_CLOSE));
	CHECK(track_legal(ST_LAST_ACK, ST_CLOSE) && track_legal(ST_LISTEN, ST_CLOSE));
	CHECK(!track_legal(ST_ESTABLISHED, ST_TIME_WAIT) &&
	      !track_legal(ST_ESTABLISHED, ST_LAST_ACK));
	CHECK(!track_legal(ST_CLOSE, ST_ESTABLISHED) && !track_legal(ST_CLOSE, ST_TIME_WAIT));
	CHECK(!track_legal(ST_TIME_WAIT, ST_ESTABLISHED) && !track_legal(ST_FIN_WAIT2, ST_CLOSING));
	CHECK(!track_legal(ST_CLOSE, ST_CLOSE) && !track_legal(ST_UNKNOWN, ST_CLOSE));
	CHECK(!track_legal(ST_MAX, ST_CLOSE) && !track_legal(ST_CLOSE, 200));
}

/* What two polls may take as one step: only where Linux has no other way between. */
static void test_direct(void)
{
	CHECK(track_direct(ST_CLOSE, ST_SYN_SENT) && track_direct(ST_CLOSE, ST_LISTEN));
	CHECK(track_direct(ST_ESTABLISHED, ST_FIN_WAIT1) &&
	      track_direct(ST_ESTABLISHED, ST_CLOSE_WAIT));
	CHECK(track_direct(ST_FIN_WAIT1, ST_FIN_WAIT2) && track_direct(ST_CLOSE_WAIT, ST_LAST_ACK));
	CHECK(track_direct(ST_LAST_ACK, ST_CLOSE) && track_direct(ST_TIME_WAIT, ST_CLOSE));
	CHECK(track_direct(ST_LISTEN, ST_CLOSE) && track_direct(ST_CLOSING, ST_TIME_WAIT));
	/* An orderly close or a reset: polls cannot tell. */
	CHECK(!track_direct(ST_ESTABLISHED, ST_CLOSE) && !track_direct(ST_CLOSE_WAIT, ST_CLOSE));
	CHECK(!track_direct(ST_FIN_WAIT1, ST_CLOSE) && !track_direct(ST_SYN_RECV, ST_CLOSE));
	CHECK(!track_direct(ST_FIN_WAIT2, ST_CLOSE) && !track_direct(ST_SYN_SENT, ST_CLOSE));
	/* FIN_WAIT_2 or CLOSING lie between; a simultaneous open passes SYN_RECV. */
	CHECK(!track_direct(ST_FIN_WAIT1, ST_TIME_WAIT) &&
	      !track_direct(ST_ESTABLISHED, ST_TIME_WAIT));
	CHECK(!track_direct(ST_SYN_SENT, ST_ESTABLISHED));
	CHECK(!track_direct(ST_CLOSE, ST_ESTABLISHED) && !track_direct(ST_UNKNOWN, ST_CLOSE));
}

/* Reset forgets everything: the next dump is a baseline again. */
static void test_reset(void)
{
	struct track *t = new_track();
	const struct tsock **v = NULL;
	size_t cap = 0;

	FULL(t, S(1), mk(1, ST_ESTABLISHED, 4000, 80));
	FULL(t, S(2), mk(1, ST_ESTABLISHED, 4000, 80), mk(2, ST_LISTEN, 80, 0));
	CHECK(nev == 1 && track_collect(t, &v, &cap) == 2);
	track_reset(t);
	CHECK(track_size(t) == 0 && track_alive(t) == 0 && track_last_poll(t) == 0);
	CHECK(track_collect(t, &v, &cap) == 0);
	FULL(t, S(3), mk(3, ST_ESTABLISHED, 4000, 80));
	CHECK(nev == 1 && track_find(t, 3)->since_kind == TIME_ATLEAST);
	free(v);
	track_free(t);
}

/* 100,000 sockets: changes, appearances and ends counted right (correctness, not speed). */
static void test_many(void)
{
	enum { N = 100000, K = 1000 };
	struct track *t = new_track();
	struct sock *v = xreallocarray(NULL, N + K, sizeof(*v));
	const struct tsock **all = NULL;
	size_t cap = 0, n = 0, hist = 0, found = 0;
	const struct tsock *first;

	for (size_t i = 0; i < N; i++)
		v[i] = mk(i + 1, ST_ESTABLISHED, (uint16_t)(1024 + i % 60000),
			  (uint16_t)(80 + i / 60000));
	dump(t, S(1), ST_ALL_MASK, v, N);
	CHECK(nev_total == 0 && track_count(t, ST_ESTABLISHED) == N && track_size(t) == N);
	/* Every slot shown: collected without reading entries, in slot (here row) order. */
	n = track_collect(t, &all, &cap);
	bool same = n == N;
	for (size_t i = 0; i < n && same; i++)
		same = all[i] == track_find(t, i + 1);
	CHECK(same);
	first = track_find(t, 1);
	/* K change state, K are new, the last K are gone. */
	for (size_t i = 0; i < K; i++) {
		v[i].state = ST_CLOSE_WAIT;
		v[N - K + i] = mk(N + 1 + i, ST_SYN_SENT, (uint16_t)(2000 + i), 9);
	}
	dump(t, S(2), ST_ALL_MASK, v, N);
	CHECK(nev_total == 2 * K && track_count(t, ST_CLOSE_WAIT) == K);
	/* The K missing once still count: not yet confirmed gone. */
	CHECK(track_count(t, ST_SYN_SENT) == K && track_count(t, ST_ESTABLISHED) == N - K);
	CHECK(track_alive(t) == N + K && track_size(t) == N + K);
	CHECK(track_find(t, 1) == first && first->s.state == ST_CLOSE_WAIT); /* never moved */
	dump(t, S(3), ST_ALL_MASK, v, N);
	CHECK(nev_total == 3 * K && track_alive(t) == N && track_size(t) == N + K);
	CHECK(track_count(t, ST_ESTABLISHED) == N - 2 * K);
	n = track_collect(t, &all, &cap);
	CHECK(n == N + K);
	for (size_t i = 0; i < n; i++)
		hist += all[i]->nhist;
	CHECK(hist == K);
	track_expire(t, S(5));
	CHECK(track_size(t) == N && track_collect(t, &all, &cap) == N);
	for (size_t i = 0; i < N; i++)
		found += track_find(t, v[i].cookie) != NULL;
	CHECK(found == N);
	free(all);
	free(v);
	track_free(t);
}

/* Look every socket of v up by cookie; how many are there, in their state. */
static size_t found_all(const struct track *t, const struct sock *v, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const struct tsock *ts = track_find(t, v[i].cookie);
		k += ts && ts->s.state == v[i].state && ts->s.sport == v[i].sport;
	}
	return k;
}

/*
 * A first dump into an empty table: rows of a deduplicated dump (unique)
 * go in without a lookup, and are found and counted as any others; a dump
 * not known to be free of duplicates still gets one entry per cookie.
 */
static void test_first_unique(void)
{
	struct sock v[] = {mk(7, ST_ESTABLISHED, 1000, 80), mk(8, ST_LISTEN, 80, 0),
			   mk(9, ST_CLOSE_WAIT, 1001, 80)};
	struct sock dup[] = {mk(7, ST_ESTABLISHED, 1000, 80), mk(7, ST_FIN_WAIT1, 1000, 80)};
	struct track *t = new_track();
	struct snapshot sn;

	snapshot_init(&sn);
	sn.mono = S(1);
	sn.wall = S(1) + WALL_OFF;
	sn.states = ST_ALL_MASK;
	sn.complete = sn.unique = true;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		*snapshot_push(&sn) = v[i];
	track_apply(t, &sn);
	CHECK(track_alive(t) == 3 && found_all(t, v, 3) == 3);
	CHECK(track_count(t, ST_LISTEN) == 1 && track_count(t, ST_CLOSE_WAIT) == 1);
	/* The next dump finds them by cookie: nothing new, nothing gone. */
	sn.mono = S(2);
	track_apply(t, &sn);
	CHECK(track_alive(t) == 3 && nev_total == 0);
	track_free(t);

	t = new_track();
	dump(t, S(1), ST_ALL_MASK, dup, 2);
	CHECK(track_alive(t) == 1 && track_find(t, 7) && track_find(t, 7)->s.state == ST_FIN_WAIT1);
	snapshot_free(&sn);
	track_free(t);
}

/*
 * Room made before a first dump (its size estimated): the spans given to
 * fault in lie in the new memory and stop short of the estimate; the dump
 * then takes no more memory, with a few rows more than estimated too.
 */
static void test_expect(void)
{
	enum { N = 6000 };
	struct track *t = new_track();
	struct sock *v = xreallocarray(NULL, N, sizeof(*v));
	struct span fresh[4];
	size_t nf, len = 0;
	uint32_t chunks;

	for (size_t i = 0; i < N; i++)
		v[i] = mk(i + 1, ST_ESTABLISHED, (uint16_t)(1024 + i), 80);
	nf = track_reserve(t, N - 100, fresh, 4);
	chunks = t->nchunks;
	CHECK(nf >= 1 && (size_t)chunks * TAB_CHUNK >= N - 100);
	/* The empty indexes' new buckets, to fill; then entries, to touch. */
	CHECK(nf == 3 && fresh[0].how == WARM_FILL && fresh[0].p == t->cb &&
	      fresh[1].how == WARM_FILL && fresh[1].p == t->kb);
	CHECK(fresh[0].byte == 0xff && fresh[0].len == (t->cmask + 1) * sizeof(uint32_t));
	for (size_t i = 2; i < nf; i++) {
		bool inside = false;
		for (uint32_t c = 0; c < chunks; c++)
			inside |= (char *)fresh[i].p >= (char *)t->chunks[c] &&
				  (char *)fresh[i].p < (char *)(t->chunks[c] + TAB_CHUNK);
		CHECK(inside && fresh[i].how == WARM_TOUCH);
		len += fresh[i].len;
	}
	CHECK(len > 0 && len <= (N - 100) * sizeof(struct entry));
	CHECK(t->cmask + 1 >= N - 100 && t->kmask + 1 >= N - 100);
	warm_join(warm_start(fresh, nf));
	dump(t, S(1), ST_ALL_MASK, v, N);
	CHECK(t->nchunks == chunks && found_all(t, v, N) == N);
	/* Nothing new to reserve: no spans. */
	CHECK(track_reserve(t, N, fresh, 4) == 0 && t->nchunks == chunks);
	free(v);
	track_free(t);
}

/*
 * A dump larger than the room reserved before (a small first dump, then a
 * large one: room for the new rows at once), then smaller ones (the rest
 * goes, its slots are reused, nothing more is reserved), then larger again:
 * entries never move, every socket is found, counts hold.
 */
static void test_reserve(void)
{
	enum { SMALL = 10, BIG = 5000, AGAIN = 3000 };
	struct track *t = new_track();
	struct sock *v = xreallocarray(NULL, BIG + AGAIN, sizeof(*v));
	struct sock *w = xreallocarray(NULL, SMALL + AGAIN, sizeof(*w));
	const struct tsock *first;
	uint32_t chunks;

	for (size_t i = 0; i < BIG + AGAIN; i++)
		v[i] = mk(i + 1, i % 3 ? ST_ESTABLISHED : ST_TIME_WAIT, (uint16_t)(1024 + i), 80);
	dump(t, S(1), ST_ALL_MASK, v, SMALL);
	first = track_find(t, 1);
	CHECK(track_alive(t) == SMALL && found_all(t, v, SMALL) == SMALL);
	dump(t, S(2), ST_ALL_MASK, v, BIG);
	CHECK(track_alive(t) == BIG && nev_total == BIG - SMALL);
	CHECK(found_all(t, v, BIG) == BIG && track_find(t, 1) == first);
	CHECK(t->cmask + 1 >= BIG && t->kmask + 1 >= BIG);
	chunks = t->nchunks;
	CHECK((size_t)chunks * TAB_CHUNK >= BIG && chunks <= BIG / TAB_CHUNK + 2);
	/* Smaller: the others miss once, then go, then expire: their slots are free. */
	dump(t, S(3), ST_ALL_MASK, v, SMALL);
	dump(t, S(4), ST_ALL_MASK, v, SMALL);
	CHECK(track_alive(t) == SMALL && track_size(t) == BIG);
	track_expire(t, S(10));
	CHECK(track_size(t) == SMALL && t->nfree == BIG - SMALL);
	CHECK(found_all(t, v, SMALL) == SMALL && track_find(t, BIG) == NULL);
	/* AGAIN new sockets fit in the freed slots: no more memory. */
	memcpy(w, v, SMALL * sizeof(*w));
	memcpy(w + SMALL, v + BIG, AGAIN * sizeof(*w));
	dump(t, S(11), ST_ALL_MASK, w, SMALL + AGAIN);
	CHECK(t->nchunks == chunks && track_alive(t) == SMALL + AGAIN);
	CHECK(found_all(t, w, SMALL + AGAIN) == SMALL + AGAIN && track_find(t, 1) == first);
	/* Larger than all that was ever held: grows again, nothing lost. */
	dump(t, S(12), ST_ALL_MASK, v, BIG + AGAIN);
	CHECK(track_alive(t) == BIG + AGAIN && found_all(t, v, BIG + AGAIN) == BIG + AGAIN);
	CHECK(t->nchunks > chunks && t->cmask + 1 >= BIG + AGAIN);
	CHECK(track_count(t, ST_TIME_WAIT) == (BIG + AGAIN + 2) / 3);
	free(w);
	free(v);
	track_free(t);
}

/* Apply a full dump taken at mono that covers the namespaces cov. */
static void dump_ns(struct track *t, int64_t mono, const uint32_t *cov, size_t ncov,
		    const struct sock *v, size_t n)
{
	dump_cov(t, mono, ST_ALL_MASK, cov, ncov, v, n);
}

static struct sock in_ns(struct sock s, uint32_t ns)
{
	s.netns = ns;
	return s;
}

/* The entry of cookie in namespace ns, ghosts included. */
static const struct tsock *find_ns(const struct track *t, uint64_t cookie, uint32_t ns)
{
	const struct tsock **v = NULL, *found = NULL;
	size_t cap = 0, n = track_collect(t, &v, &cap);

	for (size_t i = 0; i < n; i++)
		if (v[i]->s.cookie == cookie && v[i]->s.netns == ns)
			found = v[i];
	free(v);
	return found;
}

/*
 * Absence counts only in the namespaces a dump covered: a namespace whose
 * dump failed keeps its sockets; one dumped without a socket twice loses it,
 * and the others keep theirs. The same cookie in two namespaces (kernels
 * that count cookies per namespace) is two sockets.
 */
static void test_netns_absence(void)
{
	struct track *t = new_track();
	static const uint32_t both[] = {0, 1}, only0[] = {0};
	struct sock a = mk(1, ST_ESTABLISHED, 1000, 80), b = in_ns(a, 1);
	struct sock ab[] = {a, b};

	dump_ns(t, S(1), both, 2, ab, 2);
	CHECK(track_alive(t) == 2 && find_ns(t, 1, 0) != find_ns(t, 1, 1));
	/* Namespace 1's dump failed, twice: its socket is not missing. */
	dump_ns(t, S(2), only0, 1, &a, 1);
	dump_ns(t, S(3), only0, 1, &a, 1);
	CHECK(nev == 0 && track_alive(t) == 2 && !(find_ns(t, 1, 1)->flags & TS_MISSING));
	/* Dumped without it: missing once, then gone at the first dump that lacked it. */
	dump_ns(t, S(4), both, 2, &a, 1);
	CHECK(nev == 0 && (find_ns(t, 1, 1)->flags & TS_MISSING));
	dump_ns(t, S(5), both, 2, &a, 1);
	CHECK(nev == 1 && evs[0].s.netns == 1 && evs[0].to == ST_CLOSE && evs[0].mono == S(4));
	CHECK(track_alive(t) == 1 && !(find_ns(t, 1, 0)->flags & (TS_GHOST | TS_MISSING)));
	/*
	 * A destroy notice names its namespace: namespace 0's socket of that
	 * cookie ends, exactly then (the next full dump rules out a TIME_WAIT).
	 */
	notice(t, &a, S(6), S(6) + WALL_OFF);
	dump_ns(t, S(7), both, 2, NULL, 0);
	CHECK(nev == 2 && evs[1].s.netns == 0 && evs[1].mono == S(6) &&
	      evs[1].dwell_kind == TIME_ATLEAST && (find_ns(t, 1, 0)->flags & TS_GHOST));
	track_free(t);
}

/*
 * A namespace dumped for the first time after start-up (a container found
 * by a rescan) holds sockets that predate its first dump: no appearance,
 * dwell "at least". Later newcomers there appear. A dump that lists no
 * namespace covers namespace 0 alone.
 */
static void test_netns_late(void)
{
	struct track *t = new_track();
	static const uint32_t both[] = {0, 1}, only0[] = {0};
	struct sock a = mk(1, ST_LISTEN, 80, 0), b = in_ns(mk(2, ST_LISTEN, 81, 0), 1);
	struct sock c = in_ns(mk(3, ST_SYN_SENT, 2000, 81), 1);
	struct sock ab[] = {a, b}, abc[] = {a, b, c};

	dump_ns(t, S(1), only0, 1, &a, 1);
	dump_ns(t, S(2), both, 2, ab, 2);
	CHECK(nev == 0 && find_ns(t, 2, 1)->since_kind == TIME_ATLEAST);
	dump_ns(t, S(3), both, 2, abc, 3);
	CHECK(nev == 1 && evs[0].s.netns == 1 && evs[0].from == ST_CLOSE &&
	      evs[0].to == ST_SYN_SENT && evs[0].dwell_kind == TIME_BETWEEN);
	CHECK(find_ns(t, 3, 1)->since_lo == S(2));
	FULL(t, S(4), a);
	FULL(t, S(5), a);
	CHECK(nev == 1 && track_alive(t) == 3);
	track_free(t);
}

/* The events of one cookie in namespace ns, as "from>to" pairs joined by spaces. */
static const char *history_of(uint64_t cookie, uint32_t ns)
{
	static char buf[512];
	size_t len = 0;

	buf[0] = 0;
	for (size_t i = 0; i < nev && len < sizeof(buf); i++)
		if (evs[i].s.cookie == cookie && evs[i].s.netns == ns)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s>%s%s",
						len ? " " : "", st_name(evs[i].from),
						st_name(evs[i].to), evs[i].jump ? "!" : "");
	return buf;
}

/*
 * The eBPF source names each change's socket by cookie and namespace: two
 * namespaces using the same 4-tuple at once keep two histories, and a
 * connect()'s portless first change is re-keyed when its port comes.
 */
static void test_cookie_netns(void)
{
	struct track *t = new_track();
	struct sock c = mk(0, ST_SYN_SENT, 40000, 80), c0 = c;
	struct sock_key k0, k1, p0, p1;

	full_empty(t, S(1));
	c0.sport = 0;
	p0 = key_of(&c0);
	p1 = p0;
	p1.netns = 1;
	k0 = key_of(&c);
	k1 = k0;
	k1.netns = 1;
	for (unsigned i = 0; i < 2; i++) {
		int64_t at = S(2) + MS(i);
		const struct sock_key *p = i ? &p1 : &p0, *k = i ? &k1 : &k0;

		track_changed(t, p, 7, ST_CLOSE, ST_SYN_SENT, at, 0);
		track_changed(t, k, 7, ST_SYN_SENT, ST_ESTABLISHED, at + 10, 0);
	}
	/* Interleaved teardowns: one closes actively, the other passively. */
	track_changed(t, &k0, 7, ST_ESTABLISHED, ST_FIN_WAIT1, S(3), 0);
	track_changed(t, &k1, 7, ST_ESTABLISHED, ST_CLOSE_WAIT, S(3) + 1, 0);
	track_changed(t, &k0, 7, ST_FIN_WAIT1, ST_FIN_WAIT2, S(3) + 2, 0);
	track_changed(t, &k1, 7, ST_CLOSE_WAIT, ST_LAST_ACK, S(3) + 3, 0);
	track_changed(t, &k1, 7, ST_LAST_ACK, ST_CLOSE, S(3) + 4, 0);
	CHECK_STR(history_of(7, 0), "CLOSED>SYN_SENT SYN_SENT>ESTABLISHED "
				    "ESTABLISHED>FIN_WAIT_1 FIN_WAIT_1>FIN_WAIT_2");
	CHECK_STR(history_of(7, 1), "CLOSED>SYN_SENT SYN_SENT>ESTABLISHED "
				    "ESTABLISHED>CLOSE_WAIT CLOSE_WAIT>LAST_ACK LAST_ACK>CLOSED");
	CHECK(find_ns(t, 7, 0)->s.sport == 40000 && find_ns(t, 7, 1)->s.sport == 40000);
	/* A dump's row of the same cookie continues the same entry. */
	FULL(t, S(4), mk(7, ST_FIN_WAIT2, 40000, 80));
	CHECK(nev == 9 && track_size(t) == 2);
	track_free(t);
}

/*
 * Samples lost: a change of a known cookie from another state than the one
 * known is told from the state known, as a jump; a change whose 4-tuple
 * holds another socket in another state (no cookie: the perf path) starts
 * a history of its own instead of bending that socket's.
 */
static void test_lost_samples(void)
{
	struct track *t = new_track();
	struct sock a = mk(0, ST_ESTABLISHED, 40000, 80);
	struct sock_key k = key_of(&a);

	full_empty(t, S(1));
	track_changed(t, &k, 9, ST_CLOSE, ST_SYN_SENT, S(2), 0);
	track_changed(t, &k, 9, ST_SYN_SENT, ST_ESTABLISHED, S(2) + 1, 0);
	/* ESTABLISHED -> FIN_WAIT_1 was lost. */
	track_changed(t, &k, 9, ST_FIN_WAIT1, ST_FIN_WAIT2, S(3), 0);
	CHECK_STR(history_of(9, 0), "CLOSED>SYN_SENT SYN_SENT>ESTABLISHED ESTABLISHED>FIN_WAIT_2!");
	track_free(t);

	t = new_track();
	full_empty(t, S(1));
	track_changed(t, &k, 0, ST_CLOSE, ST_SYN_SENT, S(2), 0);
	track_changed(t, &k, 0, ST_SYN_SENT, ST_ESTABLISHED, S(2) + 1, 0);
	track_changed(t, &k, 0, ST_ESTABLISHED, ST_CLOSE_WAIT, S(2) + 2, 0);
	/* Another socket of the same 4-tuple, seen mid-life: not CLOSE_WAIT -> FIN_WAIT_2. */
	track_changed(t, &k, 0, ST_FIN_WAIT1, ST_FIN_WAIT2, S(3), 0);
	CHECK_STR(history_of(0, 0), "CLOSED>SYN_SENT SYN_SENT>ESTABLISHED "
				    "ESTABLISHED>CLOSE_WAIT FIN_WAIT_1>FIN_WAIT_2");
	CHECK(track_alive(t) == 2 && track_count(t, ST_CLOSE_WAIT) == 1);
	track_free(t);
}

int main(void)
{
	RUN(test_transition);
	RUN(test_jump);
	RUN(test_ghost);
	RUN(test_ghost_order);
	RUN(test_ghost_zero);
	RUN(test_resurrect);
	RUN(test_missing_once);
	RUN(test_duplicate);
	RUN(test_baseline);
	RUN(test_synrecv_link);
	RUN(test_fastlane);
	RUN(test_filtered_universe);
	RUN(test_destroy_known);
	RUN(test_destroy_tw_bound);
	RUN(test_destroy_unknown);
	RUN(test_reuse_short_life);
	RUN(test_notice_after_old_tw);
	RUN(test_tw_other_cookie);
	RUN(test_late_notice_after_tw);
	RUN(test_notice_between_reused_tw);
	RUN(test_notice_claims_one_tw);
	RUN(test_notice_request_child);
	RUN(test_tw_born_during_dump);
	RUN(test_orphan_full_fw2);
	RUN(test_notice_queued_late);
	RUN(test_notice_ack_clock);
	RUN(test_notice_before_orphan_tw);
	RUN(test_exact_merge);
	RUN(test_exact_reset_and_stale);
	RUN(test_exact_request_link);
	RUN(test_exact_late);
	RUN(test_fresh_cookie_handover);
	RUN(test_exact_notice_first);
	RUN(test_fw2_mini_handover);
	RUN(test_cookieless);
	RUN(test_legal);
	RUN(test_direct);
	RUN(test_reset);
	RUN(test_many);
	RUN(test_reserve);
	RUN(test_expect);
	RUN(test_first_unique);
	RUN(test_netns_absence);
	RUN(test_netns_late);
	RUN(test_cookie_netns);
	RUN(test_lost_samples);
	RUN(test_rare_events);
	RUN(test_request_notice_then_new_life);
	return unit_done();
}
