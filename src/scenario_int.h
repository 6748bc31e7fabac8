/* scenario_int.h - what the scenario parser, actors and runner share; not for other modules. */
#ifndef TCPDWELL_SCENARIO_INT_H
#define TCPDWELL_SCENARIO_INT_H

#include <stdint.h>
#include <sys/types.h>
#include "scenario.h"
#include "sock.h"

#define SC_MAX_ACTORS 8
#define SC_MAX_STEPS 2000
#define SC_MAX_BYTES (1 << 20)	/* a script larger than this is refused */
#define SC_MAX_LINE 1000	/* characters on one line */
#define SC_MAX_CONNS 32		/* connections remembered per actor */
#define SC_NAME_LEN 16
#define SC_MAX_LADDER 4096	/* ladder entries kept */
#define SC_MAX_FLOWS 64		/* directions of connections followed for relative numbers */
#define SC_MAX_DROPS 16		/* drop rules mirrored to mark segments lost */
#define SC_MAX_LADDER_PEND 32	      /* actors' states heard, waiting to be handed on */
#define SC_MAX_TOKENS 24	/* words on one line */

enum sc_kind {
	SK_ACTION,
	SK_SAY,
	SK_SLEEP,
	SK_WAIT,
	SK_EXPECT,
	SK_STEP,
	SK_DROP,	/* drop ACTOR SEGMENTS [once] */
	SK_BLACKHOLE,	/* blackhole ACTOR */
	SK_HEAL,	/* heal */
	SK_SYSCTL,	/* sysctl NAME VALUE... */
};

/* Segment kinds a `drop` line names, as bits of sc_step.segs. */
enum sc_seg { SG_SYN, SG_SYNACK, SG_ACK, SG_FIN, SG_RST, SG_ALL, SG_MAX };

enum sc_act {
	SA_LISTEN,
	SA_CONNECT,
	SA_ACCEPT,
	SA_SEND,
	SA_FILL,
	SA_RECV,
	SA_DRAIN,
	SA_SHUTDOWN,
	SA_CLOSE,
	SA_LINGER,
	SA_WRITE_AFTER_CLOSE,
	SA_BIND_AGAIN,
	SA_EXIT,
};

/* One direction of a connection, for sequence numbers relative to its first. */
struct sc_flow {
	uint16_t sport, dport;
	uint32_t isn;
	uint32_t next; /* the end of the sequence space sent so far */
};

/* A drop rule as the script set it: the capture marks the segments it takes. */
struct sc_drop {
	int8_t actor;
	bool both;	/* blackhole: to and from the actor */
	bool once;
	uint8_t segs, fired; /* bits of enum sc_seg; fired: the once rules used up */
};

struct sc_verb;

/* One line of the script, parsed. */
struct sc_step {
	const struct sc_verb *verb; /* what the line says to do */
	uint8_t kind;	/* enum sc_kind */
	uint8_t act;	/* enum sc_act */
	int8_t actor;	/* index into actors, -1 for launcher steps without one */
	int8_t target;	/* connect: the listening actor */
	int line;
	int backlog;	/* listen */
	int defer;	/* listen: TCP_DEFER_ACCEPT seconds, 0 off */
	bool reuseaddr; /* listen, bind-again */
	bool listener;	/* close: the listening socket, not the connection */
	bool negate;	/* expect ... not STATE */
	bool once;	/* drop: only the first segment of each kind */
	bool again;	/* connect: from the local port of the actor's last connect */
	bool seg_check;	/* expect ACTOR sends|retransmits KIND: about segments, not states */
	bool retrans;	/* ... retransmits */
	uint8_t segs;	/* drop: bits of enum sc_seg */
	int8_t knob;	/* sysctl: index into scenario_net.c's table */
	int rcvbuf, sndbuf; /* 0: the kernel's default */
	long n;		/* bytes (send, recv, write-after-close), seconds (linger), how (shutdown) */
	long n2;	/* sysctl: the second value of a pair (ip_local_port_range) */
	int fail_errno; /* the action is expected to fail with this errno; 0: to succeed */
	uint8_t state;	/* wait, expect */
	int64_t ns;	/* sleep length; wait/expect time limit (0: the default) */
	int64_t hold_ns; /* expect ... for SECS: in the state at least this long */
	char *text;	/* say: the narration; otherwise the line as written */
};

