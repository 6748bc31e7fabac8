/* track.h - the socket table: identity across polls, transitions, dwell, ghosts. No I/O. */
#ifndef TCPDWELL_TRACK_H
#define TCPDWELL_TRACK_H

#include "sock.h"
#include "util.h"

/* One earlier state of a socket. */
struct track_hist {
	uint8_t state;
	uint8_t kind;  /* enum time_kind of the entry time */
	int64_t enter; /* monotonic ns */
	int64_t dwell; /* ns spent in it */
};

enum {
	TS_GHOST = 1 << 0,   /* gone, kept for the ghost time */
	TS_JUMP = 1 << 1,    /* last transition skipped states of the state machine */
	TS_MISSING = 1 << 2, /* absent from the last full dump, not yet confirmed gone */
	TS_NEW = 1 << 3,     /* appeared after start-up */
	TS_RESET = 1 << 4,   /* ended by RST as far as we can tell */
	TS_KAGE = 1 << 5,    /* since is the kernel's lower bound (last ACK received), see
			      * kernel_age() in track.c */
};

/* One tracked socket. Sinks read it; only the tracker writes it. */
struct tsock {
	struct sock s;		  /* the last observation */
	int64_t since;		  /* monotonic ns when it entered s.state (best estimate) */
	int64_t since_lo;	  /* earliest possible entry (TIME_BETWEEN): the poll before */
	uint8_t since_kind;	  /* enum time_kind */
	uint8_t flags;		  /* TS_* */
	uint8_t missing;	  /* consecutive full dumps without it */
	uint8_t prev_state;	  /* state before the current one: ST_CLOSE if it appeared after
				   * start-up, ST_UNKNOWN if it predates it */
	uint16_t nhist, hist_cap; /* here, beside the bytes above: no padding per socket */
	int64_t first_seen;
	int64_t last_seen;
	int64_t changed;	 /* monotonic ns of its last transition (for "just changed") */
	int64_t gone;		 /* monotonic ns when it went away; 0 while alive */
	struct track_hist *hist; /* earlier states, oldest first, at most track_opts.max_hist */
};

/*
 * A transition. from or to is ST_CLOSE when a socket appears or goes away.
 * jump: the path from -> to is not known to be one step. For a change the
 * kernel reported (the exact source) that is !track_legal(from, to); for
 * one only polls or a destroy notice saw, !track_direct(from, to): an
 * appearance in ESTABLISHED (the handshake was not seen) is a jump, and so
 * is ESTABLISHED -> CLOSE (a reset, or a whole teardown between polls). For an appearance dwell is
 * 0 and dwell_kind tells how well the appearance time is known. A dwell is TIME_EXACT only when
 * both ends are exact, TIME_ATLEAST when its start was.
 *
 * A full socket that lived and died unseen between polls (a destroy notice
 * with an unknown cookie, and no TIME_WAIT with that cookie in the next full
 * dump begun after the notice) is reported once, at that dump, as
 * ST_UNKNOWN -> ST_CLOSE at the notice's time: dwell 0, TIME_ATLEAST, jump
 * true. It then stays as a ghost in state ST_CLOSE. If that dump shows the
 * cookie in TIME_WAIT instead, the event is ST_CLOSE -> ST_TIME_WAIT (a jump)
 * with the notice's time as the exact entry.
 *
 * A socket the exact source reports mid-life without having seen it appear
 * (lost samples) gives from -> to with dwell 0, TIME_ATLEAST; its entry has
 * cookie 0 until a dump row with the same 4-tuple adopts it.
 */
struct track_event {
	int64_t mono;  /* monotonic ns of the change (best estimate) */
	int64_t wall;  /* wall-clock ns of the same moment */
	struct sock s; /* the socket as last seen */
	uint8_t from, to;
	uint8_t dwell_kind;	/* enum time_kind */
	bool jump;		/* not known to be one step of the state machine (above) */
	int64_t dwell;		/* ns spent in from (0 when from is ST_CLOSE) */
	const struct tsock *ts; /* the tracker's entry, during the callback only; NULL in timed() */
};

struct track_opts {
	int64_t ghost_ns;	/* how long a gone socket stays visible; default 3 s */
	int64_t fin_timeout_ns; /* net.ipv4.tcp_fin_timeout, for orphaned FIN_WAIT_2 entry times */
	uint32_t universe;	/* states the full dump asks for; absence counts only there
				 * (and in a dump asking for every state any dump asked for) */
	unsigned max_hist;	/* earlier states kept per socket; default 16 */
};

typedef void (*track_event_fn)(void *arg, const struct track_event *ev);

struct track;

struct track *track_new(const struct track_opts *o);
void track_free(struct track *t);
/* Forget every socket (replay seeks start from a clean table). */
void track_reset(struct track *t);
/* Listeners for transitions, called in the order added (at most 8). */
void track_listen(struct track *t, track_event_fn fn, void *arg);

/*
 * About n sockets are coming (before a first dump): room for them now, not
 * grown while the dump is applied. Puts in fresh[] (at most cap) the memory
 * reserved that will surely be written and has not been yet, for a caller
 * that faults it in ahead (warm_start()); returns how many spans. None
 * may be touched by anyone else until warm_join(), and then the tracker
 * may be used again: an empty index's new buckets are among them, to be
 * filled (WARM_FILL).
 */
