#include "config.h"
#include "track.h"

#include <stdlib.h>
#include <string.h>

#include "track_tab.h"

#define TW_LEN_NS (60 * NS_PER_SEC) /* TCP_TIMEWAIT_LEN: fixed in Linux */
/* Rows ahead of the one applied whose index buckets are fetched (track_tab_prefetch). */
#define PREFETCH_AHEAD 8

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* A dwell is exact only when both of its ends are; a lower bound stays one. */
static uint8_t dwell_kind(uint8_t from_kind, uint8_t to_kind)
{
	if (from_kind == TIME_ATLEAST)
		return TIME_ATLEAST;
	if (from_kind == TIME_EXACT && to_kind == TIME_EXACT)
		return TIME_EXACT;
	return TIME_BETWEEN;
}

/* When a dump that covered namespace ns last asked for state st; 0 if none did. */
static int64_t cover_of(const struct track *t, uint32_t ns, unsigned st)
{
	return st < ST_MAX && ns < t->ns_cap ? t->ns[ns].cover[st] : 0;
}

/* The dump of generation t->gen covers namespace ns. */
static bool covered(const struct track *t, uint32_t ns)
{
	return ns < t->ns_cap && t->ns[ns].gen == t->gen;
}

static void cover_mark(struct track *t, uint32_t ns)
{
	t->ns = xgrow_index(t->ns, &t->ns_cap, ns, sizeof(*t->ns));
	t->ns[ns].gen = t->gen;
}

/* Whether the event from -> to is a jump: see struct track_event. */
static bool jump_of(unsigned from, unsigned to, bool seen)
{
	return seen ? !track_legal(from, to) : !track_direct(from, to);
}

static bool is_rare(unsigned st)
{
	return st < ST_MAX && (ST_MASK(st) & ST_RARE_MASK);
}

void track_emit(struct track *t, const struct entry *e, uint8_t from, uint8_t to, int64_t mono,
		int64_t wall, uint8_t kind, int64_t dwell, bool seen)
{
	struct track_event ev = {
	    .mono = mono,
	    .wall = wall ? wall : track_wall(t, mono),
	    .s = e->ts.s,
	    .from = from,
	    .to = to,
	    .dwell_kind = kind,
	    .jump = jump_of(from, to, seen),
	    .dwell = dwell,
	    .ts = &e->ts,
	};

	t->nevents++;
	/* A jump's path is unknown, and so is a life before its first sight. */
	if (ev.jump || from == ST_UNKNOWN || is_rare(from) || is_rare(to))
		t->nrare++;
	for (unsigned i = 0; i < t->nls; i++)
		t->ls[i].fn(t->ls[i].arg, &ev);
}

uint64_t track_events(const struct track *t)
{
	return t->nevents;
}

uint64_t track_rare_events(const struct track *t)
{
	return t->nrare;
}

static void hist_push(const struct track *t, struct entry *e, uint8_t st, uint8_t kind,
		      int64_t enter, int64_t dwell)
{
	struct tsock *ts = &e->ts;
	unsigned max = t->o.max_hist;

	if (!max)
		return;
	if (ts->nhist >= max) {
		memmove(ts->hist, ts->hist + 1, (size_t)(max - 1) * sizeof(*ts->hist));
		ts->nhist = (uint16_t)(max - 1);
	}
	if (ts->nhist == ts->hist_cap) {
		unsigned cap = ts->hist_cap ? ts->hist_cap * 2u : 4u;
		if (cap > max)
			cap = max;
		ts->hist = xreallocarray(ts->hist, cap, sizeof(*ts->hist));
		ts->hist_cap = (uint16_t)cap;
	}
	ts->hist[ts->nhist++] = (struct track_hist){st, kind, enter, dwell};
}

