#include "config.h"
#include "track.h"

#include <string.h>

#include "track_tab.h"

/*
 * States whose full socket the kernel frees when it hands the connection to a
 * TIME_WAIT (or orphaned FIN_WAIT_2) mini-socket that keeps the cookie. Polls
 * may have missed FIN_WAIT_1 and FIN_WAIT_2 entirely, so ESTABLISHED is one.
 */
static bool tw_bound(unsigned st)
{
	return st == ST_ESTABLISHED || st == ST_FIN_WAIT1 || st == ST_FIN_WAIT2 || st == ST_CLOSING;
}

/*
 * A request socket's cookie, once a dump has asked for it, is its child's:
 * the kernel copies it to the full socket it makes, and on to that one's
 * TIME_WAIT. A notice of that cookie is the child's end, which may be a
 * hand-over too.
 */
static bool request_state(unsigned st)
{
	return st == ST_SYN_RECV || st == ST_NEW_SYN_RECV;
}

static bool prov_pred(const struct entry *e, const void *arg)
{
	(void)arg;
	return tab_alive(e) && (e->iflags & E_PROV);
}

/* The exact source ended it before the destroy notice came. */
static bool cookieless_ghost_pred(const struct entry *e, const void *arg)
{
	(void)arg;
	return tab_visible(e) && (e->ts.flags & TS_GHOST) && !e->ts.s.cookie;
}

static bool mini_pred(const struct entry *e, const void *arg)
{
	(void)arg;
	return tab_alive(e) && (e->ts.s.state == ST_TIME_WAIT || tab_fw2_mini(&e->ts.s));
}

struct told_arg {
	int64_t at;
	uint64_t cookie;
	bool exact; /* the exact source is on: it told every life it heard */
};

/*
 * An entry that held this 4-tuple when the hidden socket ended and may be
 * the same socket: one the exact source made without a cookie, or one of
 * the same cookie. With the exact source on, also the mini-socket it handed
 * over to: a socket whose cookie was first asked for at its destruction
 * hands over to a TIME_WAIT with a cookie of its own. Any other socket with
 * another cookie is another life on the same 4-tuple (under churn ports
 * come back within seconds), not this one.
 */
static bool told_pred(const struct entry *e, const void *arg)
{
	const struct told_arg *a = arg;

	if (!tab_visible(e) || e->ts.first_seen > a->at)
		return false;
	if (!e->ts.s.cookie || e->ts.s.cookie == a->cookie)
		return true;
	return a->exact && tab_alive(e) && (e->ts.s.state == ST_TIME_WAIT || (e->iflags & E_MINI));
}

void track_hidden_closed(struct track *t, struct entry *e)
{
	struct tsock *ts = &e->ts;
	int64_t at = e->end_at;
	struct told_arg told = {at, ts->s.cookie, t->exact_on};
	struct sock_key k;

	/*
	 * The exact source may tell a short life after its destroy notice came
	 * (it holds samples back to order CPUs), or the notice may follow the
	 * TIME_WAIT mini-socket it handed over to: either way the history is
	 * on screen, and a second, emptier one would be invented.
	 */
	sock_key(&ts->s, &k);
	if (track_kidx_find(t, &k, told_pred, &told)) {
		track_tab_release(t, e);
		return;
	}

	e->iflags &= (uint16_t)~E_HIDDEN;
	e->end_at = 0;
	t->size++;
	ts->s.state = ST_CLOSE;
	ts->since = ts->since_lo = ts->first_seen = ts->last_seen = ts->changed = at;
	ts->since_kind = TIME_EXACT;
	ts->prev_state = ST_UNKNOWN;
	ts->flags = TS_NEW | TS_GHOST;
	ts->gone = at;
	track_ghost_list(t, e);
	track_emit(t, e, ST_UNKNOWN, ST_CLOSE, at, 0, TIME_ATLEAST, 0, false);
}

/*
 * The mini-socket a destroyed socket of this 4-tuple handed over to, when a
 * dump has shown it: one whose full socket was never seen (its notice not
 * matched yet) and that began before the notice was read, no earlier than
 * a notice can be late. The oldest first: notices of one 4-tuple come in
 * the order its sockets ended.
 */
struct own_mini {
	const struct track *t;
	struct notice_win w;
	int64_t read;
	struct entry *best;
};

static bool own_mini_pred(const struct entry *e, const void *arg)
{
	struct own_mini *a = (struct own_mini *)arg;
	const struct tsock *ts = &e->ts;

	/* A TIME_WAIT seen already began before the notice was read; after its orphan, maybe. */
	if (!tab_visible(e) || !(e->iflags & E_TWFREE) || ts->since < a->t->first_dump ||
	    !track_notice_fits(&a->w, ts->since,
			       ts->s.state == ST_TIME_WAIT ? a->read + TIMER_SLACK_NS - a->w.hi : 0))
		return false;
	if (!a->best || ts->since < a->best->ts.since)
		a->best = (struct entry *)e;
	return false; /* look at every one */
}