size_t track_reserve(struct track *t, size_t n, struct span *fresh, size_t cap);

/*
 * Apply one complete dump. The first dump after start (or reset) is the
 * baseline: its sockets get TIME_ATLEAST entry times (or TIME_EXACT where a
 * kernel timer tells) and no events. A dump whose states do not cover the
 * universe (a fast-lane dump) only adds and updates sockets.
 */
void track_apply(struct track *t, const struct snapshot *sn);
/*
 * The kernel reported a full socket destroyed (SKNLGRP_*_TCP_DESTROY): the
 * notice was read at mono, and came after lo (its queue was found empty
 * then; 0 unknown); its tcp_info said the last segment from the peer came
 * ack ns before it was made (-1 unknown).
 */
void track_destroyed(struct track *t, const struct sock *s, int64_t lo, int64_t mono, int64_t ack,
		     int64_t wall);
/*
 * How a notice is taken: a known socket in a state that may be handing over
 * to a TIME_WAIT mini-socket (ESTABLISHED, FIN_WAIT_1/2, CLOSING, a request
 * whose child we never saw) is not gone yet; the first full dump begun after
 * the notice decides: TIME_WAIT (entered exactly then) or gone (exactly then).
 * Any other known socket is gone at once, exactly, unless exact changes
 * have been coming: then its last samples tell the end, or else that dump
 * does. Repeated notices, and later dumps without the socket, say nothing
 * more.
 */
/*
 * An exact state change (tracepoint): no cookie, matched by 4-tuple.
 * from/to as the kernel numbers them. Pass the tuple as the tracepoint gives
 * it: CLOSE -> SYN_SENT may come with source port 0 (connect() picks it
 * later); the next change of that socket supplies it. FIN_WAIT_2/CLOSING -> CLOSE is
 * taken as a hand-over to TIME_WAIT, decided by the next full dump; other
 * X -> CLOSE end the socket at once (TS_RESET where only a reset does that).
 * A dump that shows the mini-socket still in FIN_WAIT_2 (an orphan whose
 * peer's FIN has not come) undoes the hand-over: its TIME_WAIT begins with
 * that FIN, which no tracepoint reports, and takes the time of the timer the
 * FIN restarts as TIME_BETWEEN; later notices of the full socket say nothing.
 * A change older than the entry time of the state we know is ignored.
 */
void track_changed(struct track *t, const struct sock_key *k, uint64_t cookie, uint8_t from,
		   uint8_t to, int64_t mono, int64_t wall);
/*
 * Drop ghosts older than the ghost time. The tracker keeps them at least
 * TRACK_KEEP_NS whatever the ghost time: a destroy notice or a late sample
 * of a socket just ended must find its history, not start another.
 */
#define TRACK_KEEP_NS (2 * NS_PER_SEC)
void track_expire(struct track *t, int64_t now);
/* Whether a sink shows ts at now: alive, or gone less than the ghost time ago. */
bool track_ghost_shown(const struct track *t, const struct tsock *ts, int64_t now);

/* Events told so far: a source asks whether anything changed since it last looked. */
uint64_t track_events(const struct track *t);
/*
 * Of those, the ones into or out of a rare state (ST_RARE_MASK), or jumps
 * and lives first seen in their end (from ST_UNKNOWN), whose unknown path
 * may have passed one: what the fast lane could have seen.
 */
uint64_t track_rare_events(const struct track *t);
/* Sockets alive in a state (ghosts not counted). */
size_t track_count(const struct track *t, unsigned st);
/* Alive sockets, and all entries including ghosts. */
size_t track_alive(const struct track *t);
size_t track_size(const struct track *t);
/* Fill v (grown as needed) with pointers to every entry, ghosts included; returns the count. */
size_t track_collect(const struct track *t, const struct tsock ***v, size_t *cap);
/* Make *v (capacity *cap) room for n sockets and some to spare, as track_collect() grows it. */
void track_collect_room(const struct tsock ***v, size_t *cap, size_t n);
const struct tsock *track_find(const struct track *t, uint64_t cookie);
/* Monotonic ns of the last full dump applied, 0 before the first. */
int64_t track_last_poll(const struct track *t);
/*
 * The earliest time an event the tracker has yet to tell may carry, as far
 * as dumps decide it: a socket missing from one dump, a destroy notice of a
 * socket never seen and a hand-over to TIME_WAIT are told at the next full
 * dump, dated back to the last one at the earliest (a change a dump finds
 * is bounded below by the dump before that asked for its state). 0 before
 * the first full dump. Changes the exact source has yet to hand on are its
 * own to bound.
 */
int64_t track_horizon(const struct track *t);
/* Wall-clock ns matching a monotonic ns, from the last dump's pair. */
int64_t track_wall(const struct track *t, int64_t mono);

/* Whether from -> to is one step of the TCP state machine (ST_CLOSE for none). */
bool track_legal(unsigned from, unsigned to);
/*
 * Whether a change from -> to that only polls saw (the state before, then
 * the state after) surely went in one step: it is legal and Linux has no
 * other way between the two. ESTABLISHED -> CLOSE is not (an orderly close
 * passes FIN_WAIT_1 ... or CLOSE_WAIT ...); LAST_ACK -> CLOSE is.
 */
bool track_direct(unsigned from, unsigned to);

#endif
