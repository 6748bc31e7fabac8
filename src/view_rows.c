/* view_rows.c - the table's rows: filtered, grouped by state or a key, sorted, folded; the
 * selection. */
#include "config.h"
#include "view_int.h"

#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "procmap.h"
#include "narrator.h"

bool view_hot(unsigned st)
{
	return st == ST_FIN_WAIT1 || st == ST_CLOSING;
}

int64_t view_dwell(const struct view *v, const struct tsock *ts)
{
	return col_dwell(ts, view_now(v));
}

const struct filter *view_filter(const struct view *v)
{
	return loop_filter(v->l);
}

const char *view_filter_text(const struct view *v)
{
	return view_filter(v) ? filter_text(view_filter(v)) : NULL;
}

struct col_ctx view_col_ctx(const struct view *v)
{
	return (struct col_ctx){.now = view_now(v),
				.pm = v->o.pm,
				.labels = loop_netns(v->l),
				.narr = v->o.narrator,
				.utf8 = v->utf8};
}

bool view_leak(const struct view *v, const struct tsock *ts)
{
	if (ts->flags & TS_GHOST || v->o.leak_ns <= 0)
		return false;
	if (ts->s.state != ST_CLOSE_WAIT && ts->s.state != ST_FIN_WAIT2)
		return false;
	return view_dwell(v, ts) > v->o.leak_ns;
}

size_t view_count(const struct view *v, unsigned st)
{
	if (st >= ST_MAX)
		return 0;
	return v->frozen ? v->fz_count[st] : track_count(v->t, st);
}

void view_sort_step(struct view *v, int dir)
{
	size_t at = 0, n = v->cols.n;

	for (size_t i = 0; i < n; i++)
		if (v->cols.id[i] == v->sort)
			at = i;
	for (size_t k = 1; k <= n; k++) {
		enum col_id id = v->cols.id[(at + n + (size_t)dir * k) % n];

		if (col_table[id].cmp) {
			v->sort = id;
			return;
		}
	}
}

/* v->grp_of[] of a socket the filter or scenario hides (groups are 0..ST_MAX). */
#define NOT_SHOWN UINT8_MAX

static unsigned group_of(const struct tsock *ts)
{
	return ts->s.state < ST_MAX ? ts->s.state : ST_MAX;
}

/* Group order first, the living before ghosts, then the chosen key. */
static int cmp_rows(const void *pa, const void *pb, void *arg)
{
	const struct view *v = arg;
	const struct tsock *a = *(const struct tsock *const *)pa,
			   *b = *(const struct tsock *const *)pb;
	unsigned ra = st_rank(a->s.state), rb = st_rank(b->s.state);
	int r = 0;

	if (ra != rb)
		return ra < rb ? -1 : 1;
	if ((a->flags & TS_GHOST) != (b->flags & TS_GHOST))
		return a->flags & TS_GHOST ? 1 : -1;
	struct col_ctx c = view_col_ctx(v);

	if (col_table[v->sort].cmp)
		r = col_table[v->sort].cmp(&c, a, b);
	if (!r)
		r = col_table[COL_LOCAL].cmp(&c, a, b);
	if (!r)
		r = a->s.cookie < b->s.cookie ? -1 : a->s.cookie > b->s.cookie;
	return v->sort_rev ? -r : r;
}

/*
 * On a busy box the common states bury the rare ones: fold ESTABLISHED,
 * LISTEN and TIME_WAIT while the table does not fit, unless F5 decided.
 */
static void auto_fold(struct view *v, size_t total)
{
	static const uint8_t common[] = {ST_ESTABLISHED, ST_LISTEN, ST_TIME_WAIT};
	size_t h = v->table_h > 0 ? (size_t)v->table_h : 12;

	for (size_t i = 0; i < ARRAY_SIZE(common); i++) {
		struct vgroup *g = &v->grp[common[i]];

		if (!g->user_set)
			g->folded = total > h && g->n > h / 4 && g->n < total;
	}
}

static void push_row(struct view *v, const struct tsock *ts, unsigned st)
{
	if (v->nrows == v->rowcap) {
		v->rowcap = v->rowcap ? 2 * v->rowcap : 256;
		v->rows = xreallocarray(v->rows, v->rowcap, sizeof(*v->rows));
	}
	v->rows[v->nrows++] = (struct vrow){.ts = ts, .st = (uint8_t)st};
}