void track_transition(struct track *t, struct entry *e, uint8_t to, int64_t since, int64_t lo,
		      uint8_t kind, int64_t wall, bool seen)
{
	struct tsock *ts = &e->ts;
	uint8_t from = ts->s.state;
	int64_t dwell = since > ts->since ? since - ts->since : 0;
	uint8_t dk = dwell_kind(ts->since_kind, kind);
	bool alive = tab_alive(e);

	hist_push(t, e, from, ts->since_kind, ts->since, dwell);
	if (alive)
		track_tab_count(t, e, -1);
	ts->s.state = to;
	if (alive)
		track_tab_count(t, e, +1);
	ts->prev_state = from;
	ts->since = since;
	ts->since_lo = lo < since ? lo : since;
	ts->since_kind = kind;
	ts->changed = since;
	if (jump_of(from, to, seen))
		ts->flags |= TS_JUMP;
	else
		ts->flags &= (uint8_t)~TS_JUMP;
	track_emit(t, e, from, to, since, wall, dk, dwell, seen);
}

void track_ghost_list(struct track *t, struct entry *e)
{
	dueheap_push(&t->ghosts, e->ts.gone + t->keep_ns, e->self);
}

void track_gone(struct track *t, struct entry *e, int64_t at, uint8_t end_kind, int64_t wall,
		bool seen)
{
	struct tsock *ts = &e->ts;
	int64_t dwell = at > ts->since ? at - ts->since : 0;

	track_tab_count(t, e, -1);
	ts->flags |= TS_GHOST;
	ts->flags &= (uint8_t)~TS_MISSING;
	ts->gone = at;
	ts->changed = at;
	e->end_at = 0;
	e->iflags &= (uint16_t)~E_ENDSEEN;
	track_ghost_list(t, e);
	track_emit(t, e, ts->s.state, ST_CLOSE, at, wall, dwell_kind(ts->since_kind, end_kind),
		   dwell, seen);
}

void track_refine(struct entry *e, int64_t mono, bool loose)
{
	struct tsock *ts = &e->ts;

	/*
	 * A poll saw the change first; an exact time replaces the estimate. A
	 * tracepoint time may lie after the dump's start (a dump is not atomic:
	 * it reads a row later than it began); a notice's must fit the window.
	 */
	if (ts->since_kind == TIME_EXACT)
		return;
	if (loose) {
		if (ts->since_kind == TIME_BETWEEN && mono < ts->since_lo)
			return;
	} else if (ts->since_kind != TIME_BETWEEN || mono < ts->since_lo || mono > ts->since) {
		return;
	}
	ts->since = ts->since_lo = ts->changed = mono;
	ts->since_kind = TIME_EXACT;
	if (ts->nhist && ts->hist[ts->nhist - 1].enter <= mono)
		ts->hist[ts->nhist - 1].dwell = mono - ts->hist[ts->nhist - 1].enter;
}

void track_adopt(struct track *t, struct entry *e, uint64_t cookie)
{
	if (e->iflags & E_CIDX)
		track_cidx_remove(t, e);
	e->ts.s.cookie = cookie;
	if (cookie)
		track_cidx_insert(t, e);
	e->iflags &= (uint16_t) ~(E_PROV | E_REQ);
}

bool track_req_pred(const struct entry *e, const void *arg)
{
	const struct req_match *m = arg;
	unsigned st = e->ts.s.state;

	/*
	 * A destroyed socket never seen, and a mini-socket of its 4-tuple: its
	 * own, if it began before the notice was read. Under churn a 4-tuple
	 * comes back within a second, and a later life's TIME_WAIT is not it.
	 */
	if (e->iflags & E_HIDDEN) {
		struct notice_win w = {e->end_at - (int64_t)e->win.before_ms * NS_PER_MS,
				       e->end_at + (int64_t)e->win.after_ms * NS_PER_MS};

		return m->mini &&
		       (m->born == INT64_MIN || track_notice_fits(&w, m->born, m->after));
	}
	if (!tab_alive(e) || (m->gen && e->gen == m->gen))
		return false;
	if (e->iflags & E_PROV)
		return true;
	/*
	 * A cookie first asked for by the destroy notice was made after the
	 * mini-socket, which got one of its own; a cookie a dump saw earlier
	 * was copied to the mini-socket, and another cookie is another socket.
	 */
	if (m->mini && e->end_at && (e->iflags & E_NCOOKIE) && e->ts.s.cookie != m->cookie)
		return true;
	/*
	 * A request whose cookie a notice has told the end of: its child had
	 * that cookie (the kernel copies it), and another cookie is a later
	 * life of the 4-tuple.
	 */
	if (e->end_at && (st == ST_SYN_RECV || st == ST_NEW_SYN_RECV))
		return false;
	return e->ts.s.cookie && e->ts.s.cookie != m->cookie &&
	       (st == ST_SYN_RECV || st == ST_NEW_SYN_RECV || (e->iflags & E_REQ));
}

