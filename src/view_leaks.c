/* view_leaks.c - the leak report in the view: CLOSE_WAIT and FIN_WAIT_2 past --leak, by process. */
#include "config.h"
#include "view_int.h"

#include <stdlib.h>
#include <string.h>

#include "column.h"
#include "leaks.h"
#include "procmap.h"

/* One line per owner, then its sockets, oldest first, as many as fit. */
void view_draw_leaks(struct view *v, int y, int h)
{
	struct col_ctx cc = view_col_ctx(v);
	char lim[DUR_BUFSZ], buf[ADDR_BUFSZ + 128];
	int row = y, end = y + h;

	for (int i = y; i < end; i++)
		view_fill(i, 0, COLS, view_attr(v, EL_NORMAL));
	fmt_dur(lim, v->o.leak_ns, TIME_EXACT, v->utf8);
	if (row < end)
		view_putf(v, row++, 0, COLS, EL_HEADING,
			  "Leaks: %zu socket%s in CLOSE_WAIT or FIN_WAIT_2 for %s or more (L or "
			  "Esc: back)",
			  v->leaks.n, v->leaks.n == 1 ? "" : "s", lim + strspn(lim, " "));
	for (size_t i = 0, j; i < v->leaks.n && row < end; i = j) {
		const struct leak_sock *g = &v->leaks.socks[i];
		size_t cw = 0, fw = 0;

		for (j = i; j < v->leaks.n && leaks_same_owner(g, &v->leaks.socks[j]); j++)
			cw += v->leaks.socks[j].ts->s.state == ST_CLOSE_WAIT,
			    fw += v->leaks.socks[j].ts->s.state != ST_CLOSE_WAIT;
		col_table[COL_DWELL].text(&cc, g->ts, buf, sizeof(buf));
		row++;
		if (row >= end)
			break;
		if (g->own)
			view_putf(v, row++, 1, COLS - 1, EL_GROUP,
				  "%d/%s: %zu CLOSE_WAIT, %zu FIN_WAIT_2, oldest %s", g->own->pid,
				  g->own->comm, cw, fw, buf + strspn(buf, " "));
		else
			view_putf(v, row++, 1, COLS - 1, EL_GROUP,
				  "- (owner unknown): %zu CLOSE_WAIT, %zu FIN_WAIT_2, oldest %s",
				  cw, fw, buf + strspn(buf, " "));
		for (size_t m = i; m < j && row < end; m++) {
			const struct tsock *ts = v->leaks.socks[m].ts;
			char loc[ADDR_BUFSZ + 16], peer[ADDR_BUFSZ + 16];

			col_table[COL_DWELL].text(&cc, ts, buf, sizeof(buf));
			col_table[COL_LOCAL].text(&cc, ts, loc, sizeof(loc));
			col_table[COL_PEER].text(&cc, ts, peer, sizeof(peer));
			view_putf(v, row++, 3, COLS - 3, EL_LEAK, "%-11s %8s  %s -> %s",
				  st_name(ts->s.state), buf, loc, peer);
		}
	}
}

/* Its sockets, and a wish for their owners. */
void view_leaks_fetch(struct view *v)
{
	struct leaks_screen *k = &v->leaks;

	k->n = leaks_collect(v->ents, v->nents, view_now(v), v->o.leak_ns, v->o.pm, &k->socks,
			     &k->cap);
	leaks_sort(k->socks, k->n);
}

void view_leaks_free(struct view *v)
{
	free(v->leaks.socks);
}
