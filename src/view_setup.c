/* view_setup.c - the setup screen (F2): which columns the table shows, in what order, and the sort.
 */
#include "config.h"
#include "view_int.h"

#include <stdio.h>
#include <string.h>

#include "rc.h"

/* Every column once: the shown ones in their order, then the hidden ones. */
static size_t setup_order(const struct view *v, uint8_t *order)
{
	size_t n = 0;

	for (size_t i = 0; i < v->cols.n; i++)
		order[n++] = v->cols.id[i];
	for (int id = 0; id < COL_MAX; id++)
		if (!col_has(&v->cols, (enum col_id)id))
			order[n++] = (uint8_t)id;
	return n;
}

void view_setup_move(struct view *v, enum vmove m, int page)
{
	(void)page; /* a page is every column: the list is short */
	v->setup.sel += m == MV_UP ? -1 : m == MV_PGUP ? -COL_MAX : m == MV_PGDN ? COL_MAX : 1;
	if (v->setup.sel < 0)
		v->setup.sel = 0;
	if (v->setup.sel >= COL_MAX)
		v->setup.sel = COL_MAX - 1;
}

/* Space: show or hide the selected column; the table keeps one at least. */
void view_setup_toggle(struct view *v)
{
	uint8_t order[COL_MAX];
	enum col_id id;

	setup_order(v, order);
	id = order[v->setup.sel];
	if (col_has(&v->cols, id)) {
		size_t k = 0;

		if (v->cols.n == 1) {
			view_msg(v, "the table keeps one column at least");
			return;
		}
		for (size_t i = 0; i < v->cols.n; i++)
			if (v->cols.id[i] != id)
				v->cols.id[k++] = v->cols.id[i];
		v->cols.n = k;
		/* It joins the hidden ones, right after the shown: follow it there. */
		v->setup.sel = (int)v->cols.n;
	} else {
		v->cols.id[v->cols.n++] = (uint8_t)id;
		v->setup.sel = (int)v->cols.n - 1;
	}
	v->rebuild = true;
}

/* [ and ]: move a shown column one place left (-1) or right (+1). */
void view_setup_shift(struct view *v, int dir)
{
	int i = v->setup.sel, j = i + dir;

	if (i >= (int)v->cols.n || j < 0 || j >= (int)v->cols.n) {
		view_msg(v, "only a shown column moves, within the shown ones");
		return;
	}
	uint8_t t = v->cols.id[i];
	v->cols.id[i] = v->cols.id[j];
	v->cols.id[j] = t;
	v->setup.sel = j;
}

/* s: sort within groups by the selected column, where it can sort. */
void view_setup_sort(struct view *v)
{
	uint8_t order[COL_MAX];
	enum col_id id;

	setup_order(v, order);
	id = order[v->setup.sel];
	if (!col_table[id].cmp) {
		view_msg(v, "%s is no sort key", col_table[id].name);
		return;
	}
	v->sort = id;
	v->rebuild = true;
}

/* w: the columns and the sort into the settings file, read at the next start. */
void view_setup_save(struct view *v)
{
	struct rc rc = {
	    .has_cols = true, .cols = v->cols, .sort = v->sort, .sort_rev = v->sort_rev};
	char err[512];

	if (!v->o.rc_path) {
		view_msg(v, "nowhere to save: neither XDG_CONFIG_HOME nor HOME is set");
		return;
	}
	if (rc_save(v->o.rc_path, &rc, err, sizeof(err)) < 0)
		view_msg(v, "%s", err);
	else
		view_msg(v, "saved to %s", v->o.rc_path);
}

void view_draw_setup(struct view *v, int y0, int h)
{
	uint8_t order[COL_MAX];
	size_t n = setup_order(v, order);
	int y = y0;

	if (h <= 0)
		return;
	view_puta(v, y++, 1, COLS - 1, EL_HEADING, "Setup: the table's columns and sort");
	if (y < y0 + h)
		view_puta(
		    v, y++, 1, COLS - 1, EL_DIM,
		    "Space show/hide   [ ] move   s sort by   I reverse   w save   F2 or Esc back");
	y++;
	for (size_t i = 0; i < n && y < y0 + h; i++, y++) {
		const struct column *c = &col_table[order[i]];
		bool shown = i < v->cols.n, sel = (int)i == v->setup.sel;
		enum vel e = sel ? EL_SELECTED : shown ? EL_NORMAL : EL_DIM;

		view_fill(y, 0, COLS, view_attr(v, e));
		view_putf(v, y, 1, COLS - 1, e, "%s %-8s %-7s %s%s", shown ? "[x]" : "[ ]",
			  c->title, c->name, c->doc,
			  order[i] == v->sort ? (v->sort_rev ? "  (sort, reversed)" : "  (sort)")
					      : "");
	}
	y++;
	if (y < y0 + h)
		view_putf(v, y, 1, COLS - 1, EL_DIM, "Settings file: %s",
			  v->o.rc_path ? v->o.rc_path
				       : "(none: neither XDG_CONFIG_HOME nor HOME set)");
}