/*
 * A timewait mini-socket: TIME_WAIT, or FIN_WAIT_2 with the timewait timer.
 * An orphaned full socket in FIN_WAIT_2 (closed while its owner held it, or
 * with a long tcp_fin_timeout) has no inode either, but a keepalive timer:
 * it has handed over nothing yet, and its own notice is still to come.
 */
static bool is_mini(const struct sock *r)
{
	return r->state == ST_TIME_WAIT || tab_fw2_mini(r);
}

/*
 * Entry time from a kernel timer: a TIME_WAIT socket lives 60 s, an orphaned
 * FIN_WAIT_2 (a timewait mini-socket: inode 0, timer 3) tcp_fin_timeout.
 */
static bool timer_since(const struct track *t, const struct sock *s, int64_t now, int64_t *at)
{
	int64_t total, left;

	if (s->timer != TM_TIMEWAIT)
		return false;
	if (s->state == ST_TIME_WAIT)
		total = TW_LEN_NS;
	else if (s->state == ST_FIN_WAIT2 && s->inode == 0)
		total = t->o.fin_timeout_ns;
	else
		return false;
	left = (int64_t)s->expires_ms * NS_PER_MS;
	if (left > total + TIMER_AHEAD_NS)
		left = total;
	*at = now - (total - left);
	return true;
}

/*
 * The first state of an entry first seen in a dump. It is new (an event from
 * CLOSE) only when an earlier dump asked for that state and did not have it;
 * else it predates us and its time is a lower bound, unless a timer tells.
 */
static void first_state(struct track *t, struct entry *e, const struct snapshot *sn)
{
	struct tsock *ts = &e->ts;
	unsigned st = ts->s.state;
	int64_t lo = cover_of(t, ts->s.netns, st), at;
	bool fresh = lo != 0;

	ts->since = sn->mono;
	ts->since_kind = fresh ? TIME_BETWEEN : TIME_ATLEAST;
	if (timer_since(t, &ts->s, sn->mono, &at)) {
		ts->since = clamp64(at, lo, sn->mono + TIMER_AHEAD_NS);
		ts->since_kind = TIME_EXACT;
	}
	ts->since_lo = ts->since_kind == TIME_BETWEEN ? lo : ts->since;
	ts->first_seen = ts->last_seen = sn->mono;
	if (!fresh) {
		ts->prev_state = ST_UNKNOWN;
		return;
	}
	ts->flags |= TS_NEW;
	ts->prev_state = ST_CLOSE;
	ts->changed = ts->since;
	track_emit(t, e, ST_CLOSE, (uint8_t)st, ts->since, 0, ts->since_kind, 0, false);
}

static struct entry *row_new(struct track *t, const struct sock *r, const struct snapshot *sn)
{
	struct entry *e = track_tab_alloc(t);

	e->ts.s = *r;
	e->gen = t->gen;
	if (tab_fw2_mini(r))
		e->iflags |= E_MINI;
	/* Its full socket was never seen: a destroy notice may still come for it. */
	if (is_mini(r))
		e->iflags |= E_TWFREE;
	if (r->cookie)
		track_cidx_insert(t, e);
	track_kidx_insert(t, e);
	t->size++;
	track_tab_count(t, e, +1);
	first_state(t, e, sn);
	return e;
}

