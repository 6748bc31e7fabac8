/* view_keys.c - the key table; the help screen and the key bar are generated from it. */
#include "config.h"
#include "view_int.h"

#include <limits.h>
#include <string.h>
#include <wchar.h>

#include "narrator.h"

/* Where a binding applies: screen modes, and live or replay sources. */
enum {
	W_TABLE = 1 << VM_TABLE,
	W_DETAIL = 1 << VM_DETAIL,
	W_DIAGRAM = 1 << VM_DIAGRAM,
	W_HELP = 1 << VM_HELP,
	W_LADDER = 1 << VM_LADDER,
	W_SETUP = 1 << VM_SETUP,
	W_LEAKS = 1 << VM_LEAKS,
	/* Not the setup screen: there Space and the letters edit the columns. */
	W_ALL = W_TABLE | W_DETAIL | W_DIAGRAM | W_HELP | W_LADDER | W_LEAKS,
	W_LIVE = 1 << 8,   /* only when the source is live */
	W_REPLAY = 1 << 9, /* only when replaying */
	W_SCEN = 1 << 10,  /* only with a scenario */
	W_LAD = 1 << 11,   /* only with a ladder: a scenario's, or a replay's */
};

typedef void (*key_fn)(struct view *v, int key);

struct vbind {
	int keys[4];	  /* 0 ends the list */
	const char *name; /* the keys as the help shows them */
	const char *bar;  /* label on the key bar, or NULL */
	const char *help;
	unsigned where;
	key_fn fn;
};

static const double intervals[] = { 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60 };

static void k_quit(struct view *v, int key)
{
	(void)key;
	view_quit(v);
}

static void k_help(struct view *v, int key)
{
	(void)key;
	view_enter(v, VM_HELP);
}

/* Esc: where it goes is the screen's to say. */
static void k_back(struct view *v, int key)
{
	const struct vscreen *s = view_screen(v->mode);

	(void)key;
	if (s->back)
		s->back(v);
	else
		view_enter(v, VM_TABLE);
}

/* The arrows and pages: the screen moves its selection or scrolls, a page of the table's height. */
static void k_move(struct view *v, int key)
{
	const struct vscreen *s = view_screen(v->mode);
	int page = v->table_h > 1 ? v->table_h - 1 : 1;
	enum vmove m = key == KEY_UP || key == 'k' ? MV_UP
		       : key == KEY_PPAGE	   ? MV_PGUP
		       : key == KEY_NPAGE	   ? MV_PGDN
		       : key == KEY_HOME	   ? MV_HOME
		       : key == KEY_END		   ? MV_END
						   : MV_DOWN;

	if (s->motion)
		s->motion(v, m, page);
}

static void k_enter(struct view *v, int key)
{
	const struct tsock *ts = view_selected(v);

	(void)key;
	if (!ts) {
		/* Enter on a group header folds it, as F5 does. */
		if (view_key_group_fold(v))
			return;
		if (v->sel < v->nrows) {
			struct vgroup *g = &v->grp[v->rows[v->sel].st];
			g->folded = !g->folded;
			g->user_set = true;
			v->rebuild = true;
		}
		return;
	}
	view_detail_open(v, ts);
}

static void k_fold(struct view *v, int key)
{
	(void)key;
	if (v->sel >= v->nrows || view_key_group_fold(v))
		return;
	struct vgroup *g = &v->grp[v->rows[v->sel].st];
	g->folded = !g->folded;
	g->user_set = true;
	v->sel_ts = NULL;
	v->sel_cookie = 0; /* the selection stays on the group's header */
	v->rebuild = true;
}

static void k_group(struct view *v, int key)
{
	(void)key;
	view_group_step(v);
}

static void k_sort(struct view *v, int key)
{
	if (key == 'I')
		v->sort_rev = !v->sort_rev;
	else
		view_sort_step(v, key == '<' ? -1 : 1);
	v->rebuild = true;
	view_msg(v, "sort within groups: %s%s", col_table[v->sort].name,
		 v->sort_rev ? " (reversed)" : "");
}

static void k_diagram(struct view *v, int key)
{
	(void)key;
	view_toggle(v, VM_DIAGRAM);
}

