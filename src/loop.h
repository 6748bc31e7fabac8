/* loop.h - the pipeline: sources feed observations to the tracker, sinks read the model. */
#ifndef TCPDWELL_LOOP_H
#define TCPDWELL_LOOP_H

#include <stdio.h>

#include "sock.h"
#include "track.h"

/* One observation, as a source produces it and a recorder stores it. */
enum obs_kind {
	OBS_SNAPSHOT, /* a dump: snap */
	OBS_DESTROY,  /* the kernel freed a full socket: sock */
	OBS_CHANGE,   /* an exact state change from the tracepoint: key, from, to */
	OBS_NOTE,     /* a line of text for the status line and the recording: note */
	OBS_SEGMENT,  /* a scenario's ladder entry (a captured segment, an actor's state): seg */
};
struct scenario_ladder;
struct obs {
	enum obs_kind kind;
	int64_t mono, wall;
	const struct snapshot *snap;
	struct sock sock;
	const struct sock_info *info; /* DESTROY: the final tcp_info, or NULL */
	int64_t lo; /* DESTROY: the notice came after this (its queue was empty then); 0 unknown */
	struct sock_key key;
	uint64_t cookie; /* CHANGE: the socket's cookie, 0 when the source cannot tell (perf) */
	uint8_t from, to;
	const char *note;
	/*
	 * SEGMENT: the entry, and the names of its actor and peer (NULL when
	 * unknown): a replay has no script to name them from.
	 */
	const struct scenario_ladder *seg;
	const char *seg_names[2];
};

struct loop;
struct filter;

/*
 * A source's own health, for the exporter's self-metrics: counters since
 * start, as typed figures (never parsed back from describe()).
 */
enum { STAT_FAILURES = 1 << 0, STAT_LOST = 1 << 1, STAT_OVERRUNS = 1 << 2 };
struct source_stats {
	unsigned has;	   /* STAT_*: the counters this kind of source keeps */
	uint64_t failures; /* dumps or reads that failed */
	uint64_t lost;	   /* records the kernel dropped and counted (samples) */
	uint64_t overruns; /* times its queue overflowed, how many lost unknown (notices) */
};

/* Controls a sink may send to the sources (replay honours them; live sources ignore most). */
enum source_ctl {
	CTL_PAUSE,    /* arg 1 pause, 0 resume */
	CTL_STEP,     /* arg +1 forward one poll, -1 back */
	CTL_SPEED,    /* arg: factor */
	CTL_SEEK,     /* arg: seconds from the start */
	CTL_INTERVAL, /* arg: new poll interval in seconds */
};

/* What a source is doing, for a sink to show and act on (never parsed from describe()). */
struct source_state {
	bool replay; /* it plays a recording */
	bool paused; /* it stands still: paused by a control, or by itself at the end */
	bool at_end; /* it has nothing more to give */
	bool says_interval; /* its description gives the poll interval (the poller's) */
};

struct source_ops {
	const char *name; /* "poll", "fast", "destroy", "exact", "replay" */
	/* Monotonic ns when run() is next due; INT64_MAX when only fd-driven. */
	int64_t (*next_due)(void *ctx);
	/* A descriptor to wait on, or -1. */
	int (*fd)(void *ctx);
	/*
	 * Produce what is due or readable, handing each observation to
	 * loop_observe(). Returns 0, 1 at the end of the source (a recording
	 * ran out), or -errno on a failure the loop reports.
	 */
	int (*run)(void *ctx, struct loop *l, int64_t now);
	/*
	 * Optional: hand on at once everything observed until now. Another
	 * source calls loop_sync() before it hands on a dump that took time,
	 * so that changes made during the dump reach the tracker first.
	 */
	void (*sync)(void *ctx, struct loop *l);
	/* Optional: a control; returns 0, or -ENOTSUP. */
	int (*control)(void *ctx, struct loop *l, enum source_ctl c, double arg);
	/* Optional: a short description for the header ("poll 1s", "REPLAY x2 12:03:04"). */
	void (*describe)(void *ctx, char *buf, size_t len);
	/* Optional: its state into *st (zeroed by the caller); a live source has none. */
	void (*state)(void *ctx, struct source_state *st);
	/* Optional: the source's own clock, monotonic ns (a replay's recorded time). */
	int64_t (*clock)(void *ctx);
	/*
	 * Optional: the earliest time an observation it has yet to hand on may
	 * carry (the exact source holds kernel-stamped changes back; a replay
	 * reads them in the order they came). Without it, now: the source
	 * stamps what it reads as it reads it.
	 */
	int64_t (*horizon)(void *ctx);
	/* Optional: one socket's tcp_info (asked of the kernel, or from a recording); -errno. */
	int (*info)(void *ctx, const struct sock *s, struct sock_info *out);
	/*
	 * Optional: destroy one socket it watches (SOCK_DESTROY), in the
	 * namespace it was seen in; 0 or -errno. A replay has none.
	 */
	int (*destroy)(void *ctx, const struct sock *s);
	/*
	 * Optional: the filter changed (f NULL: none). A source that asks the
	 * kernel for less than everything re-derives what it asks for.
	 */
	void (*refilter)(void *ctx, struct loop *l, const struct filter *f);
	/* Optional: this source's counters into *st (zeroed by the caller). */
	void (*stats)(void *ctx, struct source_stats *st);
	void (*close)(void *ctx);
};