/* A destroyed socket we never saw turns up in a dump: it lives on (TIME_WAIT, most likely). */
static void row_reveal(struct track *t, struct entry *e, const struct sock *r,
		       const struct snapshot *sn)
{
	bool rekey = !track_key_same(&e->ts.s, r);

	/*
	 * Its notice was read, not stamped, by the kernel: the TIME_WAIT
	 * timer dates the hand-over better than the time the notice was read.
	 */
	e->iflags &= (uint16_t)~E_HIDDEN;
	e->end_at = 0;
	if (rekey)
		track_kidx_remove(t, e);
	e->ts.s = *r;
	if (rekey)
		track_kidx_insert(t, e);
	if (tab_fw2_mini(r))
		e->iflags |= E_MINI;
	e->gen = t->gen;
	t->size++;
	track_tab_count(t, e, +1);
	first_state(t, e, sn);
}

/* A ghost's cookie is back in a newer dump: the dumps missed it, it lives on. */
static void row_resurrect(struct track *t, struct entry *e, const struct sock *r,
			  const struct snapshot *sn)
{
	struct tsock *ts = &e->ts;
	int64_t gone = ts->gone;

	hist_push(t, e, ts->s.state, ts->since_kind, ts->since,
		  gone > ts->since ? gone - ts->since : 0);
	ts->flags &= (uint8_t) ~(TS_GHOST | TS_RESET | TS_JUMP);
	ts->flags |= TS_NEW;
	ts->gone = 0;
	ts->s = *r;
	e->iflags &= (uint16_t)~E_MINI;
	if (tab_fw2_mini(r))
		e->iflags |= E_MINI;
	e->gen = t->gen;
	track_tab_count(t, e, +1);
	ts->prev_state = ST_CLOSE;
	ts->since = ts->changed = ts->last_seen = sn->mono;
	ts->since_lo = gone;
	ts->since_kind = TIME_BETWEEN;
	ts->missing = 0;
	track_emit(t, e, ST_CLOSE, r->state, ts->since, 0, TIME_BETWEEN, 0, false);
}

bool track_key_same(const struct sock *a, const struct sock *b)
{
	return a->family == b->family && a->sport == b->sport && a->dport == b->dport &&
	       a->netns == b->netns && !memcmp(a->src, b->src, sizeof(a->src)) &&
	       !memcmp(a->dst, b->dst, sizeof(a->dst));
}

static void row_update(struct track *t, struct entry *e, const struct sock *r,
		       const struct snapshot *sn)
{
	struct tsock *ts = &e->ts;
	uint8_t old = ts->s.state, st = r->state;
	int64_t lo = ts->last_seen, at;
	bool rekey = !track_key_same(&ts->s, r);
	bool was_mini = e->iflags & E_MINI;

	/* The exact source moved it after this dump began: the row is older news. */
	if (st != old && ts->changed > sn->mono)
		st = old;
	if (rekey)
		track_kidx_remove(t, e);
	ts->s = *r;
	ts->s.state = old;
	if (rekey)
		track_kidx_insert(t, e);
	e->gen = t->gen;
	if (sn->mono > ts->last_seen)
		ts->last_seen = sn->mono;
	ts->missing = 0;
	ts->flags &= (uint8_t)~TS_MISSING;
	/*
	 * The mini-socket is read after the hand-over, whenever the dump began:
	 * the full socket's end is past, and it dates no TIME_WAIT to come.
	 */
	if (tab_fw2_mini(r)) {
		e->iflags |= E_MINI;
		e->end_at = 0;
	}
	if (st != old) {
		int64_t since = sn->mono;
		uint8_t kind = TIME_BETWEEN;

		if (cover_of(t, r->netns, st) > lo)
			lo = cover_of(t, r->netns, st);
		if (lo > since)
			lo = since;
		/* Only the tracepoint's end is exact; a notice's is when it was read. */
		if (e->end_at && (e->iflags & E_ENDSEEN) && st == ST_TIME_WAIT && e->end_at >= lo &&
		    e->end_at <= since) {
			since = lo = e->end_at;
			kind = TIME_EXACT;
		} else if (timer_since(t, r, sn->mono, &at)) {
			since = clamp64(at, lo, since + TIMER_AHEAD_NS);
			/*
			 * A FIN_WAIT_2 mini-socket turns TIME_WAIT at the peer's FIN:
			 * no tracepoint saw it, and the timer it restarted counts in
			 * jiffies from a row read after the dump began.
			 */
			if (!(was_mini && st == ST_TIME_WAIT)) {
				lo = since;
				kind = TIME_EXACT;
			}
		}
		track_transition(t, e, st, since, lo, kind, 0, false);
	}
	/* A dump begun after the full socket ended still has it: a mini-socket carries on. */
	if (e->end_at && sn->mono > e->end_at)
		e->end_at = 0;
}