static void k_ladder(struct view *v, int key)
{
	(void)key;
	view_toggle(v, VM_LADDER);
}

static void k_leaks(struct view *v, int key)
{
	(void)key;
	view_toggle(v, VM_LEAKS);
}

static void k_pause(struct view *v, int key)
{
	(void)key;
	view_freeze(v, !v->frozen);
	/* A frozen screen with a script running on behind it would show steps skipped. */
	if (narrator_scripted(v->o.narrator))
		v->o.narrator->ops->pause(v->o.narrator->ctx, v->frozen);
}

static void k_interval(struct view *v, int key)
{
	double secs = (double)v->o.interval_ns / NS_PER_SEC;
	size_t i = 0;

	while (i + 1 < ARRAY_SIZE(intervals) && intervals[i] < secs - 1e-9)
		i++;
	if (key == '-' && i > 0 && intervals[i] >= secs - 1e-9)
		i--;
	else if (key != '-' && intervals[i] <= secs + 1e-9 && i + 1 < ARRAY_SIZE(intervals))
		i++;
	if (loop_control(v->l, CTL_INTERVAL, intervals[i]) < 0) {
		view_msg(v, "this source has a fixed interval");
		return;
	}
	v->o.interval_ns = (int64_t)(intervals[i] * NS_PER_SEC);
	view_msg(v, "polling every %g s", intervals[i]);
}

/* Whether the replay stands still (it may have paused itself at the end). */
static bool rp_paused(struct view *v)
{
	struct source_state st;

	loop_source_state(v->l, &st);
	return st.paused;
}

static void k_rp_pause(struct view *v, int key)
{
	bool pause = !rp_paused(v);

	(void)key;
	loop_control(v->l, CTL_PAUSE, pause ? 1 : 0);
}

static void k_rp_step(struct view *v, int key)
{
	loop_control(v->l, CTL_STEP, key == KEY_LEFT ? -1 : 1);
}

/* The source multiplies its speed and keeps it within x0.25 .. x64. */
static void k_rp_speed(struct view *v, int key)
{
	loop_control(v->l, CTL_SPEED, key == '-' ? 0.5 : 2);
}

static void k_rp_ends(struct view *v, int key)
{
	/* Seeking past the end stops at the last record. */
	loop_control(v->l, CTL_SEEK, key == KEY_HOME ? 0 : 1e12);
}

static void k_search(struct view *v, int key)
{
	(void)key;
	view_prompt_open(v, PR_SEARCH);
}

static void k_filter(struct view *v, int key)
{
	(void)key;
	view_prompt_open(v, PR_FILTER);
}

static void k_goto(struct view *v, int key)
{
	(void)key;
	view_prompt_open(v, PR_GOTO);
}

static void k_step(struct view *v, int key)
{
	const struct narrator *n = v->o.narrator;

	(void)key;
	if (narrator_scripted(n) && n->ops->waiting(n->ctx))
		n->ops->advance(n->ctx);
	else
		view_msg(v, "the scenario is not waiting for a key");
}

static void k_setup(struct view *v, int key)
{
	(void)key;
	view_toggle(v, VM_SETUP);
}

static void k_setup_edit(struct view *v, int key)
{
	if (key == ' ')
		view_setup_toggle(v);
	else if (key == '[' || key == ']')
		view_setup_shift(v, key == '[' ? -1 : 1);
	else if (key == 's')
		view_setup_sort(v);
	else if (key == 'w')
		view_setup_save(v);
}

static void k_act(struct view *v, int key)
{
	if (key == 'K')
		view_act_destroy(v);
	else
		view_act_signal(v);
}

static void k_redraw(struct view *v, int key)
{
	(void)key;
	clearok(curscr, TRUE);
	v->dirty = true;
}

