/* view_diagram.c - the TCP state diagram with live counts; transitions light up as they happen. */
#include "config.h"
#include "view_int.h"

#include <stdio.h>
#include <string.h>

#define DIAG_W 80 /* the full drawing's size */
#define DIAG_H 20
#define BOX_W 20

struct dbox {
	uint8_t st;
	int8_t y, x;
};

/* One arrow: a path of up to four points (the last gets the head), and its label. */
struct dedge {
	uint8_t from, to;
	int8_t n;
	int8_t p[4][2]; /* y, x */
	int8_t ly, lx;
	const char *label;
};

static const struct dbox boxes[] = {
	{ ST_CLOSE, 0, 30 },	    { ST_LISTEN, 4, 6 },      { ST_SYN_SENT, 4, 54 },
	{ ST_SYN_RECV, 8, 6 },	    { ST_ESTABLISHED, 8, 54 }, { ST_FIN_WAIT1, 12, 0 },
	{ ST_CLOSING, 12, 30 },	    { ST_CLOSE_WAIT, 12, 60 }, { ST_FIN_WAIT2, 16, 0 },
	{ ST_TIME_WAIT, 16, 30 },   { ST_LAST_ACK, 16, 60 },
};

static const struct dedge edges[] = {
	{ ST_CLOSE, ST_LISTEN, 3, { { 0, 29 }, { 0, 16 }, { 3, 16 } }, 2, 18, "listen()" },
	{ ST_CLOSE, ST_SYN_SENT, 3, { { 0, 50 }, { 0, 64 }, { 3, 64 } }, 2, 66, "connect()" },
	{ ST_LISTEN, ST_SYN_RECV, 2, { { 5, 16 }, { 7, 16 } }, 6, 18, "rcv SYN, send SYN+ACK" },
	{ ST_SYN_SENT, ST_ESTABLISHED, 2, { { 5, 64 }, { 7, 64 } }, 6, 66, "rcv SYN+ACK" },
	{ ST_SYN_RECV, ST_ESTABLISHED, 2, { { 8, 26 }, { 8, 53 } }, 7, 34, "rcv ACK" },
	{ ST_ESTABLISHED, ST_FIN_WAIT1, 4, { { 9, 58 }, { 10, 58 }, { 10, 10 }, { 11, 10 } }, 11, 14,
	  "close(): send FIN" },
	{ ST_ESTABLISHED, ST_CLOSE_WAIT, 2, { { 9, 70 }, { 11, 70 } }, 10, 72, "rcv FIN" },
	{ ST_FIN_WAIT1, ST_CLOSING, 2, { { 12, 20 }, { 12, 29 } }, 13, 21, "rcv FIN" },
	{ ST_FIN_WAIT1, ST_FIN_WAIT2, 2, { { 13, 10 }, { 15, 10 } }, 14, 12, "rcv ACK" },
	{ ST_CLOSING, ST_TIME_WAIT, 2, { { 13, 40 }, { 15, 40 } }, 14, 42, "rcv ACK" },
	{ ST_CLOSE_WAIT, ST_LAST_ACK, 2, { { 13, 70 }, { 15, 70 } }, 14, 72, "close()" },
	{ ST_FIN_WAIT2, ST_TIME_WAIT, 2, { { 16, 20 }, { 16, 29 } }, 17, 21, "rcv FIN" },
	{ ST_TIME_WAIT, ST_CLOSE, 2, { { 17, 40 }, { 18, 40 } }, 17, 42, "60 s timer" },
	{ ST_LAST_ACK, ST_CLOSE, 2, { { 17, 70 }, { 18, 70 } }, 17, 72, "rcv ACK" },
};

static size_t diag_count(const struct view *v, unsigned st)
{
	size_t n = v->grp[st].n - v->grp[st].ghosts;

	if (st == ST_SYN_RECV)
		n += v->grp[ST_NEW_SYN_RECV].n - v->grp[ST_NEW_SYN_RECV].ghosts;
	return n;
}

static bool lit(const struct view *v, unsigned from, unsigned to)
{
	int64_t t = v->lit[from][to];

	if (from == ST_SYN_RECV || to == ST_SYN_RECV) {
		unsigned f2 = from == ST_SYN_RECV ? ST_NEW_SYN_RECV : from;
		unsigned t2 = to == ST_SYN_RECV ? ST_NEW_SYN_RECV : to;
		t = v->lit[f2][t2] > t ? v->lit[f2][t2] : t;
	}
	return t && view_now(v) - t < VIEW_LIT_NS;
}

static enum vel box_el(const struct view *v, unsigned st)
{
	size_t n = st == ST_CLOSE ? 0 : diag_count(v, st);
	int64_t e = v->entered[st];

	if (e && view_now(v) - e < VIEW_LIT_NS)
		return EL_BOX_HOT;
	if (n && view_hot(st))
		return EL_BOX_HOT;
	return n ? EL_BOX_LIVE : EL_BOX;
}

