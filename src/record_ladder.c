/* record_ladder.c - a scenario's ladder entries in a recording: segments and actors' states. */
#include "config.h"
#include "record_fmt.h"

#include <string.h>

/* Kinds as stored: the file's numbers, not the enum's, so either may change alone. */
enum { LAD_SEGMENT = 0, LAD_STATE = 1 };

void record_put_ladder(struct rbuf *b, const struct obs *o)
{
	const struct scenario_ladder *e = o->seg;
	bool seg = e->type == SCENARIO_LADDER_SEG;

	rbuf_u8(b, seg ? LAD_SEGMENT : LAD_STATE);
	rbuf_u8(b, (uint8_t)e->actor);
	rbuf_u8(b, (uint8_t)e->peer);
	rbuf_u16(b, e->sport);
	rbuf_u16(b, e->dport);
	rbuf_str(b, o->seg_names[0] ? o->seg_names[0] : "");
	rbuf_str(b, o->seg_names[1] ? o->seg_names[1] : "");
	if (seg) {
		rbuf_u8(b, e->tcpflags);
		rbuf_u8(b, e->marks);
		rbuf_u32(b, e->seq);
		rbuf_u32(b, e->ack);
		rbuf_u16(b, e->len);
	} else {
		rbuf_u8(b, e->from);
		rbuf_u8(b, e->to);
	}
}

/* An actor index as stored: -1 (none) or one a ladder has a column for. */
static bool actor_ok(int8_t a)
{
	return a >= -1 && a < SCENARIO_LADDER_MAX_COLS;
}

int record_get_ladder(struct rcur *c, struct scenario_ladder *e, char names[2][RECORD_ACTOR_MAX],
		      const char **why)
{
	uint8_t kind = rcur_u8(c);
	int64_t mono = e->mono;

	memset(e, 0, sizeof(*e));
	e->mono = mono;
	e->actor = (int8_t)rcur_u8(c);
	e->peer = (int8_t)rcur_u8(c);
	e->sport = rcur_u16(c);
	e->dport = rcur_u16(c);
	rcur_str(c, names[0], RECORD_ACTOR_MAX);
	rcur_str(c, names[1], RECORD_ACTOR_MAX);
	switch (kind) {
	case LAD_SEGMENT:
		e->type = SCENARIO_LADDER_SEG;
		e->tcpflags = rcur_u8(c);
		e->marks = rcur_u8(c);
		e->seq = rcur_u32(c);
		e->ack = rcur_u32(c);
		e->len = rcur_u16(c);
		break;
	case LAD_STATE:
		e->type = SCENARIO_LADDER_STATE;
		e->from = rcur_u8(c);
		e->to = rcur_u8(c);
		break;
	default:
		/* A later version's kind: its fields are unknown, the record is whole. */
		if (c->bad)
			break;
		return 1;
	}
	if (c->bad) {
		*why = "short payload";
		return -1;
	}
	if (!actor_ok(e->actor) || !actor_ok(e->peer)) {
		*why = "actor out of range";
		return -1;
	}
	return 0;
}