/* A connection an actor reported, to map the tracker's sockets to it. */
struct sc_conn {
	uint16_t lport, rport;
};

struct sc_actor {
	char name[SC_NAME_LEN];
	bool listens;	/* the script has it listen (a port is reserved for it) */
	uint16_t port;	/* its listening port, host order */
	pid_t pid;	/* 0 before start and after reaping */
	int cmd_fd;	/* commands to it, -1 when none */
	bool exiting;	/* it was told to exit: its end is no crash */
	uint32_t seen;	/* ST_MASK of every state observed for its sockets; CLOSED: one went */
	uint32_t left;	/* ST_MASK of the states a socket of it was seen to leave */
	uint8_t sent, resent; /* bits of enum sc_seg it was captured sending, retransmitting */
	int64_t dwell[ST_MAX];	   /* how long the last one stayed, for {ACTOR STATE} in `say` */
	uint8_t dwell_kind[ST_MAX]; /* enum time_kind of that */
	size_t nconns;
	struct sc_conn conns[SC_MAX_CONNS];
};

/* What an actor sends back after each action (one atomic pipe write). */
struct sc_reply {
	int32_t step;	/* index of the step, -1 for a start-up failure */
	int32_t actor;
	int32_t ret;	/* 0 success, -1 failure */
	int32_t err;	/* errno of the failure */
	uint16_t lport, rport; /* the connection after connect/accept, 0 if none */
	char text[232];
};

/*
 * scenario_actor.c: what an actor does for each action, in its own process
 * (sc_verbs[] points at these). 0, or -1 with the failure in r.
 */
struct sc_actor_proc;
typedef int sc_perform_fn(struct sc_actor_proc *a, const struct sc_step *st, struct sc_reply *r);
sc_perform_fn sc_do_listen, sc_do_bind_again, sc_do_connect, sc_do_accept, sc_do_send, sc_do_fill,
    sc_do_recv, sc_do_drain, sc_do_shutdown, sc_do_close, sc_do_linger, sc_do_write_after_close,
    sc_do_exit;

struct scenario {
	char *path;
	char *name;
	char *about;	/* the first `about` line: the one-line description */
	char *desc;	/* every `about` line joined */
	size_t nactors;
	struct sc_actor actors[SC_MAX_ACTORS];
	size_t nsteps, cap;
	struct sc_step *steps;
	int net_line;	/* the first drop/blackhole/heal/sysctl (needs a namespace), 0: none */
	bool uses_nft;	/* drop, blackhole or heal: needs nft(8) */

	/* Runtime, set by prepare and start. */
	bool prepared, started, stopped;
	bool netns;
	bool userns;	/* the namespace is in a user namespace of our own (not root) */
	char note[160]; /* how it runs (namespace or port), shown at start */
	struct loop *l;
	struct scenario_opts o;
	int reply_fd;
	int64_t t0;	/* monotonic ns at start */
	size_t cur;	/* the step running */
	bool cur_begun; /* its command sent / timer set */
	int64_t deadline;
	bool advance;	/* step mode: a key was pressed */
	bool waiting;	/* step mode: paused at a `step`, or between two `say`s */
	bool said;	/* step mode: a `say` shown with no pause since */
	bool paused;	/* scenario_pause(): no step begins or times out */
	int64_t paused_at;
	bool finished;
	int status;
	unsigned n_expect, n_failed;
	int64_t last_tick;
	int cap_fd;	/* the packet socket on the namespace's loopback, -1 none */
	struct scenario_ladder *ladder;
	size_t nladder;
	/*
	 * States heard inside the tracker's events, handed on as observations
	 * (for the recorder) once the observation that caused them is done.
	 */
	struct scenario_ladder lad_pend[SC_MAX_LADDER_PEND];
	size_t nlad_pend;
	bool replayed; /* a ladder store fed by a replay: no script, no actors run */
	struct sc_flow flows[SC_MAX_FLOWS];
	size_t nflows, flow_next;
	struct sc_drop drops[SC_MAX_DROPS];
	size_t ndrops;
	char step_text[320]; /* with the step's index: the script's progress */
	char happening[320]; /* the same without progress: what the audience sees */
	char narration[512];
	struct narrator narr; /* what scenario_narrator() gives */
};