static void box_text(const struct view *v, unsigned st, char *buf, size_t len)
{
	if (st == ST_CLOSE)
		snprintf(buf, len, "[      CLOSED      ]");
	else
		snprintf(buf, len, "[ %-11s %4zu ]", st_name(st), diag_count(v, st));
}

/* The side of p that q lies on: 0 up, 1 right, 2 down, 3 left. */
static int side(const int8_t *p, const int8_t *q)
{
	if (q[0] < p[0])
		return 0;
	if (q[0] > p[0])
		return 2;
	return q[1] > p[1] ? 1 : 3;
}

static void draw_edge(const struct view *v, int oy, int ox, const struct dedge *e)
{
	static const char *const heads_u[] = { "\u25b2", "\u25b6", "\u25bc", "\u25c0" };
	static const char *const heads_a[] = { "^", ">", "v", "<" };
	enum vel el = lit(v, e->from, e->to) ? EL_ARROW_LIT : EL_ARROW;
	attr_t a = view_attr(v, el);

	attron(a);
	for (int i = 0; i + 1 < e->n; i++) {
		const int8_t *p = e->p[i], *q = e->p[i + 1];
		int y0 = p[0] < q[0] ? p[0] : q[0], y1 = p[0] < q[0] ? q[0] : p[0];
		int x0 = p[1] < q[1] ? p[1] : q[1], x1 = p[1] < q[1] ? q[1] : p[1];

		for (int y = y0; y <= y1; y++)
			for (int x = x0; x <= x1; x++)
				view_put(oy + y, ox + x, 1,
					 p[0] == q[0] ? (v->utf8 ? "\u2500" : "-") :
							(v->utf8 ? "\u2502" : "|"));
	}
	/* Corners join the two segments that meet there. */
	for (int i = 1; i + 1 < e->n; i++) {
		int a1 = side(e->p[i], e->p[i - 1]), a2 = side(e->p[i], e->p[i + 1]);
		int m = (1 << a1) | (1 << a2);
		const char *c = "+";

		if (v->utf8)
			c = m == 0x6 ? "\u250c" : m == 0xc ? "\u2510" : m == 0x3 ? "\u2514" : "\u2518";
		view_put(oy + e->p[i][0], ox + e->p[i][1], 1, c);
	}
	int d = side(e->p[e->n - 2], e->p[e->n - 1]);
	view_put(oy + e->p[e->n - 1][0], ox + e->p[e->n - 1][1], 1, v->utf8 ? heads_u[d] : heads_a[d]);
	attroff(a);
	view_puta(v, oy + e->ly, ox + e->lx, DIAG_W - e->lx, el == EL_ARROW ? EL_DIM : el, e->label);
}

/* Where the full drawing does not fit: the same paths as chains of states. */
static void draw_compact(struct view *v, int y0, int h)
{
	static const uint8_t chains[][6] = {
		{ ST_LISTEN, ST_SYN_RECV, ST_ESTABLISHED },
		{ ST_SYN_SENT, ST_ESTABLISHED },
		{ ST_ESTABLISHED, ST_FIN_WAIT1, ST_FIN_WAIT2, ST_TIME_WAIT },
		{ ST_FIN_WAIT1, ST_CLOSING, ST_TIME_WAIT },
		{ ST_ESTABLISHED, ST_CLOSE_WAIT, ST_LAST_ACK },
	};

	for (size_t c = 0; c < ARRAY_SIZE(chains) && (int)c < h; c++) {
		int x = 1, y = y0 + (int)c;

		for (size_t i = 0; i < ARRAY_SIZE(chains[c]) && chains[c][i]; i++) {
			unsigned st = chains[c][i];
			char buf[48];

			if (i) {
				enum vel e = lit(v, chains[c][i - 1], st) ? EL_ARROW_LIT : EL_DIM;
				x += view_puta(v, y, x, COLS - x, e, v->utf8 ? " \u2192 " : " -> ");
			}
			snprintf(buf, sizeof(buf), "%s %zu", st_name(st), diag_count(v, st));
			x += view_puta(v, y, x, COLS - x, box_el(v, st), buf);
		}
	}
}

void view_draw_diagram(struct view *v, int y0, int h)
{
	int ox, oy;

	if (h <= 0)
		return;
	if (COLS < DIAG_W || h < DIAG_H) {
		draw_compact(v, y0, h);
		return;
	}
	ox = (COLS - DIAG_W) / 2;
	oy = y0 + (h - DIAG_H) / 2;
	for (size_t i = 0; i < ARRAY_SIZE(edges); i++)
		draw_edge(v, oy, ox, &edges[i]);
	for (size_t i = 0; i < ARRAY_SIZE(boxes); i++) {
		char buf[48];

		box_text(v, boxes[i].st, buf, sizeof(buf));
		view_puta(v, oy + boxes[i].y, ox + boxes[i].x, BOX_W, box_el(v, boxes[i].st), buf);
	}
	view_puta(v, oy + 19, ox + 37, 10, EL_DIM, "(gone)");
	view_puta(v, oy + 19, ox + 67, 10, EL_DIM, "(gone)");
}