/* ms from a to b, rounded away from a, within an int32. */
static int32_t ms_span(int64_t a, int64_t b)
{
	int64_t d = b - a, ms = (d + (d < 0 ? -(NS_PER_MS - 1) : NS_PER_MS - 1)) / NS_PER_MS;

	return (int32_t)(ms > INT32_MAX ? INT32_MAX : ms < INT32_MIN ? INT32_MIN : ms);
}

void track_destroyed(struct track *t, const struct sock *s, int64_t lo, int64_t mono, int64_t ack,
		     int64_t wall)
{
	struct notice_win win = track_notice_win(lo, mono, ack);

	struct entry *e = s->cookie ? track_cidx_find(t, s->cookie, s->netns) : NULL;
	bool via_req = false;

	if (!e) {
		struct sock_key k;
		struct req_match m = {s->cookie, 0, false, INT64_MIN, 0};

		/* One history per socket: an exact-source entry or a request's child has its key.
		 */
		sock_key(s, &k);
		e = track_kidx_find(t, &k, s->cookie ? track_req_pred : prov_pred, &m);
		if (!e)
			e = track_kidx_find(t, &k, cookieless_ghost_pred, NULL);
		if (!e) {
			/*
			 * The notice may come after a dump showed its mini-socket, with
			 * a cookie of its own: then that life is told. Or the
			 * mini-socket is an earlier life's, which this socket's SYN
			 * ended, or a later one's: under churn a 4-tuple comes back
			 * within a second, and the kernel may send a notice hundreds
			 * of milliseconds late. Each mini-socket takes one notice, and
			 * only one that began before the notice was read.
			 */
			struct entry *mini = track_kidx_find(t, &k, mini_pred, NULL);
			struct own_mini own = {t, win, mono, NULL};

			if (mini && !mini->ts.s.cookie)
				return;
			track_kidx_find(t, &k, own_mini_pred, &own);
			if (own.best) {
				own.best->iflags &= (uint16_t)~E_TWFREE;
				return;
			}
		}
		if (e) {
			via_req = !(e->iflags & E_PROV);
			if (s->cookie) {
				track_adopt(t, e, s->cookie);
				e->iflags |= E_NCOOKIE;
			}
		}
	}
	if (!e) {
		if (!s->cookie)
			return;
		/* Lived and died between polls, unless a later dump shows it in TIME_WAIT. */
		e = track_tab_alloc(t);
		e->ts.s = *s;
		e->end_at = mono;
		e->iflags |= E_HIDDEN;
		if (mono < t->hidden_lo)
			t->hidden_lo = mono;
		e->win.before_ms = ms_span(win.lo, mono);
		e->win.after_ms = ms_span(mono, win.hi);
		track_cidx_insert(t, e);
		track_kidx_insert(t, e);
		return;
	}
	/*
	 * Ghosts and sockets already known to have ended: said once is enough.
	 * A dump that showed its FIN_WAIT_2 mini-socket read it after the full
	 * socket ended: the notice, read later still, dates nothing.
	 */
	if (!tab_alive(e) || e->end_at || (e->iflags & E_MINI))
		return;
	/* The poll saw the mini-socket first; its timer dated it better than a notice can. */
	if (e->ts.s.state == ST_TIME_WAIT)
		return;
	/*
	 * With the exact source on, its samples of this socket's last changes
	 * may still be on their way (it holds them back to order CPUs): let
	 * them tell the end; the next full dump decides if they do not.
	 */
	if (tw_bound(e->ts.s.state) || request_state(e->ts.s.state) || via_req || t->exact_on ||
	    (e->ts.s.state == ST_FIN_WAIT2 && e->ts.s.inode == 0)) {
		e->end_at = mono;
		return;
	}
	/*
	 * The kernel does not stamp its notices: the socket ended before
	 * this one was read, since the queue was last found empty.
	 */
	track_gone(t, e, mono, TIME_BETWEEN, wall, false);
}

/*
 * What an exact change is matched against. cookie: the socket's (0 when the
 * source cannot tell, the perf path); state: the state the entry must be in
 * (ST_MAX for any).
 */
struct change_arg {
	int64_t mono;
	uint64_t cookie;
	unsigned state;
};

/*
 * An entry that may be the socket of a change with this cookie: one made
 * without a cookie, the same cookie, or a request socket whose full child
 * (a cookie of its own) carries its history on.
 */