struct sink_ops {
	const char *name;
	/* Optional: an observation, after the tracker applied it. */
	void (*observe)(void *ctx, struct loop *l, const struct obs *o);
	/* Optional: a transition, as soon as the tracker tells it (not in time order). */
	void (*event)(void *ctx, const struct track_event *ev);
	/*
	 * Optional: the same transitions in time order, each once no earlier
	 * one can come (see loop_horizon()), and all at the end; ev->ts is NULL.
	 */
	void (*timed)(void *ctx, const struct track_event *ev);
	/* Optional: the tracker was reset (a replay seek): drop derived state. */
	void (*reset)(void *ctx);
	/* Optional: descriptor to wait on (the terminal), or -1. */
	int (*fd)(void *ctx);
	/* Optional: the descriptor is readable. */
	void (*input)(void *ctx, struct loop *l);
	/* Optional: when tick() is next due; INT64_MAX for never. */
	int64_t (*next_due)(void *ctx);
	/* Optional: called when due, and after every batch of observations. */
	void (*tick)(void *ctx, struct loop *l, int64_t now);
	void (*close)(void *ctx);
};

struct netns_tab;

struct loop *loop_new(struct track *t);
void loop_free(struct loop *l); /* closes every source and sink */
void loop_add_source(struct loop *l, const struct source_ops *ops, void *ctx);
void loop_add_sink(struct loop *l, const struct sink_ops *ops, void *ctx);
struct track *loop_track(struct loop *l);
/* The labels of the namespaces watched: sources fill them, sinks read them. */
void loop_set_netns(struct loop *l, struct netns_tab *labels);
struct netns_tab *loop_netns(const struct loop *l);

/*
 * A source about to make a first dump of about n sockets, into the memory
 * first: the tracker makes room for them, and a second thread faults in
 * first and then the tracker's new memory (filling its new index) while the
 * dump runs. The next observation waits for that thread.
 */
void loop_expect(struct loop *l, size_t n, struct span first);
/* The n of loop_expect(), for a sink that sizes its own memory by it; 0 when none came. */
size_t loop_expected(const struct loop *l);
/*
 * Hand one observation to the tracker, then the transitions now in order to
 * every sink's timed(), then the observation to every sink's observe().
 */
void loop_observe(struct loop *l, const struct obs *o);
/*
 * The earliest time a transition not yet told may carry: the earliest of
 * what the tracker waits for the next full dump to decide and what each
 * source may still hand on. Transitions up to it go to timed() sinks.
 */
int64_t loop_horizon(const struct loop *l);
/* Run every source's sync(): what they observed until now reaches the tracker. */
void loop_sync(struct loop *l);
/* Send a control to every source that takes it; returns 0 if one did. */
int loop_control(struct loop *l, enum source_ctl c, double arg);
/*
 * Now, for dwell times: the first source's clock() where it has one (replay),
 * else CLOCK_MONOTONIC.
 */
int64_t loop_now(const struct loop *l);
/* One socket's tcp_info from the first source that has it; -ENOENT when none does. */
int loop_sock_info(struct loop *l, const struct sock *s, struct sock_info *out);
/*
 * Destroy one socket through the first source that can (the live poller):
 * 0, the kernel's -errno, or -ENOSYS when no source can (a replay).
 */
int loop_destroy(struct loop *l, const struct sock *s);
/*
 * The counters of every source that keeps them, with its name, in the order
 * added; returns how many were filled (at most cap).
 */
size_t loop_source_stats(const struct loop *l, const char **names, struct source_stats *st,
			 size_t cap);
/* The first source's state (all false when it tells none). */
void loop_source_state(const struct loop *l, struct source_state *st);
/* The first source's description. */
void loop_describe(struct loop *l, char *buf, size_t len);
/*
 * The filter has one owner, the loop: main sets the one given on the
 * command line, the view changes it. loop_set_filter() takes f (NULL:
 * none), tells every source, then frees the one before; sinks ask
 * loop_filter() when they need it and keep no pointer of their own.
 */
void loop_set_filter(struct loop *l, struct filter *f);
const struct filter *loop_filter(const struct loop *l);
/* Reset the tracker and every sink (a replay seek); transitions held are dropped. */
void loop_reset(struct loop *l);
/* Hand every transition held to the timed() sinks: a stream ends here (a recording's session). */
void loop_flush(struct loop *l);

/*
 * Hand a signal the loop reads (see sig_setup(): SIGCHLD, or a terminating
 * one) to fn instead of what the loop does by itself: a terminating signal
 * quits, SIGCHLD is let be. One handler a signal; a later call replaces it.
 */
typedef void (*loop_signal_fn)(void *arg, struct loop *l, int64_t now);
void loop_on_signal(struct loop *l, int sig, loop_signal_fn fn, void *arg);

/* Run until loop_quit() or a terminating signal; returns the exit status to use. */
int loop_run(struct loop *l);
void loop_quit(struct loop *l, int status);
bool loop_quitting(const struct loop *l);
/* A message for the status line (write errors, lost notices); sinks show the latest. */
void loop_status(struct loop *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *loop_last_status(const struct loop *l, int64_t *when);
/* The same for the status line only, never echoed: news that the header already shows. */
void loop_note(struct loop *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Also print every status message to out, as "tcpdwell: MESSAGE" (batch and event modes). */
void loop_echo(struct loop *l, FILE *out);

#endif