/* Grouped by a key: the selected socket by its cookie, a header by its key. */
static void restore_key_selection(struct view *v)
{
	for (size_t i = 0; i < v->nrows; i++) {
		const struct vrow *r = &v->rows[i];

		if (r->ts
			? (v->sel_cookie && r->ts->s.cookie == v->sel_cookie) ||
			      (!v->sel_cookie && r->ts == v->sel_ts)
			: !v->sel_cookie && !v->sel_ts && !strcmp(v->gt.g[r->g].key, v->sel_gkey)) {
			v->sel = i;
			return;
		}
	}
	if (v->sel >= v->nrows)
		v->sel = v->nrows ? v->nrows - 1 : 0;
}

/* Find the row of the remembered selection after the rows changed. */
static void restore_selection(struct view *v)
{
	size_t head = SIZE_MAX;

	if (v->sel_group < 0)
		return;
	if (v->gby != GB_STATE) {
		restore_key_selection(v);
		return;
	}
	for (size_t i = 0; i < v->nrows; i++) {
		const struct vrow *r = &v->rows[i];

		if (r->st != v->sel_group && !(v->sel_group == ST_MAX && r->st == ST_MAX))
			continue;
		if (!r->ts) {
			head = i;
			if (!v->sel_cookie && !v->sel_ts)
				break;
			continue;
		}
		if ((v->sel_cookie && r->ts->s.cookie == v->sel_cookie) ||
		    (!v->sel_cookie && r->ts == v->sel_ts)) {
			v->sel = i;
			return;
		}
	}
	/* The socket moved to another group: look everywhere. */
	if (v->sel_cookie)
		for (size_t i = 0; i < v->nrows; i++)
			if (v->rows[i].ts && v->rows[i].ts->s.cookie == v->sel_cookie) {
				v->sel = i;
				v->sel_group = v->rows[i].st;
				return;
			}
	if (head != SIZE_MAX)
		v->sel = head;
	else if (v->sel >= v->nrows)
		v->sel = v->nrows ? v->nrows - 1 : 0;
}

static bool row_shown(const struct view *v, const struct tsock *ts)
{
	if (!track_ghost_shown(v->t, ts, view_now(v)))
		return false;
	if (!narrator_shows(v->o.narrator, &ts->s))
		return false;
	return !view_filter(v) || filter_match(view_filter(v), &ts->s);
}

/*
 * The shown sockets into v->sorted in row order, and the rows: groups in
 * state-machine order (a counting sort by the group sizes already counted),
 * then each group that shows its rows sorted by the chosen key. A folded
 * group shows none: the 160,000 ESTABLISHED and TIME_WAIT sockets of a busy
 * box are neither sorted nor looked at again for a screen that shows only
 * their counts. The counting pass left each socket's group in v->grp_of:
 * this one reads no socket.
 */
static void group_rows(struct view *v, const struct tsock *const *src, size_t n)
{
	unsigned order[ST_MAX + 1], norder = 0;
	size_t at[ST_MAX + 1], pos[ST_MAX + 1], k = 0;

	for (unsigned r = 0; r <= ST_MAX; r++)
		for (unsigned g = 0; g <= ST_MAX; g++)
			if ((st_rank(g) < ST_MAX ? st_rank(g) : ST_MAX) == r)
				order[norder++] = g;
	for (unsigned i = 0; i < norder; i++) {
		at[i] = pos[order[i]] = k;
		k += v->grp[order[i]].n;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned g = v->grp_of[i];

		if (g != NOT_SHOWN)
			v->sorted[pos[g]++] = src[i];
	}
	v->nrows = 0;
	for (unsigned i = 0; i < norder; i++) {
		const struct vgroup *gr = &v->grp[order[i]];

		if (!gr->n)
			continue;
		push_row(v, NULL, order[i]);
		if (gr->folded)
			continue;
		if (gr->n > 1)
			qsort_r(v->sorted + at[i], gr->n, sizeof(*v->sorted), cmp_rows, v);
		for (size_t j = at[i]; j < at[i] + gr->n; j++)
			push_row(v, v->sorted[j], order[i]);
	}
}