static bool cookie_ok(const struct entry *e, uint64_t cookie)
{
	return !cookie || !e->ts.s.cookie || e->ts.s.cookie == cookie || (e->iflags & E_REQ);
}

/* A full socket the tracepoint may speak of: alive, not a mini-socket, not ended. */
static bool full_pred(const struct entry *e, const void *arg)
{
	const struct change_arg *a = arg;

	return tab_alive(e) && e->ts.s.state != ST_TIME_WAIT && !(e->iflags & E_MINI) &&
	       !e->end_at && cookie_ok(e, a->cookie);
}

/*
 * The same, or ended (by a notice) no earlier than the change: the sample
 * came late. In the state the change leaves (or enters, if a dump saw it
 * first): an entry in another state is another socket of the same 4-tuple,
 * or one whose samples were lost, and a guess would merge two histories.
 */
static bool changed_pred(const struct entry *e, const void *arg)
{
	const struct change_arg *a = arg;

	return tab_alive(e) && e->ts.s.state != ST_TIME_WAIT && !(e->iflags & E_MINI) &&
	       (!e->end_at || a->mono <= e->end_at) && cookie_ok(e, a->cookie) &&
	       (a->state == ST_MAX || e->ts.s.state == a->state);
}

static bool req_unlinked_pred(const struct entry *e, const void *arg)
{
	(void)arg;
	return tab_alive(e) && e->ts.s.cookie && !(e->iflags & E_REQ) &&
	       (e->ts.s.state == ST_SYN_RECV || e->ts.s.state == ST_NEW_SYN_RECV);
}

/* We have news of this 4-tuple from after the sample: the sample came late, it is history. */
bool track_newer_pred(const struct entry *e, const void *arg)
{
	const int64_t *mono = arg;

	return tab_visible(e) &&
	       (e->ts.last_seen >= *mono || ((e->ts.flags & TS_GHOST) && e->ts.gone >= *mono));
}

/* The same, of the socket of a change (its cookie, or any without one). */
static bool newer_same_pred(const struct entry *e, const void *arg)
{
	const struct change_arg *a = arg;

	return cookie_ok(e, a->cookie) && track_newer_pred(e, &a->mono);
}

/*
 * An entry for a socket only the exact source knows so far: by its cookie
 * when the source tells it (a dump's row then finds it at once), else keyed
 * by 4-tuple until a row adopts it.
 */
static struct entry *prov_new(struct track *t, const struct sock_key *k, uint64_t cookie,
			      uint8_t st, int64_t mono)
{
	struct entry *e = track_tab_alloc(t);
	struct sock *s = &e->ts.s;

	s->family = k->family;
	s->sport = k->sport;
	s->dport = k->dport;
	memcpy(s->src, k->src, sizeof(s->src));
	memcpy(s->dst, k->dst, sizeof(s->dst));
	s->netns = k->netns;
	s->state = st;
	s->cookie = cookie;
	if (cookie)
		track_cidx_insert(t, e);
	else
		e->iflags |= E_PROV;
	e->ts.since = e->ts.since_lo = e->ts.first_seen = e->ts.last_seen = e->ts.changed = mono;
	e->ts.since_kind = TIME_EXACT;
	track_kidx_insert(t, e);
	t->size++;
	track_tab_count(t, e, +1);
	return e;
}

/* A change of a known cookie may bring the 4-tuple a connect() had not chosen yet. */
static void rekey(struct track *t, struct entry *e, const struct sock_key *k)
{
	struct sock *s = &e->ts.s;

	if (!k->sport ||
	    (s->sport == k->sport && s->dport == k->dport && s->family == k->family &&
	     !memcmp(s->src, k->src, sizeof(s->src)) && !memcmp(s->dst, k->dst, sizeof(s->dst))))
		return;
	track_kidx_remove(t, e);
	s->family = k->family;
	s->sport = k->sport;
	s->dport = k->dport;
	memcpy(s->src, k->src, sizeof(s->src));
	memcpy(s->dst, k->dst, sizeof(s->dst));
	track_kidx_insert(t, e);
}

/* The entry of a cookie the exact source reports: alive, or a ghost it may speak of late. */
static struct entry *cookie_entry(struct track *t, uint64_t cookie, uint32_t netns)
{
	struct entry *e = cookie ? track_cidx_find(t, cookie, netns) : NULL;

	return e && !(e->iflags & E_HIDDEN) ? e : NULL;
}