/* Cookie-less rows match by 4-tuple; an entry not yet seen in this dump first. */
static bool cookieless_pred(const struct entry *e, const void *arg)
{
	const uint32_t *gen = arg;

	return tab_alive(e) && !e->ts.s.cookie && (!gen || e->gen != *gen);
}

static bool synsent_prov_pred(const struct entry *e, const void *arg)
{
	(void)arg;
	return tab_alive(e) && (e->iflags & E_PROV) && e->ts.s.state == ST_SYN_SENT;
}

struct entry *track_synsent_prov(struct track *t, const struct sock_key *k, uint16_t sport)
{
	struct sock_key k0 = *k;
	struct entry *e;

	/* connect() reports SYN_SENT before the kernel picks the source port. */
	k0.sport = 0;
	e = track_kidx_find(t, &k0, synsent_prov_pred, NULL);
	if (e) {
		track_kidx_remove(t, e);
		e->ts.s.sport = sport;
		track_kidx_insert(t, e);
	}
	return e;
}

/*
 * A row whose cookie we do not know may still continue a history: the
 * established child of a request socket we saw (same 4-tuple, new cookie),
 * or a socket the exact source reported before any dump had it.
 */
static struct entry *row_match(struct track *t, const struct sock *r, const struct snapshot *sn)
{
	struct sock_key k;
	struct entry *e;
	struct req_match m = {r->cookie, t->gen, is_mini(r), INT64_MIN,
			      r->state == ST_TIME_WAIT ? t->o.fin_timeout_ns : 0};

	sock_key(r, &k);
	if (m.mini && !timer_since(t, r, sn->mono, &m.born))
		m.born = INT64_MIN;
	if (!r->cookie) {
		e = track_kidx_find(t, &k, cookieless_pred, &t->gen);
		return e ? e : track_kidx_find(t, &k, cookieless_pred, NULL);
	}
	e = track_kidx_find(t, &k, track_req_pred, &m);
	/* A request's child is past SYN_RECV; only an exact-source entry may match earlier rows. */
	if (e && !(e->iflags & E_PROV) &&
	    (r->state == ST_SYN_RECV || r->state == ST_NEW_SYN_RECV || r->state == ST_LISTEN ||
	     r->state == ST_SYN_SENT))
		e = NULL;
	if (!e && r->state == ST_SYN_SENT)
		e = track_synsent_prov(t, &k, r->sport);
	if (e)
		track_adopt(t, e, r->cookie);
	return e;
}

/* The exact source (no cookie) has news of this 4-tuple from after the dump began. */
static bool exact_newer_pred(const struct entry *e, const void *arg)
{
	return !e->ts.s.cookie && track_newer_pred(e, arg);
}

/*
 * A row no socket of ours continues that says nothing true any more. A dump
 * is not atomic: the exact source may have told a short life (a request
 * and its child, all the teardown) that a row read midway catches in one
 * of its states; a new entry would repeat a life already told. A mini-socket
 * is the end of such a life, not a repeat. And a row of a connected state
 * without a local port is a socket caught as it was torn down.
 */