static bool key_group_open(const struct view *v, const struct group *g)
{
	return v->gfit || !strcmp(g->key, v->gopen);
}

/*
 * Grouped by a key (process, peer...): the shown sockets totalled per key,
 * the groups largest first (oldest first while the table sorts by dwell),
 * each group's sockets in the table's order under its header. While they
 * do not all fit, the groups show only their headers but the one opened,
 * and as with the states' folds, the sockets of a closed group are placed
 * in v->sorted (for the search) but not sorted.
 */
static void key_rows(struct view *v, const struct tsock *const *src, size_t n)
{
	struct col_ctx c = view_col_ctx(v);
	char key[sizeof(v->gopen)];
	size_t h = v->table_h > 0 ? (size_t)v->table_h : 12, *start, *fill;

	group_tab_clear(&v->gt);
	for (size_t i = 0; i < n; i++) {
		if (v->grp_of[i] == NOT_SHOWN)
			continue;
		group_key(v->gby, &c, src[i], key, sizeof(key));
		v->kgrp_of[i] = (uint32_t)group_tab_add(&v->gt, key, src[i]);
		if (view_leak(v, src[i]))
			v->gt.g[v->kgrp_of[i]].leaks++;
	}
	if (v->gt.n > v->gordcap) {
		v->gordcap = v->gt.n;
		v->gorder = xreallocarray(v->gorder, v->gordcap, sizeof(*v->gorder));
		v->grank = xreallocarray(v->grank, v->gordcap, sizeof(*v->grank));
	}
	group_tab_order(&v->gt, v->sort == COL_DWELL && !v->sort_rev, v->gorder);
	v->gfit = v->nsorted + v->gt.n <= h;
	/* A counting sort by the groups' ranks: start[r] is where rank r begins in v->sorted. */
	start = xcalloc(2 * v->gt.n + 1, sizeof(*start));
	fill = start + v->gt.n + 1;
	for (size_t r = 0; r < v->gt.n; r++) {
		v->grank[v->gorder[r]] = r;
		start[r + 1] = start[r] + v->gt.g[v->gorder[r]].n;
		fill[r] = start[r];
	}
	for (size_t i = 0; i < n; i++)
		if (v->grp_of[i] != NOT_SHOWN)
			v->sorted[fill[v->grank[v->kgrp_of[i]]]++] = src[i];
	v->nrows = 0;
	for (size_t r = 0; r < v->gt.n; r++) {
		const struct group *g = &v->gt.g[v->gorder[r]];
		size_t len = start[r + 1] - start[r];

		push_row(v, NULL, 0);
		v->rows[v->nrows - 1].g = (uint32_t)v->gorder[r];
		if (!key_group_open(v, g))
			continue;
		if (len > 1)
			qsort_r(v->sorted + start[r], len, sizeof(*v->sorted), cmp_rows, v);
		for (size_t j = start[r]; j < start[r + 1]; j++) {
			push_row(v, v->sorted[j], 0);
			v->rows[v->nrows - 1].g = (uint32_t)v->gorder[r];
		}
	}
	free(start);
}

bool view_key_group_fold(struct view *v)
{
	const struct group *g;

	if (v->gby == GB_STATE || v->sel >= v->nrows)
		return false;
	g = &v->gt.g[v->rows[v->sel].g];
	if (v->gfit) {
		view_msg(v, "every group is open: they all fit");
		return true;
	}
	if (!strcmp(v->gopen, g->key))
		v->gopen[0] = 0;
	else
		snprintf(v->gopen, sizeof(v->gopen), "%s", g->key);
	snprintf(v->sel_gkey, sizeof(v->sel_gkey), "%s", g->key);
	v->sel_ts = NULL;
	v->sel_cookie = 0; /* the selection stays on the group's header */
	v->rebuild = true;
	return true;
}

void view_group_step(struct view *v)
{
	v->gby = (enum group_by)((v->gby + 1) % GB_MAX);
	v->gopen[0] = 0;
	v->top = 0;
	view_msg(v, "grouped by %s", group_by_name(v->gby));
	v->rebuild = true;
}

size_t view_group_n(const struct view *v, size_t row)
{
	const struct vrow *r = &v->rows[row];

	return v->gby != GB_STATE ? v->gt.g[r->g].n : v->grp[r->st].n;
}

