/* narrator.h - what a scenario shows outside itself: its ladder entries, and (next) one typed interface. */
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
#define SCENARIO_LADDER_MAX_COLS 8 /* one per actor at most */
#define SCENARIO_SEG_LOST 0x01	  /* a drop rule of the script took it */
#define SCENARIO_SEG_RETRANS 0x02 /* it covers sequence space sent before */
struct scenario_ladder {
	int64_t mono;
	uint8_t type;	/* SCENARIO_LADDER_* */
	int8_t actor;	/* the sender, or the actor whose socket changed; -1 unknown */
	int8_t peer;	/* the receiver of a segment */
	uint8_t tcpflags; /* TH_FIN, TH_SYN, ... as on the wire */
	uint8_t marks;	/* SCENARIO_SEG_* */
	uint8_t from, to; /* a state change */
	uint16_t len;	/* payload bytes */
	uint16_t sport, dport; /* the sender's ports, or the changed socket's */
	uint32_t seq, ack; /* relative to each direction's first sequence number */
};
/* "FIN,ACK" */
void narrator_flags_text(char *buf, size_t len, uint8_t tcpflags);

#endif