static bool stale_row(struct track *t, const struct sock *r, const struct snapshot *sn)
{
	struct sock_key k;
	int64_t since = sn->mono;

	if (!r->sport && r->state != ST_LISTEN && r->state != ST_SYN_SENT && r->state != ST_CLOSE)
		return true;
	if (!t->exact_on || is_mini(r))
		return false;
	sock_key(r, &k);
	return track_kidx_find(t, &k, exact_newer_pred, &since) != NULL;
}

/*
 * The entry of a cookie, trying first the slot after *hint. A dump lists
 * sockets in the order of the kernel's hash table, which changes little
 * from dump to dump, and entries were made in the order of a dump: the next
 * row is most often the next slot, found without a random read of the index.
 */
static struct entry *cookie_entry(const struct track *t, const struct sock *r, struct entry **hint)
{
	struct entry *e = NULL;

	if (*hint && (*hint)->self + 1 < t->used) {
		e = tab_get(t, (*hint)->self + 1);
		if ((e->iflags & (E_CIDX | E_FREE)) != E_CIDX || e->ts.s.cookie != r->cookie ||
		    e->ts.s.netns != r->netns)
			e = NULL;
	}
	if (!e)
		e = track_cidx_find(t, r->cookie, r->netns);
	*hint = e;
	return e;
}

/*
 * A socket found already in a state entered on an ACK from the peer (the
 * peer's FIN for CLOSE_WAIT and CLOSING, the ACK of our FIN for FIN_WAIT_2)
 * has been there at least since the last ACK came: tcp_info says how long
 * ago. Any ACK after the entry is later still, so this is a lower bound,
 * and usually the time itself. Only for a time known as a lower bound (it
 * predates us): a state we saw begin has a better one.
 */
static void kernel_age(struct entry *e, const struct snapshot *sn, const struct sock *r)
{
	const struct sock_info *in = snapshot_info(sn, (size_t)(r - sn->v));
	struct tsock *ts = &e->ts;
	unsigned st = ts->s.state;
	int64_t at;

	if (!in || ts->since_kind != TIME_ATLEAST || st != r->state)
		return;
	if (st != ST_CLOSE_WAIT && st != ST_CLOSING && !(st == ST_FIN_WAIT2 && r->inode))
		return;
	at = sn->mono - (int64_t)in->last_ack_recv_ms * NS_PER_MS;
	if (at < ts->since) {
		ts->since = ts->since_lo = at;
		ts->flags |= TS_KAGE;
	}
}

/*
 * empty: the tracker held no entry when this dump began (its first, most
 * often). hint: the entry of the row before, for cookie_entry().
 */
static void apply_row(struct track *t, const struct sock *r, const struct snapshot *sn, bool empty,
		      struct entry **hint)
{
	/*
	 * Into an empty table, a row of a dump without two rows of one cookie
	 * has none to find: a first dump of 160,000 rows took half again as
	 * long looking up, in an index still empty, where each would go.
	 */
	struct entry *e = r->cookie && !(empty && sn->unique) ? cookie_entry(t, r, hint) : NULL;

	if (e && (e->iflags & E_HIDDEN)) {
		struct sock_key k;
		struct req_match m = {r->cookie, t->gen, false, INT64_MIN, 0};
		struct entry *req;

		/* The child of a request we saw was destroyed: join it to the request's history. */
		sock_key(r, &k);
		req = track_kidx_find(t, &k, track_req_pred, &m);
		if (req && !(req->iflags & E_PROV)) {
			int64_t end = e->end_at;

			track_tab_release(t, e);
			track_adopt(t, req, r->cookie);
			req->end_at = end;
			row_update(t, req, r, sn);
		} else {
			row_reveal(t, e, r, sn);
		}
		return;
	}
	if (e && (e->ts.flags & TS_GHOST)) {
		/* A dump begun before the end still shows it: nothing new. */
		if (sn->mono > e->ts.gone)
			row_resurrect(t, e, r, sn);
		return;
	}
	/* Into an empty table, a row with a cookie continues nothing: no entry predates the dump.
	 */
	if (!e && !(empty && r->cookie))
		e = row_match(t, r, sn);
	if (!e && stale_row(t, r, sn))
		return;
	if (!e)
		e = row_new(t, r, sn);
	else if (e->iflags & E_HIDDEN)
		row_reveal(t, e, r, sn);
	else
		row_update(t, e, r, sn);
	kernel_age(e, sn, r);
}