bool view_group_has(const struct view *v, size_t row, const struct tsock *ts)
{
	const struct vrow *r = &v->rows[row];
	struct col_ctx c;
	char key[sizeof(v->gopen)];

	if (v->gby == GB_STATE)
		return group_of(ts) == r->st;
	c = view_col_ctx(v);
	group_key(v->gby, &c, ts, key, sizeof(key));
	return !strcmp(key, v->gt.g[r->g].key);
}

void view_rows_room(struct view *v, size_t n)
{
	v->sortcap = n + n / 4 + 64;
	v->sorted = xreallocarray(v->sorted, v->sortcap, sizeof(*v->sorted));
	v->grp_of = xreallocarray(v->grp_of, v->sortcap, sizeof(*v->grp_of));
	v->kgrp_of = xreallocarray(v->kgrp_of, v->sortcap, sizeof(*v->kgrp_of));
}

void view_rebuild(struct view *v)
{
	const struct tsock *const *src = v->frozen ? v->fzp : v->ents;
	size_t n = v->frozen ? v->nfz : v->nents, k = 0;
	bool fixed = v->now_fixed != 0;

	if (!fixed)
		v->now_fixed = view_now(v);
	v->rebuild = false;
	for (unsigned g = 0; g <= ST_MAX; g++) {
		struct vgroup *gr = &v->grp[g];

		gr->n = gr->ghosts = gr->leaks = 0;
		gr->oldest = 0;
		gr->oldest_kind = TIME_BETWEEN;
	}
	if (n > v->sortcap) {
		view_rows_room(v, n);
		populate(v->sorted, n * sizeof(*v->sorted));
	}
	for (size_t i = 0; i < n; i++) {
		const struct tsock *ts = src[i];
		unsigned g = group_of(ts);
		struct vgroup *gr = &v->grp[g];

		v->grp_of[i] = NOT_SHOWN;
		if (!row_shown(v, ts))
			continue;
		v->grp_of[i] = (uint8_t)g;
		k++;
		gr->n++;
		if (ts->flags & TS_GHOST) {
			gr->ghosts++;
			continue;
		}
		if (!gr->oldest || ts->since < gr->oldest) {
			gr->oldest = ts->since;
			gr->oldest_kind = ts->since_kind;
		}
		if (view_leak(v, ts))
			gr->leaks++;
		if ((v->sort == COL_OWNER || v->gby == GB_PROCESS) && v->o.pm && ts->s.inode)
			procmap_want(v->o.pm, ts->s.inode);
	}
	v->nsorted = k;
	if (v->gby != GB_STATE) {
		key_rows(v, src, n);
	} else {
		auto_fold(v, k);
		group_rows(v, src, n);
	}
	restore_selection(v);
	if (!fixed)
		v->now_fixed = 0;
}

/* Move the selection to a row (clamped) and remember what it shows. */
void view_select(struct view *v, long row)
{
	if (!v->nrows) {
		v->sel = 0;
		return;
	}
	if (row < 0)
		row = 0;
	if ((size_t)row >= v->nrows)
		row = (long)v->nrows - 1;
	v->sel = (size_t)row;
	v->sel_group = v->rows[v->sel].st;
	v->sel_ts = v->rows[v->sel].ts;
	v->sel_cookie = v->sel_ts ? v->sel_ts->s.cookie : 0;
	if (v->gby != GB_STATE && !v->sel_ts)
		snprintf(v->sel_gkey, sizeof(v->sel_gkey), "%s", v->gt.g[v->rows[v->sel].g].key);
}

const struct tsock *view_selected(const struct view *v)
{
	return v->sel < v->nrows ? v->rows[v->sel].ts : NULL;
}

const struct tsock *view_find(const struct view *v, uint64_t cookie, const struct tsock *hint)
{
	const struct tsock *const *src = v->frozen ? v->fzp : v->ents;
	size_t n = v->frozen ? v->nfz : v->nents;

	for (size_t i = 0; i < n; i++)
		if (cookie ? src[i]->s.cookie == cookie : src[i] == hint)
			return src[i];
	return NULL;
}

