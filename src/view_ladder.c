#include "config.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "narrator.h"
#include "sock.h"
#include "util.h"
#include "view_int.h"

/*
 * The ladder: the textbook's sequence diagram, live. One vertical line per
 * actor, one row per segment (an arrow from sender to receiver with its
 * flags, relative seq:ack and payload) or per state change (the new state
 * beside its actor's line), newest at the bottom.
 */

#define LADDER_TIME_W  8  /* "  12.345" */
#define LADDER_STATE_W 13 /* room for "ESTABLISHED" and a blank beside a line */

struct ladder_cols {
	int n;
	int x[SCENARIO_LADDER_MAX_COLS];
	int col_of[SCENARIO_LADDER_MAX_COLS]; /* actor index -> column, -1 none */
};

/* The actors that took part, in the order the script declared them, spread over the width. */
static void layout(const struct narrator *narr, struct ladder_cols *c)
{
	size_t n = narr->ops->ladder_len(narr->ctx);
	bool used[SCENARIO_LADDER_MAX_COLS] = {false};
	int left = LADDER_TIME_W + LADDER_STATE_W, right = COLS - LADDER_STATE_W;

	c->n = 0;
	for (size_t i = 0; i < n; i++) {
		const struct scenario_ladder *e = narr->ops->ladder_at(narr->ctx, i);
		if (e->actor >= 0 && e->actor < SCENARIO_LADDER_MAX_COLS)
			used[e->actor] = true;
		if (e->type == SCENARIO_LADDER_SEG && e->peer >= 0 &&
		    e->peer < SCENARIO_LADDER_MAX_COLS)
			used[e->peer] = true;
	}
	for (int a = 0; a < SCENARIO_LADDER_MAX_COLS; a++) {
		c->col_of[a] = -1;
		if (used[a] && narr->ops->actor_name(narr->ctx, a))
			c->col_of[a] = c->n++;
	}
	for (int a = 0, k = 0; a < SCENARIO_LADDER_MAX_COLS; a++) {
		if (c->col_of[a] < 0)
			continue;
		c->x[k] = c->n == 1 ? (left + right) / 2 : left + (right - left) * k / (c->n - 1);
		k++;
	}
}

static void draw_lines(const struct view *v, const struct ladder_cols *c, int y)
{
	for (int k = 0; k < c->n; k++)
		view_puta(v, y, c->x[k], 1, EL_DIM, "\u2502");
}

static void draw_segment(const struct view *v, const struct ladder_cols *c, int y,
			 const struct scenario_ladder *e)
{
	int a = e->actor >= 0 ? c->col_of[e->actor] : -1,
	    b = e->peer >= 0 ? c->col_of[e->peer] : -1;
	bool lost = e->marks & SCENARIO_SEG_LOST;
	enum vel el = lost ? EL_ERROR : e->marks & SCENARIO_SEG_RETRANS ? EL_JUMP : EL_ARROW;
	char flags[40], label[80];
	int x0, x1, w, lx;

	if (a < 0 || b < 0 || a == b)
		return;
	x0 = c->x[a < b ? a : b] + 1;
	x1 = c->x[a < b ? b : a] - 1;
	w = x1 - x0 + 1;
	if (w < 3)
		return;
	/* A lost segment stops half way, where the network took it. */
	if (lost) {
		int mid = x0 + w / 2;

		if (a < b)
			x1 = mid;
		else
			x0 = mid;
		w = x1 - x0 + 1;
	}
	for (int x = x0; x <= x1; x++)
		view_puta(v, y, x, 1, el, "\u2500");
	narrator_flags_text(flags, sizeof(flags), e->tcpflags);
	/* seq:ack, +payload bytes, "re" for a retransmission */
	if (e->len)
		snprintf(label, sizeof(label), " %s %u:%u +%u%s ", flags, e->seq, e->ack, e->len,
			 e->marks & SCENARIO_SEG_RETRANS ? " re" : "");
	else
		snprintf(label, sizeof(label), " %s %u:%u%s ", flags, e->seq, e->ack,
			 e->marks & SCENARIO_SEG_RETRANS ? " re" : "");
	lx = x0 + (w - (int)strlen(label)) / 2;
	if (lx < x0)
		lx = x0;
	view_puta(v, y, lx, x1 - lx + 1, el, label);
	if (lost)
		view_puta(v, y, a < b ? x1 : x0, 1, el, "\u2715");
	else
		view_puta(v, y, a < b ? x1 : x0, 1, el, a < b ? "\u25b6" : "\u25c0");
}

static void draw_state(const struct view *v, const struct ladder_cols *c, int y,
		       const struct scenario_ladder *e)
{
	int k = e->actor >= 0 ? c->col_of[e->actor] : -1;
	const char *name = e->to == ST_CLOSE ? "CLOSED" : st_name(e->to);
	enum vel el = e->to == ST_FIN_WAIT1 || e->to == ST_CLOSING ? EL_BOX_HOT : EL_HEADING;

	if (k < 0)
		return;
	/* The first actor's states on its left, the others' on their right, as on a board. */
	if (k == 0)
		view_puta(v, y, c->x[k] - 1 - (int)strlen(name), (int)strlen(name), el, name);
	else
		view_puta(v, y, c->x[k] + 2, LADDER_STATE_W - 2, el, name);
}

void view_draw_ladder(struct view *v, int y0, int h)
{
	const struct narrator *narr = v->o.narrator;
	size_t n, first;
	struct ladder_cols c;
	int64_t t0;

	if (h <= 0 || !narr)
		return;
	n = narr->ops->ladder_len(narr->ctx);
	if (!n) {
		view_puta(v, y0 + (h > 1), 2, COLS - 2, EL_DIM,
			  "No segments yet: they are captured only in the scenario's own network "
			  "namespace (as root).");
		return;
	}
	layout(narr, &c);
	t0 = narr->ops->ladder_at(narr->ctx, 0)->mono;
	/* The actors' names over their lines. */
	view_puta(v, y0, 0, LADDER_TIME_W, EL_PANE, "    time");
	for (int a = 0; a < SCENARIO_LADDER_MAX_COLS; a++) {
		const char *name = narr->ops->actor_name(narr->ctx, a);
		if (name && c.col_of[a] >= 0) {
			int x = c.x[c.col_of[a]] - (int)strlen(name) / 2;
			view_puta(v, y0, x < 0 ? 0 : x, COLS, EL_PANE, name);
		}
	}
	/* Newest at the bottom: as many of the last entries as fit. */
	first = n > (size_t)(h - 1) ? n - (size_t)(h - 1) : 0;
	for (size_t i = first; i < n; i++) {
		const struct scenario_ladder *e = narr->ops->ladder_at(narr->ctx, i);
		int y = y0 + 1 + (int)(i - first);

		view_putf(v, y, 0, LADDER_TIME_W, EL_DIM, "%8.3f",
			  (double)(e->mono - t0) / NS_PER_SEC);
		draw_lines(v, &c, y);
		if (e->type == SCENARIO_LADDER_SEG)
			draw_segment(v, &c, y, e);
		else
			draw_state(v, &c, y, e);
	}
}