/* Options an action may take after its argument, as bits of sc_verb.opts. */
enum {
	SC_OPT_REUSEADDR = 1 << 0, /* reuseaddr */
	SC_OPT_AGAIN = 1 << 1,	   /* again */
	SC_OPT_LISTENER = 1 << 2,  /* listener */
	SC_OPT_BACKLOG = 1 << 3,   /* backlog N */
	SC_OPT_DEFER = 1 << 4,	   /* defer SECS */
	SC_OPT_BUFS = 1 << 5,	   /* rcvbuf N, sndbuf N */
};

/* The parse of a script in progress: where it is, for messages, and the line's words. */
struct sc_parser {
	struct scenario *sc;
	const char *file;
	int line;
	char *err;
	size_t errlen;
	char *tok[SC_MAX_TOKENS];
	int ntok;
	const char *rest; /* the line after its first word, as written */
	int actor;	  /* an action's actor */
};

/*
 * One verb of the script language, as tmux has one cmd_entry per command:
 * its name, what follows it, how a line of it is read and how its step
 * runs. sc_verbs[] (scenario_verb.c) holds them all; the messages that
 * list verbs and tcpdwell-scenario(5) follow it.
 */
struct sc_verb {
	const char *name;
	const char *usage; /* what follows the name: "ACTOR STATE [TIMEOUT]" */
	bool action;	   /* an actor's: written ACTOR NAME ... */
	bool free_text;	   /* the rest of the line is text, '#' and all */
	uint8_t kind;	   /* enum sc_kind of the step it makes */
	uint8_t act;	   /* an action's enum sc_act */
	unsigned opts;	   /* an action's SC_OPT_*: the options it takes besides `fails` */
	/* Read the parser's line into a step (or the header); 0, or -1 with the error set. */
	int (*parse)(struct sc_parser *p, const struct sc_verb *v);
	/* How its step runs; NULL for the header's verbs, which make no step. */
	const struct sc_run *run;
	/* An action: what its actor does (scenario_actor.c); NULL for the launcher's verbs. */
	sc_perform_fn *perform;
};

/* How a kind of step runs (scenario_run.c). */
struct sc_run {
	/* Start it (line: the step as written, sanitised). */
	void (*begin)(struct scenario *sc, struct sc_step *st, const char *line, int64_t now);
	/* Called until it says so: whether the script goes on to the next step. */
	bool (*done)(struct scenario *sc, struct sc_step *st, int64_t now);
};

/* scenario_verb.c */
/* A verb by name: the launcher's (action false) or an actor's; NULL when none. */
const struct sc_verb *sc_verb_find(const char *name, bool action);
/* The names of the launcher's verbs or of the actions, "a, b" with last before the last. */
void sc_verb_names(char *buf, size_t len, bool action, const char *last);