bool view_row_matches(const struct view *v, const struct tsock *ts, const char *needle)
{
	char buf[ADDR_BUFSZ + 64];

	col_addr(buf, sizeof(buf), ts->s.family, ts->s.src, ts->s.sport);
	if (strcasestr(buf, needle))
		return true;
	col_addr(buf, sizeof(buf), ts->s.family, ts->s.dst, ts->s.dport);
	if (strcasestr(buf, needle))
		return true;
	if (strcasestr(st_name(ts->s.state), needle))
		return true;
	return strcasestr(view_owner(v, ts, buf, sizeof(buf)), needle) != NULL;
}

/* Select the next row matching the search text, wrapping around. */
/* A match found: a "no match" said for an earlier text is stale now. */
static void search_found(struct view *v, long row)
{
	view_select(v, row);
	view_prompt_err(v, PR_SEARCH, "");
	if (v->msg_search) {
		v->msg[0] = 0;
		v->msg_until = 0;
		v->msg_search = false;
	}
}

/* Rebuild with the found socket's group open and select its row; false if it is not shown. */
static bool show_found(struct view *v, const struct tsock *ts)
{
	view_rebuild(v);
	for (size_t r = 0; r < v->nrows; r++)
		if (v->rows[r].ts == ts) {
			search_found(v, (long)r);
			return true;
		}
	return false;
}

/* The same grouped by a key: the matching socket's group becomes the open one. */
static bool search_key_folded(struct view *v)
{
	struct col_ctx c = view_col_ctx(v);
	char key[sizeof(v->gopen)];

	for (size_t i = 0; i < v->nsorted; i++) {
		const struct tsock *ts = v->sorted[i];

		if (!view_row_matches(v, ts, v->search))
			continue;
		group_key(v->gby, &c, ts, key, sizeof(key));
		snprintf(v->gopen, sizeof(v->gopen), "%s", key);
		return show_found(v, ts);
	}
	return false;
}

/*
 * A socket of a folded group that matches: the group unfolds to show it.
 * The rows of a folded group are not built, but its sockets are in
 * v->sorted with the others.
 */
static bool search_folded(struct view *v)
{
	if (v->gby != GB_STATE)
		return search_key_folded(v);
	for (size_t i = 0; i < v->nsorted; i++) {
		const struct tsock *ts = v->sorted[i];
		struct vgroup *g = &v->grp[group_of(ts)];

		if (!g->folded || !view_row_matches(v, ts, v->search))
			continue;
		g->folded = false;
		g->user_set = true;
		return show_found(v, ts);
	}
	return false;
}

void view_search_next(struct view *v, bool from_current)
{
	if (!v->search[0])
		return;
	for (size_t i = from_current ? 0 : 1; i <= v->nrows; i++) {
		size_t r = (v->sel + i) % v->nrows;

		if (v->rows[r].ts && view_row_matches(v, v->rows[r].ts, v->search)) {
			search_found(v, (long)r);
			return;
		}
	}
	if (search_folded(v))
		return;
	/* While typing, beside the text (as a filter's error); after, on the message line. */
	if (view_prompt_err(v, PR_SEARCH, "no socket matches"))
		return;
	view_msg(v, "no socket matches \"%s\"", v->search);
	v->msg_search = true;
}

bool view_table_key(struct view *v, wint_t key, bool is_key)
{
	if (!is_key || key != KEY_F(3) || !v->search[0])
		return false;
	view_search_next(v, false);
	return true;
}

void view_table_move(struct view *v, enum vmove m, int page)
{
	long to = (long)v->sel;

	switch (m) {
	case MV_UP:
		to--;
		break;
	case MV_DOWN:
		to++;
		break;
	case MV_PGUP:
		to -= page;
		break;
	case MV_PGDN:
		to += page;
		break;
	case MV_HOME:
		to = 0;
		break;
	case MV_END:
		to = (long)v->nrows - 1;
		break;
	}
	view_select(v, to);
}

/* The owners of the rows on screen: a wish, that the tick's budgeted /proc scan grants. */
void view_table_fetch(struct view *v)
{
	if (!v->o.pm)
		return;
	for (size_t i = v->top; i < v->nrows && i < v->top + (size_t)v->table_h + 1; i++)
		if (v->rows[i].ts && v->rows[i].ts->s.inode)
			procmap_want(v->o.pm, v->rows[i].ts->s.inode);
}
