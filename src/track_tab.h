/* track_tab.h - the tracker's storage: stable entries, cookie and 4-tuple indexes, counters. */
#ifndef TCPDWELL_TRACK_TAB_H
#define TCPDWELL_TRACK_TAB_H

#include "track.h"

#define TAB_NIL UINT32_MAX

/* Tracker-internal entry flags (struct entry.iflags). */
enum {
	E_FREE = 1 << 0,    /* slot on the free list */
	E_CIDX = 1 << 1,    /* in the cookie index */
	E_HIDDEN = 1 << 2,  /* a destroyed socket never seen: waits for a full dump */
	E_PROV = 1 << 3,    /* created by an exact change, no cookie yet */
	E_REQ = 1 << 4,	    /* a request socket whose child the exact source reported */
	E_ENDSEEN = 1 << 5, /* end_at is a change the tracepoint reported, not a notice */
	E_MINI = 1 << 6,    /* a dump showed its FIN_WAIT_2 mini-socket: the full socket is gone */
	E_NCOOKIE = 1 << 7, /* its cookie came with its destroy notice, made after its TIME_WAIT */
	/*
	 * A mini-socket first seen as one, made after we began: the notice of
	 * the full socket that handed over to it has not been matched yet.
	 */
	E_TWFREE = 1 << 8,
};

/*
 * How long before its notice came a socket may have ended, when the notice
 * has no clock of its own (no tcp_info): the kernel sends notices from a
 * workqueue, whose threads wait for a CPU like any other; under churn on a
 * busy box, over a second. (How long notices then waited in our queue is
 * known: it was last found empty before they came.)
 */
#define NOTICE_LATE_NS ((int64_t)3 * NS_PER_SEC)
/*
 * A timer or tcp_info's clock counts the kernel's ticks (4 ms at HZ=250),
 * and a dump's row is dated by the batch it came in. Measured against the
 * tracepoint under churn (one and two busy namespaces), a TIME_WAIT dated
 * by its timer was within 12 ms, 99% within 7 ms.
 */
#define TIMER_SLACK_NS ((int64_t)50 * NS_PER_MS)

/*
 * How long after a dump began it may still read a row. A row's timer is
 * counted from the dump's start (diag.c adds how late its batch came), so a
 * TIME_WAIT that began while a long dump ran has more time left than the
 * whole: it began that much after the start. More than this is a longer
 * timer (the kernel stretches a TIME_WAIT to 3.5 RTO on a slow path).
 */
#define TIMER_AHEAD_NS ((int64_t)2 * NS_PER_SEC)

/* When a destroyed socket ended (handed over to its mini-socket), as its notice bounds it. */
struct notice_win {
	int64_t lo, hi;
};

/* One slot. ts comes first: sinks get &e->ts and the tracker casts back. */
struct entry {
	struct tsock ts;
	uint32_t self;	 /* slot number */
	uint32_t next_c; /* cookie chain, or free list */
	uint32_t next_k; /* 4-tuple chain */
	uint32_t khash;	 /* low bits of the 4-tuple hash */
	uint32_t gen;	 /* generation of the last dump that held it */
	uint16_t iflags; /* E_* */
	union {
		int64_t miss_at; /* the first full dump that lacked it */
		/* E_HIDDEN: its struct notice_win, in ms before and after end_at */
		struct {
			int32_t before_ms, after_ms;
		} win;
	};
	int64_t end_at; /* the kernel ended the full socket here (destroy or ->CLOSE); 0 none */
};

struct track_listener {
	track_event_fn fn;
	void *arg;
};

struct track {
	struct track_opts o;
	int64_t keep_ns; /* how long ghosts are kept: the ghost time, TRACK_KEEP_NS at least */
	struct track_listener ls[8];
	unsigned nls;

	/* Entries live in fixed chunks so that their addresses never move. */
	struct entry **chunks;
	uint32_t nchunks, used, free_head, nfree;
	struct tab_block *blocks; /* the memory the chunks are cut from */
	size_t nblocks;

