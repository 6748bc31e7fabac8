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
	return tab_alive(e) && (e->ts.s.state == ST_TIME_WAIT ||
				(e->ts.s.state == ST_FIN_WAIT2 && e->ts.s.inode == 0));
}

struct told_arg {
	int64_t at;
	uint64_t cookie;
};

/*
 * An entry that held this 4-tuple when the hidden socket ended and may be
 * the same socket: one the exact source made without a cookie, or one of
 * the same cookie. A socket with another cookie is another life on the
 * same 4-tuple (under churn ports come back within seconds), not this one.
 */
static bool told_pred(const struct entry *e, const void *arg)
{
	const struct told_arg *a = arg;

	return tab_visible(e) && e->ts.first_seen <= a->at &&
	       (!e->ts.s.cookie || e->ts.s.cookie == a->cookie);
}

void track_hidden_closed(struct track *t, struct entry *e)
{
	struct tsock *ts = &e->ts;
	int64_t at = e->end_at;
	struct told_arg told = {at, ts->s.cookie};
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
	track_emit(t, e, ST_UNKNOWN, ST_CLOSE, at, 0, TIME_ATLEAST, 0);
}

void track_destroyed(struct track *t, const struct sock *s, int64_t mono, int64_t wall)
{
	struct entry *e = s->cookie ? track_cidx_find(t, s->cookie, s->netns) : NULL;
	bool via_req = false;

	if (!e) {
		struct sock_key k;
		struct req_match m = {s->cookie, 0, false};

		/* One history per socket: an exact-source entry or a request's child has its key.
		 */
		sock_key(s, &k);
		e = track_kidx_find(t, &k, s->cookie ? track_req_pred : prov_pred, &m);
		if (!e)
			e = track_kidx_find(t, &k, cookieless_ghost_pred, NULL);
		if (!e) {
			/* The notice comes after a dump showed its mini-socket, with a cookie of
			 * its own. */
			struct entry *mini = track_kidx_find(t, &k, mini_pred, NULL);
			if (mini) {
				if (mini->ts.s.state == ST_TIME_WAIT && !(mini->iflags & E_MINI))
					track_refine(mini, mono, false);
				return;
			}
		}
		if (e) {
			via_req = !(e->iflags & E_PROV);
			if (s->cookie)
				track_adopt(t, e, s->cookie);
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
	if (e->ts.s.state == ST_TIME_WAIT) {
		/* The poll saw the mini-socket first: its start is the full socket's end. */
		track_refine(e, mono, false);
		return;
	}
	/*
	 * With the exact source on, its samples of this socket's last changes
	 * may still be on their way (it holds them back to order CPUs): let
	 * them tell the end; the next full dump decides if they do not.
	 */
	if (tw_bound(e->ts.s.state) || via_req || t->exact_on ||
	    (e->ts.s.state == ST_FIN_WAIT2 && e->ts.s.inode == 0)) {
		e->end_at = mono;
		return;
	}
	track_gone(t, e, mono, TIME_EXACT, wall);
}

/* A full socket the tracepoint may speak of: alive, not a mini-socket, not ended. */
static bool full_pred(const struct entry *e, const void *arg)
{
	(void)arg;
	return tab_alive(e) && e->ts.s.state != ST_TIME_WAIT && !(e->iflags & E_MINI) && !e->end_at;
}

/* The same, or ended (by a notice) no earlier than the change: the sample came late. */
static bool changed_pred(const struct entry *e, const void *arg)
{
	const int64_t *mono = arg;

	return tab_alive(e) && e->ts.s.state != ST_TIME_WAIT && !(e->iflags & E_MINI) &&
	       (!e->end_at || *mono <= e->end_at);
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

/* An entry for a socket only the exact source knows so far, keyed by 4-tuple. */
static struct entry *prov_new(struct track *t, const struct sock_key *k, uint8_t st, int64_t mono)
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
	e->iflags |= E_PROV;
	e->ts.since = e->ts.since_lo = e->ts.first_seen = e->ts.last_seen = e->ts.changed = mono;
	e->ts.since_kind = TIME_EXACT;
	track_kidx_insert(t, e);
	t->size++;
	track_tab_count(t, e, +1);
	return e;
}

static void changed_birth(struct track *t, const struct sock_key *k, uint8_t to, int64_t mono,
			  int64_t wall)
{
	struct entry *e;

	if (to == ST_SYN_RECV || to == ST_NEW_SYN_RECV) {
		/* The full child of a request socket we track: the request's history goes on. */
		e = track_kidx_find(t, k, req_unlinked_pred, NULL);
		if (e) {
			e->iflags |= E_REQ;
			if (mono > e->ts.last_seen)
				e->ts.last_seen = mono;
			return;
		}
	}
	/*
	 * Two full sockets never share a 4-tuple (listeners with SO_REUSEPORT
	 * do): one we track is this one, reported by a dump first, perhaps
	 * even by a dump begun before the birth (dumps are not atomic).
	 */
	e = to != ST_LISTEN ? track_kidx_find(t, k, full_pred, NULL) : NULL;
	if (!e)
		e = track_kidx_find(t, k, track_newer_pred, &mono);
	if (e) {
		if (e->ts.s.state == to && tab_alive(e))
			track_refine(e, mono, true);
		return;
	}
	e = prov_new(t, k, to, mono);
	e->ts.flags |= TS_NEW;
	e->ts.prev_state = ST_CLOSE;
	track_emit(t, e, ST_CLOSE, to, mono, wall, TIME_EXACT, 0);
}

void track_changed(struct track *t, const struct sock_key *k, uint64_t cookie, uint8_t from,
		   uint8_t to, int64_t mono, int64_t wall)
{
	struct entry *e;
	struct tsock *ts;

	(void)cookie; /* identity by cookie comes with the eBPF source */
	if (from == to)
		return;
	t->exact_on = true;
	/* A passive open's child is cloned from the listener: LISTEN -> SYN_RECV is its birth. */
	if (from == ST_CLOSE ||
	    (from == ST_LISTEN && (to == ST_SYN_RECV || to == ST_NEW_SYN_RECV))) {
		changed_birth(t, k, to, mono, wall);
		return;
	}
	e = track_kidx_find(t, k, changed_pred, &mono);
	if (!e && from == ST_SYN_SENT)
		e = track_synsent_prov(t, k, k->sport);
	if (!e) {
		/* The end of a socket we never saw: destroy notices and dumps speak for it. */
		if (to == ST_CLOSE || track_kidx_find(t, k, track_newer_pred, &mono))
			return;
		/* Mid-life, unseen (samples lost, or it predates us): what we know, no more. */
		e = prov_new(t, k, to, mono);
		e->ts.prev_state = from;
		track_emit(t, e, from, to, mono, wall, TIME_ATLEAST, 0);
		return;
	}
	ts = &e->ts;
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
	if (to == ST_CLOSE) {
		/* FIN_WAIT_2 or CLOSING -> CLOSE: the full socket handed over to TIME_WAIT. */
		if (from == ST_FIN_WAIT2 || from == ST_CLOSING) {
			if (!e->end_at || mono < e->end_at)
				e->end_at = mono;
			return;
		}
		if (from == ST_ESTABLISHED || from == ST_CLOSE_WAIT || from == ST_FIN_WAIT1 ||
		    from == ST_SYN_RECV)
			ts->flags |= TS_RESET;
		track_gone(t, e, mono, TIME_EXACT, wall);
		return;
	}
	track_transition(t, e, to, mono, mono, TIME_EXACT, wall);
}