/*
 * Absence counts only in a full dump: a socket missing once may be back
 * (dumps are not atomic). And only in the namespaces the dump covered: one
 * whose dump failed, or that is not watched, says nothing about its sockets.
 */
static void absences(struct track *t, const struct snapshot *sn)
{
	int64_t hidden_lo = INT64_MAX;

	for (uint32_t i = 0; i < t->used; i++) {
		struct entry *e = tab_get(t, i);

		if ((e->iflags & E_FREE) || !covered(t, e->ts.s.netns)) {
			if ((e->iflags & (E_FREE | E_HIDDEN)) == E_HIDDEN && e->end_at < hidden_lo)
				hidden_lo = e->end_at;
			continue;
		}
		if (e->iflags & E_HIDDEN) {
			if (e->gen == t->gen || sn->mono <= e->end_at) {
				if (e->end_at < hidden_lo)
					hidden_lo = e->end_at;
				continue;
			}
			track_hidden_closed(t, e);
			continue;
		}
		if ((e->ts.flags & TS_GHOST) || e->gen == t->gen)
			continue;
		/* Seen (by the exact source) after this dump began: its absence says nothing. */
		if (e->ts.last_seen > sn->mono)
			continue;
		if (e->end_at) {
			if (sn->mono > e->end_at)
				track_gone(t, e, e->end_at,
					   (e->iflags & E_ENDSEEN) ? TIME_EXACT : TIME_BETWEEN, 0,
					   e->iflags & E_ENDSEEN);
			continue;
		}
		if (e->ts.missing < UINT8_MAX)
			e->ts.missing++;
		if (e->ts.missing == 1) {
			e->miss_at = sn->mono;
			e->ts.flags |= TS_MISSING;
		} else {
			track_gone(t, e, e->miss_at, TIME_BETWEEN, 0, false);
		}
	}
	t->hidden_lo = hidden_lo;
}

void track_apply(struct track *t, const struct snapshot *sn)
{
	uint32_t universe = t->o.universe;
	/*
	 * A dump that asks for no fewer states than any dump before is full
	 * too: a state filter narrows every lane below the configured universe.
	 */
	bool full = (sn->states & universe) == universe || (sn->states & t->widest) == t->widest;
	bool empty = t->used == t->nfree;

	if (!sn->complete)
		return;
	t->widest |= sn->states;
	if (!t->first_dump)
		t->first_dump = sn->mono;
	t->wall_off = sn->wall - sn->mono;
	if (++t->gen == 0)
		t->gen = 1;
	if (!sn->nns)
		cover_mark(t, 0);
	for (uint32_t i = 0; i < sn->nns; i++)
		cover_mark(t, sn->ns[i]);
	/* More rows than sockets alive (the first dump above all): room for the new ones at once.
	 */
	if (sn->n > t->alive)
		track_tab_reserve(t, sn->n - t->alive);
	struct entry *hint = NULL;

	for (size_t i = 0; i < sn->n; i++) {
		/* Every row of a first dump is a new entry: its index buckets are fetched early. */
		if (empty && i + PREFETCH_AHEAD < sn->n)
			track_tab_prefetch(t, &sn->v[i + PREFETCH_AHEAD]);
		apply_row(t, &sn->v[i], sn, empty, &hint);
	}
	if (full) {
		absences(t, sn);
		t->last_full = sn->mono;
	}
	for (uint32_t i = 0; i < t->ns_cap; i++)
		if (covered(t, i))
			for (unsigned st = 0; st < ST_MAX; st++)
				if (sn->states & ST_MASK(st))
					t->ns[i].cover[st] = sn->mono;
}

struct track *track_new(const struct track_opts *o)
{
	struct track *t = xcalloc(1, sizeof(*t));