	uint32_t *cb, cmask; /* cookie buckets */
	size_t cn;
	uint32_t *kb, kmask; /* 4-tuple buckets */
	size_t kn;

	size_t count[ST_MAX + 1]; /* alive per state; ST_MAX collects odd numbers */
	size_t alive, size;	  /* alive; visible (alive + ghosts) */

	/*
	 * Ghosts by the time they expire, a binary min-heap: expiry looks at
	 * the first only, whatever the number of sockets gone. A slot may be
	 * listed more than once (it went, came back, went again, or was
	 * reused): a node whose slot no longer expires then is dropped.
	 */
	struct dueheap ghosts; /* ids: slots */

	uint32_t gen;
	/*
	 * Per namespace (by index): mono of the last dump that covered it and
	 * asked for each state, and the generation of the last dump covering it.
	 */
	struct track_ns {
		int64_t cover[ST_MAX];
		uint32_t gen;
	} * ns;
	uint32_t ns_cap;
	uint32_t widest;  /* union of the states every dump so far asked for */
	bool exact_on;	  /* exact changes have come: destroy notices wait for them */
	uint64_t nevents; /* events told since track_new */
	uint64_t nrare;	  /* of those, the ones a rare state may have been part of */
	int64_t last_full;
	int64_t
	    first_dump; /* mono of the first dump: notices of sockets ended earlier never came */
	/* The earliest end of a destroyed socket never seen, still to be told (INT64_MAX: none). */
	int64_t hidden_lo;
	int64_t wall_off;
};

#define TAB_CHUNK_SHIFT 10
#define TAB_CHUNK	(1u << TAB_CHUNK_SHIFT)

static inline struct entry *tab_get(const struct track *t, uint32_t i)
{
	return &t->chunks[i >> TAB_CHUNK_SHIFT][i & (TAB_CHUNK - 1)];
}

static inline bool tab_visible(const struct entry *e)
{
	return !(e->iflags & (E_FREE | E_HIDDEN));
}

static inline bool tab_alive(const struct entry *e)
{
	return tab_visible(e) && !(e->ts.flags & TS_GHOST);
}

/*
 * An orphan whose peer's FIN has not come is handed over to a mini-socket
 * still in FIN_WAIT_2 (the TIME_WAIT timer runs on mini-sockets only); its
 * TIME_WAIT begins with that FIN, which no tracepoint reports.
 */
static inline bool tab_fw2_mini(const struct sock *s)
{
	return s->state == ST_FIN_WAIT2 && s->inode == 0 && s->timer == TM_TIMEWAIT;
}

void track_tab_init(struct track *t);
/*
 * Room for more new entries in one go: a first dump of 160,000 sockets then
 * grows each index once and fills one block of storage in huge pages.
 */
void track_tab_reserve(struct track *t, size_t more);
void track_tab_clear(struct track *t);
/* A zeroed slot, in no index and not counted. */
struct entry *track_tab_alloc(struct track *t);
/*
 * A row about to become a new entry: fetch the index buckets it will go in
 * ahead of time. Filling an empty table, each insert is otherwise a cache
 * miss into each index, and misses that overlap cost little more than one.
 */
void track_tab_prefetch(const struct track *t, const struct sock *r);
/* Drop from every index and the counters, and free the slot. */
void track_tab_release(struct track *t, struct entry *e);

/*
 * A cookie names a socket within its namespace: kernels before 5.11 count
 * cookies per namespace, so two namespaces may each have cookie 7.
 */
struct entry *track_cidx_find(const struct track *t, uint64_t cookie, uint32_t netns);
void track_cidx_insert(struct track *t, struct entry *e);
void track_cidx_remove(struct track *t, struct entry *e);

/* The key index uses e->ts.s's 4-tuple; re-insert after changing it. */
void track_kidx_insert(struct track *t, struct entry *e);
void track_kidx_remove(struct track *t, struct entry *e);
/* The newest entry with key k that pred accepts, or NULL. */
typedef bool (*track_pred_fn)(const struct entry *e, const void *arg);
struct entry *track_kidx_find(const struct track *t, const struct sock_key *k, track_pred_fn pred,
			      const void *arg);