/* The bindings; the first key of each is the one the key bar shows. */
static const struct vbind binds[] = {
    {{KEY_F(1), 'h', '?'},
     "F1 h ?",
     "Help",
     "this help (any key returns)",
     W_ALL | W_SETUP,
     k_help},
    {{KEY_F(2)},
     "F2",
     "Setup",
     "choose, order and sort the table's columns; w saves them",
     W_TABLE | W_SETUP,
     k_setup},
    {{' '}, "Space", NULL, "show or hide the selected column", W_SETUP, k_setup_edit},
    {{'[', ']'}, "[ ]", NULL, "move the selected column left or right", W_SETUP, k_setup_edit},
    {{'s'}, "s", NULL, "sort within groups by the selected column", W_SETUP, k_setup_edit},
    {{'w'}, "w", NULL, "save the columns and the sort to the settings file", W_SETUP, k_setup_edit},
    {{KEY_F(3), '/'},
     "F3 /",
     "Search",
     "search addresses, states, owners; F3 again: next",
     W_TABLE,
     k_search},
    {{KEY_F(4), 'f'},
     "F4 f",
     "Filter",
     "filter: state fin-wait-1, sport = :80, dst 10.0.0.0/8, and/or/not",
     W_TABLE | W_DIAGRAM,
     k_filter},
    {{KEY_F(5), 'o'},
     "F5 o",
     "Fold",
     "fold or unfold the selected group (by a key: open it alone)",
     W_TABLE,
     k_fold},
    {{'a'},
     "a",
     NULL,
     "group by state, process, peer, peer:port, local port, namespace (cycles)",
     W_TABLE,
     k_group},
    {{KEY_F(6), '>'}, "F6 >", "Sort", "sort within groups by the next column", W_TABLE, k_sort},
    {{'<'}, "<", NULL, "previous sort", W_TABLE, k_sort},
    {{'I'}, "I", NULL, "reverse the sort", W_TABLE | W_SETUP, k_sort},
    {{KEY_F(7), 'd'},
     "F7 d",
     "Diagram",
     "the live TCP state diagram, or back to the table",
     W_TABLE | W_DIAGRAM | W_LADDER,
     k_diagram},
    {{'l'},
     "l",
     "Ladder",
     "the scenario's segments and states as a ladder diagram, or back to the table",
     W_TABLE | W_DIAGRAM | W_LADDER | W_LAD,
     k_ladder},
    {{'L'},
     "L",
     NULL,
     "CLOSE_WAIT and FIN_WAIT_2 sockets older than --leak, by process, or back to the table",
     W_TABLE | W_DIAGRAM | W_LEAKS,
     k_leaks},
    {{'n'}, "n", "Next", "next scenario step (step mode)", W_ALL | W_SCEN, k_step},
    {{' '},
     "Space",
     "Pause",
     "freeze the screen and a scenario's script (polling goes on)",
     W_ALL | W_LIVE,
     k_pause},
    {{'+', '='}, "+", NULL, "poll less often", W_ALL | W_LIVE, k_interval},
    {{'-'}, "-", NULL, "poll more often", W_ALL | W_LIVE, k_interval},
    {{' '}, "Space", "Pause", "pause or resume the replay", W_ALL | W_REPLAY, k_rp_pause},
    {{KEY_RIGHT, KEY_LEFT},
     "Right Left",
     NULL,
     "step one poll forward or back",
     W_ALL | W_REPLAY,
     k_rp_step},
    {{'+', '=', '-'},
     "+ -",
     NULL,
     "replay faster or slower (x0.25 to x64)",
     W_ALL | W_REPLAY,
     k_rp_speed},
    {{'g'},
     "g",
     "Goto",
     "go to a time (seconds from the start, or m:ss)",
     W_ALL | W_REPLAY,
     k_goto},
    {{KEY_HOME, KEY_END},
     "Home End",
     NULL,
     "go to the start or the end of the recording",
     W_ALL | W_REPLAY,
     k_rp_ends},
    {{KEY_UP, KEY_DOWN, 'k', 'j'},
     "Up Down",
     NULL,
     "move the selection",
     W_TABLE | W_HELP | W_SETUP,
     k_move},
    {{KEY_PPAGE, KEY_NPAGE},
     "PgUp PgDn",
     NULL,
     "scroll a page",
     W_TABLE | W_HELP | W_SETUP,
     k_move},
    {{KEY_HOME, KEY_END}, "Home End", NULL, "first or last row", W_TABLE | W_LIVE, k_move},
    {{KEY_ENTER, '\r', '\n'},
     "Enter",
     "Detail",
     "details of the selected socket",
     W_TABLE,
     k_enter},
    {{'K'},
     "K",
     NULL,
     "destroy the selected socket, or a group's (as ss -K), after y",
     W_TABLE,
     k_act},
    {{KEY_F(9), 'x'},
     "F9 x",
     "Kill",
     "signal the selected socket's process (SIGTERM first), after Enter",
     W_TABLE,
     k_act},
    {{KEY_ESC, KEY_BACKSPACE},
     "Esc",
     "Back",
     "back to the table",
     W_DETAIL | W_DIAGRAM | W_HELP | W_LADDER | W_SETUP | W_LEAKS,
     k_back},
    {{CTRL('l')}, "Ctrl-L", NULL, "redraw the screen", W_ALL | W_SETUP, k_redraw},
    {{KEY_F(10), 'q'}, "F10 q", "Quit", "quit", W_ALL | W_SETUP, k_quit},
};