static void changed_birth(struct track *t, const struct sock_key *k, uint64_t cookie, uint8_t to,
			  int64_t mono, int64_t wall)
{
	struct change_arg a = {mono, cookie, ST_MAX};
	struct entry *e;

	if (to == ST_SYN_RECV || to == ST_NEW_SYN_RECV) {
		/* The full child of a request socket we track: the request's history goes on. */
		e = track_kidx_find(t, k, req_unlinked_pred, NULL);
		if (e && e->ts.s.cookie != cookie) {
			e->iflags |= E_REQ;
			if (mono > e->ts.last_seen)
				e->ts.last_seen = mono;
			return;
		}
	}
	/*
	 * A dump may have reported it first, even a dump begun before the
	 * birth (dumps are not atomic). By cookie where the source tells it;
	 * else by 4-tuple: two full sockets never share one (listeners with
	 * SO_REUSEPORT do).
	 */
	e = cookie_entry(t, cookie, k->netns);
	if (!e && to != ST_LISTEN)
		e = track_kidx_find(t, k, full_pred, &a);
	if (!e)
		e = track_kidx_find(t, k, newer_same_pred, &a);
	if (e) {
		if (e->ts.s.state == to && tab_alive(e))
			track_refine(e, mono, true);
		return;
	}
	e = prov_new(t, k, cookie, to, mono);
	e->ts.flags |= TS_NEW;
	e->ts.prev_state = ST_CLOSE;
	track_emit(t, e, ST_CLOSE, to, mono, wall, TIME_EXACT, 0, true);
}

/* The entry an exact change of a socket already born speaks of, or NULL. */
static struct entry *changed_find(struct track *t, const struct sock_key *k, uint64_t cookie,
				  uint8_t from, uint8_t to, int64_t mono)
{
	struct change_arg a = {mono, cookie, from};
	struct entry *e = cookie_entry(t, cookie, k->netns);

	if (e)
		return tab_alive(e) ? e : NULL;
	e = track_kidx_find(t, k, changed_pred, &a);
	if (!e) {
		a.state = to;
		e = track_kidx_find(t, k, changed_pred, &a);
	}
	if (!e && from == ST_SYN_SENT)
		e = track_synsent_prov(t, k, k->sport);
	return e;
}

void track_changed(struct track *t, const struct sock_key *k, uint64_t cookie, uint8_t from,
		   uint8_t to, int64_t mono, int64_t wall)
{
	struct change_arg a = {mono, cookie, ST_MAX};
	struct entry *e;
	struct tsock *ts;
	bool seen;

	if (from == to)
		return;
	t->exact_on = true;
	/* A passive open's child is cloned from the listener: LISTEN -> SYN_RECV is its birth. */
	if (from == ST_CLOSE ||
	    (from == ST_LISTEN && (to == ST_SYN_RECV || to == ST_NEW_SYN_RECV))) {
		changed_birth(t, k, cookie, to, mono, wall);
		return;
	}
	e = changed_find(t, k, cookie, from, to, mono);
	if (!e) {
		/* The end of a socket we never saw: destroy notices and dumps speak for it. */
		if (to == ST_CLOSE || track_kidx_find(t, k, newer_same_pred, &a))
			return;
		/* Mid-life, unseen (samples lost, or it predates us): what we know, no more. */
		e = prov_new(t, k, cookie, to, mono);
		e->ts.prev_state = from;
		track_emit(t, e, from, to, mono, wall, TIME_ATLEAST, 0, true);
		return;
	}
	ts = &e->ts;
	if (cookie)
		rekey(t, e, k);
	if (to == ts->s.state) {
		track_refine(e, mono, true);
		if (mono > ts->last_seen)
			ts->last_seen = mono;
		return;
	}
	/* Older than what we know of its current state: history already told cannot change. */
	if (mono < ts->since)
		return;
	if (mono > ts->last_seen)
		ts->last_seen = mono;
	/*
	 * Found by its cookie in another state than the change leaves: samples
	 * between were lost. The change we tell is from the state we knew, and
	 * a jump unless that is one step.
	 */
	seen = ts->s.state == from;
	if (to == ST_CLOSE) {
		/* FIN_WAIT_2 or CLOSING -> CLOSE: the full socket handed over to TIME_WAIT. */
		if (from == ST_FIN_WAIT2 || from == ST_CLOSING) {
			if (!e->end_at || mono < e->end_at) {
				e->end_at = mono;
				if (seen)
					e->iflags |= E_ENDSEEN;
			}
			return;
		}
		if (seen && (from == ST_ESTABLISHED || from == ST_CLOSE_WAIT ||
			     from == ST_FIN_WAIT1 || from == ST_SYN_RECV))
			ts->flags |= TS_RESET;
		track_gone(t, e, mono, TIME_EXACT, wall, seen);
		return;
	}
	track_transition(t, e, to, mono, mono, TIME_EXACT, wall, seen);
}