	t->o = *o;
	if (t->o.ghost_ns < 0)
		t->o.ghost_ns = 0;
	t->keep_ns = t->o.ghost_ns > TRACK_KEEP_NS ? t->o.ghost_ns : TRACK_KEEP_NS;
	t->hidden_lo = INT64_MAX;
	if (t->o.fin_timeout_ns <= 0)
		t->o.fin_timeout_ns = 60 * NS_PER_SEC;
	if (!t->o.universe)
		t->o.universe = ST_ALL_MASK;
	if (!t->o.max_hist)
		t->o.max_hist = 16;
	if (t->o.max_hist > UINT16_MAX)
		t->o.max_hist = UINT16_MAX;
	track_tab_init(t);
	return t;
}

void track_free(struct track *t)
{
	if (!t)
		return;
	track_tab_clear(t);
	free(t->ns);
	free(t);
}

void track_reset(struct track *t)
{
	track_tab_clear(t);
	track_tab_init(t);
	t->gen = 0;
	free(t->ns);
	t->ns = NULL;
	t->ns_cap = 0;
	t->last_full = 0;
	t->first_dump = 0;
	t->hidden_lo = INT64_MAX;
	t->wall_off = 0;
	t->widest = 0;
	t->exact_on = false;
}

void track_listen(struct track *t, track_event_fn fn, void *arg)
{
	if (t->nls < ARRAY_SIZE(t->ls))
		t->ls[t->nls++] = (struct track_listener){fn, arg};
}

void track_expire(struct track *t, int64_t now)
{
	while (t->ghosts.n && dueheap_first(&t->ghosts) <= now) {
		struct entry *e = tab_get(t, dueheap_pop(&t->ghosts));

		/* Freed, back alive, or gone again later (listed again): not this node's to end. */
		if ((e->iflags & E_FREE) || !(e->ts.flags & TS_GHOST) ||
		    now - e->ts.gone < t->keep_ns)
			continue;
		track_tab_release(t, e);
	}
}

bool track_ghost_shown(const struct track *t, const struct tsock *ts, int64_t now)
{
	return !(ts->flags & TS_GHOST) || now - ts->gone < t->o.ghost_ns;
}

size_t track_count(const struct track *t, unsigned st)
{
	return st < ST_MAX ? t->count[st] : 0;
}

size_t track_alive(const struct track *t)
{
	return t->alive;
}

size_t track_size(const struct track *t)
{
	return t->size;
}

void track_collect_room(const struct tsock ***v, size_t *cap, size_t n)
{
	*cap = n + n / 4 + 16;
	*v = xreallocarray(*v, *cap, sizeof(**v));
}

size_t track_collect(const struct track *t, const struct tsock ***v, size_t *cap)
{
	size_t n = 0;

	if (*cap < t->size || !*v) {
		track_collect_room(v, cap, t->size);
		populate(*v, t->size * sizeof(**v));
	}
	/* Every slot in use and shown (a first dump's table): no entry needs reading. */
	if (t->size == t->used) {
		for (uint32_t c = 0; n < t->used; c++)
			for (uint32_t i = 0; i < TAB_CHUNK && n < t->used; i++)
				(*v)[n++] = &t->chunks[c][i].ts;
		return n;
	}
	for (uint32_t i = 0; i < t->used; i++) {
		const struct entry *e = tab_get(t, i);
		if (tab_visible(e))
			(*v)[n++] = &e->ts;
	}
	return n;
}

const struct tsock *track_find(const struct track *t, uint64_t cookie)
{
	const struct entry *e = track_cidx_find(t, cookie, 0);

	return e && tab_visible(e) ? &e->ts : NULL;
}

int64_t track_last_poll(const struct track *t)
{
	return t->last_full;
}

int64_t track_horizon(const struct track *t)
{
	/* A notice waiting for the next full dump is told then, at the time it was read. */
	return t->hidden_lo < t->last_full ? t->hidden_lo : t->last_full;
}

int64_t track_wall(const struct track *t, int64_t mono)
{
	return mono + t->wall_off;
}