static bool bind_applies(const struct view *v, const struct vbind *b, enum vmode mode)
{
	if (!(b->where & (1u << mode)))
		return false;
	if ((b->where & W_LIVE) && v->o.replay)
		return false;
	if ((b->where & W_REPLAY) && !v->o.replay)
		return false;
	if ((b->where & W_LAD) && !v->o.narrator)
		return false;
	return !(b->where & W_SCEN) || narrator_scripted(v->o.narrator);
}

/* A key no binding of this screen takes: say so, rather than nothing happening. */
static void unknown_key(struct view *v, wint_t key, bool is_key)
{
	char name[32];

	if (is_key) {
		const char *kn = keyname((int)key);

		snprintf(name, sizeof(name), "%s", kn ? kn : "?");
	} else if (key == KEY_ESC) {
		snprintf(name, sizeof(name), "Esc");
	} else if (key < 0x20 || key == 127) {
		snprintf(name, sizeof(name), "Ctrl-%c", key == 127 ? '?' : (char)(key + '@'));
	} else {
		char mb[MB_LEN_MAX + 1];
		mbstate_t ps;
		size_t n;

		memset(&ps, 0, sizeof(ps));
		n = wcrtomb(mb, (wchar_t)key, &ps);
		if (n == (size_t)-1)
			snprintf(name, sizeof(name), "U+%04X", (unsigned)key);
		else
			snprintf(name, sizeof(name), "'%.*s'", (int)n, mb);
	}
	view_msg(v, "no key %s here: F1 or h lists the keys", name);
	v->dirty = true;
}

bool view_help_key(struct view *v, wint_t key, bool is_key)
{
	if (is_key && (key == KEY_UP || key == KEY_DOWN || key == KEY_NPAGE || key == KEY_PPAGE))
		return false; /* scrolling: the key table's */
	/* Any key returns, q too: "any key" that quits on one of them would lose a screen. */
	view_help_back(v);
	return true;
}

void view_help_back(struct view *v)
{
	view_enter(v, v->back == VM_HELP ? VM_TABLE : v->back);
}

void view_help_enter(struct view *v)
{
	v->help.top = 0;
}

void view_help_move(struct view *v, enum vmove m, int page)
{
	v->help.top += m == MV_UP ? -1 : m == MV_PGDN ? page : m == MV_PGUP ? -page : 1;
	if (v->help.top < 0)
		v->help.top = 0;
}

void view_key(struct view *v, wint_t key, bool is_key)
{
	if (view_prompt_key(v, key, is_key))
		return;
	if (view_screen(v->mode)->key && view_screen(v->mode)->key(v, key, is_key)) {
		v->dirty = true;
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(binds); i++) {
		const struct vbind *b = &binds[i];

		if (!bind_applies(v, b, v->mode))
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(b->keys) && b->keys[k]; k++) {
			/* Function keys come as key codes, characters as characters. */
			bool code = b->keys[k] >= KEY_MIN;

			if (b->keys[k] == (int)key && code == is_key) {
				b->fn(v, (int)key);
				v->dirty = true;
				return;
			}
		}
	}
	unknown_key(v, key, is_key);
}

