/* narrator.h - what a scenario tells the view and the sources: one typed interface. */
#ifndef TCPDWELL_NARRATOR_H
#define TCPDWELL_NARRATOR_H

#include <stddef.h>
#include <stdint.h>

#include "sock.h"

/*
 * The ladder: what crossed between the actors (a segment) and what each
 * became (a state), in the order it happened. Only in the scenario's own
 * namespace, where its segments are captured.
 */
enum { SCENARIO_LADDER_SEG, SCENARIO_LADDER_STATE };
#define SCENARIO_LADDER_MAX_COLS 8    /* one per actor at most */
#define SCENARIO_SEG_LOST	 0x01 /* a drop rule of the script took it */
#define SCENARIO_SEG_RETRANS	 0x02 /* it covers sequence space sent before */
struct scenario_ladder {
	int64_t mono;
	uint8_t type;	       /* SCENARIO_LADDER_* */
	int8_t actor;	       /* the sender, or the actor whose socket changed; -1 unknown */
	int8_t peer;	       /* the receiver of a segment */
	uint8_t tcpflags;      /* TH_FIN, TH_SYN, ... as on the wire */
	uint8_t marks;	       /* SCENARIO_SEG_* */
	uint8_t from, to;      /* a state change */
	uint16_t len;	       /* payload bytes */
	uint16_t sport, dport; /* the sender's ports, or the changed socket's */
	uint32_t seq, ack;     /* relative to each direction's first sequence number */
};
/* "FIN,ACK" */
void narrator_flags_text(char *buf, size_t len, uint8_t tcpflags);

/*
 * A scenario as others see it. A live script fills every entry; a replay
 * that carries a ladder has no script: owns and everything up to pause are
 * NULL there, and the view shows its ladder only.
 */
struct narrator_ops {
	/* The scenario's name, or the recording's. */
	const char *(*name)(const void *ctx);
	/* Whether a socket is the script's (the view and the sources keep only these). */
	bool (*owns)(const void *ctx, const struct sock *s);
	/* The actor owning a socket ("server", "client"), or NULL when not the scenario's. */
	const char *(*actor)(const void *ctx, const struct sock *s);
	/*
	 * What just happened (an action's result, a verdict, a prompt; with -v,
	 * the step running) and the last `say`, its quoted times filled in.
	 */
	const char *(*step_text)(const void *ctx);
	const char *(*narration)(const void *ctx);
	/* In step mode: whether it waits for a key, and go on past the current `step`. */
	bool (*waiting)(const void *ctx);
	void (*advance)(void *ctx);
	/* Hold the script where it is (the view's pause), or let it go on. */
	void (*pause)(void *ctx, bool paused);
	/*
	 * The ladder: how many entries are kept (the oldest go first), entry i,
	 * oldest first, and an actor's name by index for its columns (NULL past
	 * the last).
	 */
	size_t (*ladder_len)(const void *ctx);
	const struct scenario_ladder *(*ladder_at)(const void *ctx, size_t i);
	const char *(*actor_name)(const void *ctx, int i);
};

struct narrator {
	const struct narrator_ops *ops;
	void *ctx;
};

/* Whether n runs a script (narration, step keys, its sockets only); false for NULL. */
bool narrator_scripted(const struct narrator *n);
/* Whether a socket is shown: every one without a script, else the script's own. */
bool narrator_shows(const struct narrator *n, const struct sock *s);
/* The same for a change a source heard, by its key (the exact sources see every namespace). */
bool narrator_shows_key(const struct narrator *n, const struct sock_key *k);

#endif