/* scenario_parse.c */
/* A message "FILE:LINE: ...", always -1. */
__attribute__((format(printf, 2, 3))) int sc_perr(struct sc_parser *p, const char *fmt, ...);
/* A whole decimal number in [lo, hi]; seconds as "2", "0.5", "1.5s" or "200ms", at most max_s. */
int sc_parse_long(const char *s, long lo, long hi, long *out);
int sc_parse_secs(const char *s, double max_s, int64_t *out);
int sc_find_actor(const struct scenario *sc, const char *name);
/* A declared actor's index, or -1 with the error set. */
int sc_need_actor(struct sc_parser *p, const char *name, const char *verb);
int sc_parse_state(struct sc_parser *p, const char *s, const char *verb, uint8_t *out);
/* A new step of verb v at the parser's line, or NULL with the error set (too many). */
struct sc_step *sc_new_step(struct sc_parser *p, const struct sc_verb *v);
/* Parse a script held in memory, as if read from file (the unit tests use it). */
struct scenario *scenario_parse_text(const char *file, const char *text, size_t len, char *err,
				     size_t errlen);
const char *sc_errno_name(int err);
int sc_errno_parse(const char *s);
/* The state an observation counts as: NEW_SYN_RECV is shown as SYN_RECV. */
unsigned sc_norm_state(unsigned st);

/* scenario_actor.c */
/* Fork every actor; -1 with err set (those already forked are stopped by scenario_stop). */
int sc_actors_start(struct scenario *sc, char *err, size_t errlen);
/* Send step i to its actor; -errno on failure. */
int sc_actor_command(struct scenario *sc, size_t i);
/* Reap actors that ended; returns the index of one that died unexpectedly, or -1. */
int sc_actors_reap(struct scenario *sc, char *why, size_t len);

/* scenario_net.c: faults and sysctls, only ever in the scenario's own namespace */
/* A segment kind by name ("fin"), or -1. */
int sc_seg_parse(const char *name);
const char *sc_seg_name(int seg);
/* A namespace sysctl by name (tcp_fin_timeout or net.ipv4.tcp_fin_timeout), or -1. */
int sc_knob_find(const char *name);
/* Its name, range and how many values it takes (1, or 2 for a pair). */
const char *sc_knob_name(int knob);
void sc_knob_range(int knob, long *lo, long *hi, int *nvalues);
/* Before anything forks: whether what the script changes can be changed here. */
int sc_net_check(const struct scenario *sc, char *err, size_t len);
/* Carry out step i (drop, blackhole, heal, sysctl); 0 with what was done in msg, or -1. */
int sc_net_apply(struct scenario *sc, size_t i, char *msg, size_t len);
/* The bits of enum sc_seg a segment with these TCP flags counts as, as the rules match. */
unsigned sc_seg_kinds(uint8_t tcpflags);

/* scenario_cap.c: the segments between the actors, captured in the namespace */
/* Open the capture and add it to the loop; -1 with err set. */
int sc_cap_start(struct scenario *sc, struct loop *l, char *err, size_t len);
/* A state change of an actor's socket, for the ladder. */
void sc_ladder_state(struct scenario *sc, int64_t mono, int actor, unsigned from, unsigned to,
		     uint16_t sport, uint16_t dport);

/* scenario_svg.c */
/* Draw the ladder and a state timeline per socket into path; -1 with err set. */
int sc_svg_write(const struct scenario *sc, const char *path, char *err, size_t len);
/* Step i's drop, blackhole or heal was applied: mirror it. */
void sc_cap_rule(struct scenario *sc, size_t i);

/* scenario_run.c: how each kind of step runs, for sc_verbs[] */
extern const struct sc_run sc_run_say, sc_run_sleep, sc_run_check, sc_run_key, sc_run_net,
    sc_run_action;

/* scenario_run.c, for the capture */
int sc_actor_of(const struct scenario *sc, uint16_t sport, uint16_t dport);
void sc_put_segment(struct scenario *sc, const struct scenario_ladder *e);
/* scenario_run.c, what scenario_narr.c hands on: see struct narrator_ops. */
bool sc_owns(const struct scenario *sc, const struct sock *s);
const char *sc_actor(const struct scenario *sc, const struct sock *s);
const char *sc_step_text(const struct scenario *sc);
const char *sc_narration(const struct scenario *sc);
bool sc_waiting(const struct scenario *sc);
void sc_advance(struct scenario *sc);
void sc_pause(struct scenario *sc, bool paused);

#endif