/* Counters follow alive entries: add when one becomes alive, del before it stops. */
void track_tab_count(struct track *t, const struct entry *e, int delta);

/* Shared by track.c (dumps) and track_exact.c (destroy notices, exact changes). */
struct req_match {
	uint64_t cookie; /* the newcomer's cookie */
	uint32_t gen;	 /* skip entries seen in this dump; 0 for none */
	bool mini;	 /* the newcomer is a TIME_WAIT or orphaned FIN_WAIT_2 mini-socket */
	int64_t born;	 /* a mini newcomer: when its timer says it began (INT64_MIN: unknown) */
	int64_t after;	 /* how long after its socket's end it may have begun (track_notice_fits) */
};
/*
 * An exact-source entry, or a request socket that a newcomer with that
 * 4-tuple continues; for a mini-socket newcomer also a full socket known to
 * have ended (hidden or not): a full socket whose cookie was first made at
 * its destruction hands over to a mini-socket with a cookie of its own.
 */
bool track_req_pred(const struct entry *e, const void *arg);
/* Seen (or gone) no earlier than *(const int64_t *)arg: news newer than that time. */
bool track_newer_pred(const struct entry *e, const void *arg);
bool track_key_same(const struct sock *a, const struct sock *b);
/* seen: the kernel reported this very change (jump then means illegal only). */
void track_emit(struct track *t, const struct entry *e, uint8_t from, uint8_t to, int64_t mono,
		int64_t wall, uint8_t kind, int64_t dwell, bool seen);
/* Move e to state to, entered at since (lo: earliest possible); emits the event. */
void track_transition(struct track *t, struct entry *e, uint8_t to, int64_t since, int64_t lo,
		      uint8_t kind, int64_t wall, bool seen);
/* e is a ghost from now (its gone time set): list it for expiry. */
void track_ghost_list(struct track *t, struct entry *e);
/* e went away at at; it stays as a ghost. */
void track_gone(struct track *t, struct entry *e, int64_t at, uint8_t end_kind, int64_t wall,
		bool seen);
/* An exact time for the change that a poll already reported (loose: a tracepoint time). */
void track_refine(struct entry *e, int64_t mono, bool loose);
/* Index e under a new cookie (0: none); it is no longer provisional. */
void track_adopt(struct track *t, struct entry *e, uint64_t cookie);
/* The provisional SYN_SENT entry reported with source port 0, now given its port; or NULL. */
struct entry *track_synsent_prov(struct track *t, const struct sock_key *k, uint16_t sport);
/*
 * The window of a notice read at read, that came after lo (0 unknown), made
 * ack ns after the socket last heard from its peer (tcp_info's clock; -1
 * unknown). The kernel fills a notice in its workqueue: the clock then
 * counts from the last segment in (for a socket handing over to TIME_WAIT,
 * the peer's FIN) to that moment, which lies between lo and read.
 */
static inline struct notice_win track_notice_win(int64_t lo, int64_t read, int64_t ack)
{
	if (ack < 0)
		return (struct notice_win){(lo ? lo : read) - NOTICE_LATE_NS,
					   read + TIMER_SLACK_NS};
	return (struct notice_win){(lo ? lo : read - NOTICE_LATE_NS) - ack - TIMER_SLACK_NS,
				   read - ack + TIMER_SLACK_NS};
}

/*
 * Whether a mini-socket that began at born may be the one of a notice's
 * window. A full socket closed by its owner before the peer's FIN (an
 * HTTP server, most often) hands over to an orphaned FIN_WAIT_2
 * mini-socket at once, and its notice comes then; the mini-socket turns
 * TIME_WAIT, its timer restarted, when the FIN comes: up to after later.
 */
static inline bool track_notice_fits(const struct notice_win *w, int64_t born, int64_t after)
{
	return born >= w->lo && born <= w->hi + after;
}
/* A destroyed socket never seen and absent from a later full dump: report it, as a ghost. */
void track_hidden_closed(struct track *t, struct entry *e);

#endif