/* The help screen: every binding that applies here, from the same table. */
void view_draw_help(struct view *v, int y0, int h)
{
	int y = y0 - v->help.top, line = 0;

	if (h <= 0)
		return;
	if (y >= y0)
		view_puta(v, y, 1, COLS - 1, EL_HEADING, "tcpdwell keys");
	y += 2;
	for (size_t i = 0; i < ARRAY_SIZE(binds); i++, line++) {
		const struct vbind *b = &binds[i];
		unsigned any = b->where & W_ALL;
		int x = 2;

		if ((b->where & W_LIVE && v->o.replay) || (b->where & W_REPLAY && !v->o.replay) ||
		    (b->where & W_SCEN && !narrator_scripted(v->o.narrator)) ||
		    (b->where & W_LAD && !v->o.narrator))
			continue;
		if (y >= y0 && y < y0 + h) {
			x += view_puta(v, y, x, 12, EL_COUNT, b->name);
			x = 15;
			x += view_put(y, x, COLS - x, b->help);
			if (!any && b->where & W_SETUP)
				view_puta(v, y, x, COLS - x, EL_DIM, "  (setup)");
			else if (any != W_ALL && any != (W_TABLE | W_HELP))
				view_puta(v, y, x, COLS - x, EL_DIM,
					  any == W_TABLE ? "  (table)" :
					  any & W_DIAGRAM && !(any & W_DETAIL) ? "  (table, diagram)" :
					  "");
		}
		y++;
	}
	y++;
	const char *legend[] = {
		"In the table: ! likely leak (CLOSE_WAIT or FIN_WAIT_2 held past the threshold),",
		"* or a dot: changed state just now; dimmed rows: gone sockets (ghosts);",
		"highlighted: FIN_WAIT_1 and CLOSING, which usually last an instant.",
		"DWELL: time in the current state; a leading >= means at least (seen at start-up).",
	};
	for (size_t i = 0; i < ARRAY_SIZE(legend); i++, y++)
		if (y >= y0 && y < y0 + h)
			view_puta(v, y, 2, COLS - 2, EL_DIM, legend[i]);
	if (v->help.top > 0 && y < y0 + h)
		v->help.top = v->help.top > y - y0 ? y - y0 : v->help.top;
}

/* The bottom line: a prompt while one is open, else the keys of this screen and the latest message. */
void view_draw_keybar(struct view *v, int y)
{
	int x = 0;

	view_fill(y, 0, COLS, view_attr(v, EL_STATUS));
	if (view_prompt_draw(v, y))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(binds) && x < COLS; i++) {
		const struct vbind *b = &binds[i];
		char k[16];
		const char *sp;

		if (!b->bar || !bind_applies(v, b, v->mode))
			continue;
		sp = strchr(b->name, ' ');
		snprintf(k, sizeof(k), "%.*s", sp ? (int)(sp - b->name) : (int)strlen(b->name), b->name);
		x += view_puta(v, y, x, COLS - x, EL_STATUS_KEY, k);
		x += view_puta(v, y, x, COLS - x, EL_STATUS, b->bar);
		x += view_puta(v, y, x, COLS - x, EL_STATUS, " ");
	}
	int64_t when = 0;
	const char *st = loop_last_status(v->l, &when);
	const char *m = NULL;
	enum vel e = EL_STATUS;
	if (mono_ns() < v->msg_until) {
		m = v->msg;
	} else if (st && mono_ns() - when < 10 * NS_PER_SEC) {
		m = st;
		e = EL_ERROR;
	}
	if (m) {
		char buf[256];
		int w;

		sanitize(buf, sizeof(buf), m, (size_t)-1);
		/* After the keys where it fits; else over them, keeping F1 in sight. */
		w = (int)strlen(buf) + 2;
		if (w > COLS - x)
			w = COLS - x > COLS * 6 / 10 ? COLS - x : COLS * 6 / 10;
		if (w > COLS - 8)
			w = COLS - 8 > 0 ? COLS - 8 : COLS;
		view_fill(y, COLS - w, w, view_attr(v, e));
		view_putf(v, y, COLS - w, w, e, " %s ", buf);
	}
}
