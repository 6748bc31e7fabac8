/* view.c - the full-screen view as a sink: terminal set-up and teardown, data, pacing. */
#include "config.h"
#include "view.h"
#include "view_int.h"

#include <errno.h>
#include <langinfo.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <term.h>
#include <termios.h>
#include <unistd.h>

#include "filter.h"
#include "leaks.h"
#include "procmap.h"

#define DRAW_MIN_NS (100 * NS_PER_MS) /* at most ten frames a second */
#define DRAW_IDLE_NS (500 * NS_PER_MS) /* clock, dwell and marks move on their own */
#define PROCMAP_BUDGET_NS (3 * NS_PER_MS)
/*
 * While the first screen's owners are looked for, the next slice this long
 * after one (a quarter of a core), not one slice per screen drawn: at
 * 160,000 sockets the first walk of /proc is most of a second of work.
 */
#define PROCMAP_PAUSE_NS (10 * NS_PER_MS)

/* What view_emergency_restore() needs, prepared while nothing is failing. */
static volatile sig_atomic_t emerg_active;
static struct termios emerg_tio;
static char emerg_seq[128];
static size_t emerg_len;

void view_emergency_restore(void)
{
	ssize_t r;

	if (!emerg_active)
		return;
	emerg_active = 0;
	r = write(STDOUT_FILENO, emerg_seq, emerg_len);
	(void)r;
	tcsetattr(STDIN_FILENO, TCSANOW, &emerg_tio);
}

/* Leave the alternate screen, show the cursor, reset attributes: what endwin() would do. */
static void emerg_prepare(void)
{
	static const char *const caps[] = { "sgr0", "cnorm", "rmkx", "rmcup" };

	emerg_len = 0;
	for (size_t i = 0; i < ARRAY_SIZE(caps); i++) {
		const char *s = tigetstr((char *)caps[i]);
		size_t n;

		if (!s || s == (char *)-1)
			continue;
		n = strlen(s);
		if (emerg_len + n + 2 >= sizeof(emerg_seq))
			break;
		memcpy(emerg_seq + emerg_len, s, n);
		emerg_len += n;
	}
	emerg_seq[emerg_len++] = '\r';
	emerg_seq[emerg_len++] = '\n';
}

int64_t view_now(const struct view *v)
{
	if (v->frozen)
		return v->fz_now;
	return v->now_fixed ? v->now_fixed : loop_now(v->l);
}

void view_msg(struct view *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->msg, sizeof(v->msg), fmt, ap);
	va_end(ap);
	v->msg_search = false;
	v->msg_until = mono_ns() + 4 * NS_PER_SEC;
	v->dirty = true;
}

/* One sample per second of observed time (the recording's time in a replay). */
static void spark_sample(struct view *v)
{
	int64_t sec = track_last_poll(v->t) / NS_PER_SEC;
	int64_t steps;

	if (!track_last_poll(v->t) || sec == v->spark_sec)
		return;
	steps = v->spark_sec && sec > v->spark_sec ? sec - v->spark_sec : 1;
	if (steps > VIEW_SPARK)
		steps = VIEW_SPARK;
	v->spark_sec = sec;
	while (steps-- > 0) {
		for (unsigned st = 0; st < ST_MAX; st++)
			v->spark[v->spark_pos][st] = (uint32_t)track_count(v->t, st);
		v->spark_pos = (v->spark_pos + 1) % VIEW_SPARK;
		if (v->spark_n < VIEW_SPARK)
			v->spark_n++;
	}
}

/*
 * What the screen will show but the tracker does not hold (the detail's
 * tcp_info, the leak report, the owners of the rows on screen), asked for
 * here with the data so that drawing does no I/O.
 */
static void fetch_for_screen(struct view *v)
{
	const struct vscreen *s = view_screen(v->mode);

	if (s->fetch)
		s->fetch(v);
}

/*
 * Bring the data up to date: collect after observations only (the pointers
 * are the tracker's, valid until its next change), then rebuild the rows.
 */
void view_refresh(struct view *v)
{
	warm_join(v->warm);
	v->warm = NULL;
	if (!v->frozen && (v->stale || track_size(v->t) != v->seen_size)) {
		v->nents = track_collect(v->t, &v->ents, &v->entcap);
		v->seen_size = v->nents;
		v->stale = false;
		v->rebuild = true;
		spark_sample(v);
		/* Forget owners of sockets long gone now and then; visible rows want theirs. */
		if (v->o.pm && mono_ns() - v->last_want > 30 * NS_PER_SEC) {
			v->last_want = mono_ns();
			procmap_gc(v->o.pm);
		}
	}
	view_detail_find(v, true);
	if (v->rebuild)
		view_rebuild(v);
	fetch_for_screen(v);
}

/* Space: keep copies of what is on screen while the tracker goes on. */
void view_freeze(struct view *v, bool on)
{
	if (on == v->frozen)
		return;
	if (on) {
		view_refresh(v);
		v->fz_now = loop_now(v->l);
		v->fz_wall = v->o.replay ? track_wall(v->t, v->fz_now) : wall_ns();
		for (unsigned st = 0; st < ST_MAX; st++)
			v->fz_count[st] = track_count(v->t, st);
		v->nfz = v->nents;
		v->fz = xcalloc(v->nfz ? v->nfz : 1, sizeof(*v->fz));
		v->fzp = xcalloc(v->nfz ? v->nfz : 1, sizeof(*v->fzp));
		for (size_t i = 0; i < v->nfz; i++) {
			v->fz[i] = *v->ents[i];
			v->fz[i].hist = NULL;
			if (v->ents[i]->nhist) {
				v->fz[i].hist = xreallocarray(NULL, v->ents[i]->nhist,
							      sizeof(*v->fz[i].hist));
				memcpy(v->fz[i].hist, v->ents[i]->hist,
				       v->ents[i]->nhist * sizeof(*v->fz[i].hist));
			}
			v->fz[i].hist_cap = v->fz[i].nhist;
			v->fzp[i] = &v->fz[i];
		}
		/* Rows and selection now point into the copies. */
		v->frozen = true;
		view_detail_find(v, false);
	} else {
		for (size_t i = 0; i < v->nfz; i++)
			free(v->fz[i].hist);
		free(v->fz);
		free(v->fzp);
		v->fz = NULL;
		v->fzp = NULL;
		v->nfz = 0;
		v->frozen = false;
		v->stale = true;
		view_detail_lose(v);
	}
	v->sel_ts = NULL; /* the old pointers are in the other set */
	v->rebuild = true;
	view_refresh(v);
}

void view_redraw(struct view *v)
{
	v->now_fixed = loop_now(v->l);
	view_refresh(v);
	erase();
	view_draw_main(v);
	v->now_fixed = 0;
	curs_set(view_prompting(v) ? 1 : 0);
	refresh();
	v->last_draw = mono_ns();
	v->dirty = false;
	v->shown_data = track_last_poll(v->t) != 0;
}

/*
 * The first dump has come but the screen still waits for it: draw now, not
 * DRAW_MIN_NS after the "Waiting for the first poll..." screen.
 */
static bool first_data_due(const struct view *v)
{
	return !v->shown_data && track_last_poll(v->t) != 0;
}

void view_quit(struct view *v)
{
	loop_quit(v->l, 0);
}

/* The terminal's size when curses has not heard of a change yet (a signal went elsewhere). */
static void check_size(struct view *v)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || !ws.ws_row || !ws.ws_col)
		return;
	if (ws.ws_row != LINES || ws.ws_col != COLS) {
		resize_term(ws.ws_row, ws.ws_col);
		clearok(curscr, TRUE);
		v->dirty = true;
	}
}

static void s_observe(void *ctx, struct loop *l, const struct obs *o)
{
	struct view *v = ctx;

	(void)l;
	(void)o;
	v->stale = true;
	v->dirty = true;
}

/* The pane lists transitions in time order: each comes once no earlier one can. */
static void s_timed(void *ctx, const struct track_event *ev)
{
	struct view *v = ctx;
	struct vevent *e = &v->ev[v->ev_head];

	*e = (struct vevent){ .mono = ev->mono, .wall = ev->wall, .dwell = ev->dwell,
			      .s = ev->s, .from = ev->from, .to = ev->to,
			      .dwell_kind = ev->dwell_kind, .jump = ev->jump };
	v->ev_head = (v->ev_head + 1) % VIEW_EVENTS;
	if (v->ev_n < VIEW_EVENTS)
		v->ev_n++;
	v->dirty = true;
}

static void s_event(void *ctx, const struct track_event *ev)
{
	struct view *v = ctx;
	int64_t now = loop_now(v->l);

	/* The diagram lights what was just seen, however late the poll noticed it. */
	if (ev->from < ST_MAX && ev->to < ST_MAX)
		v->lit[ev->from][ev->to] = now;
	if (ev->to < ST_MAX)
		v->entered[ev->to] = now;
	v->dirty = true;
}

static void s_reset(void *ctx)
{
	struct view *v = ctx;

	v->ev_head = v->ev_n = 0;
	memset(v->lit, 0, sizeof(v->lit));
	memset(v->entered, 0, sizeof(v->entered));
	memset(v->spark, 0, sizeof(v->spark));
	v->spark_pos = v->spark_n = 0;
	v->spark_sec = 0;
	v->stale = true;
	v->dirty = true;
	/* Every pointer into the tracker is gone; no stale one may be compared. */
	v->nents = 0;
	v->sel_ts = NULL;
	if (!v->frozen)
		view_detail_lose(v);
}

static int s_fd(void *ctx)
{
	(void)ctx;
	return STDIN_FILENO;
}

static void s_input(void *ctx, struct loop *l)
{
	struct view *v = ctx;
	wint_t wc;
	int r, got = 0;

	while ((r = wget_wch(stdscr, &wc)) != ERR) {
		got++;
		if (r == KEY_CODE_YES && wc == KEY_RESIZE) {
			/* The terminal rewrapped what it showed: repaint all, trust nothing. */
			clearok(curscr, TRUE);
			v->dirty = true;
			continue;
		}
		view_key(v, wc, r == KEY_CODE_YES);
		if (loop_quitting(l))
			return;
	}
	if (!got) {
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };

		/* The terminal went away (hangup): nothing to show things on any more. */
		if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR | POLLNVAL))) {
			loop_quit(l, 1);
			return;
		}
		check_size(v);
	}
	if (got || v->dirty)
		view_redraw(v);
}

static int64_t s_next_due(void *ctx)
{
	struct view *v = ctx;

	int64_t due = v->last_draw + (v->dirty ? DRAW_MIN_NS : DRAW_IDLE_NS);

	if (first_data_due(v))
		return 0;
	if (v->o.pm && procmap_first_pass(v->o.pm) && v->last_scan + PROCMAP_PAUSE_NS < due)
		due = v->last_scan + PROCMAP_PAUSE_NS;
	return due;
}

static void s_tick(void *ctx, struct loop *l, int64_t now)
{
	struct view *v = ctx;

	(void)l;
	/* The first table first: owners are looked for after it is on the screen. */
	if (first_data_due(v)) {
		view_redraw(v);
		return;
	}
	if (v->o.pm && procmap_scan(v->o.pm, now, PROCMAP_BUDGET_NS) > 0) {
		v->dirty = true;
		if (v->sort == COL_OWNER)
			v->rebuild = true;
	}
	v->last_scan = mono_ns();
	check_size(v);
	if (now - v->last_draw < DRAW_MIN_NS)
		return;
	if (v->dirty || now - v->last_draw >= DRAW_IDLE_NS)
		view_redraw(v);
}

static void view_free(struct view *v)
{
	warm_join(v->warm);
	if (v->frozen)
		view_freeze(v, false);
	free(v->ents);
	view_screens_free(v);
	free(v->sorted);
	view_prompt_close(v);
	free(v->grp_of);
	free(v->kgrp_of);
	free(v->gorder);
	free(v->grank);
	group_tab_free(&v->gt);
	free(v->rows);
	free(v);
}

static void s_close(void *ctx)
{
	struct view *v = ctx;

	endwin();
	emerg_active = 0;
	if (v->scr)
		delscreen(v->scr);
	view_free(v);
}

static const struct sink_ops view_sink = {
	.name = "view",
	.observe = s_observe,
	.event = s_event,
	.timed = s_timed,
	.reset = s_reset,
	.fd = s_fd,
	.input = s_input,
	.next_due = s_next_due,
	.tick = s_tick,
	.close = s_close,
};

/* A terminal that can address the cursor, or a reason why not. */
static int check_terminal(char *err, size_t errlen)
{
	const char *term = getenv("TERM");
	int e = 0;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		snprintf(err, errlen, "the full-screen view needs a terminal (use -b for batch output)");
		return -1;
	}
	if (!term || !*term) {
		snprintf(err, errlen, "TERM is not set (use -b for batch output)");
		return -1;
	}
	if (setupterm(NULL, STDOUT_FILENO, &e) != OK) {
		snprintf(err, errlen, "unknown terminal type '%.40s' (use -b for batch output)", term);
		return -1;
	}
	bool ok = tigetstr("cup") && tigetstr("cup") != (char *)-1;
	del_curterm(cur_term);
	if (!ok) {
		snprintf(err, errlen, "terminal '%.40s' cannot move the cursor (use -b for batch output)",
			 term);
		return -1;
	}
	return 0;
}

/*
 * The first dump is in and its size known about: the arrays of the first
 * screen are sized for it (as track_collect() and view_rebuild() grow them)
 * and touched on the second core while the terminal is set up and the dump
 * applied. Touched, not only put in: on this VM the first write of a small
 * page costs some microseconds even then, 700 pages here.
 */
static void view_expect(struct view *v, size_t n)
{
	if (!n)
		return;
	track_collect_room(&v->ents, &v->entcap, n);
	view_rows_room(v, n);
	v->warm = warm_start(
		(struct span[]){
			{ .p = v->ents, .len = n * sizeof(*v->ents), .how = WARM_TOUCH },
			{ .p = v->sorted, .len = n * sizeof(*v->sorted), .how = WARM_TOUCH },
			{ .p = v->grp_of, .len = n * sizeof(*v->grp_of), .how = WARM_TOUCH },
		},
		3);
}

int view_open(struct loop *l, const struct view_opts *o, char *err, size_t errlen)
{
	struct view *v;
	const char *cs = nl_langinfo(CODESET);

	if (check_terminal(err, errlen) < 0)
		return -1;
	v = xcalloc(1, sizeof(*v));
	v->l = l;
	v->t = loop_track(l);
	v->o = *o;
	v->utf8 = cs && (!strcasecmp(cs, "UTF-8") || !strcasecmp(cs, "utf8"));
	v->sel_group = -1;
	v->stale = true;
	v->dirty = true;
	v->mode = o->diagram ? VM_DIAGRAM : VM_TABLE;
	{
		char host[64] = "?";

		gethostname(host, sizeof(host) - 1);
		sanitize(v->host, sizeof(v->host), host, (size_t)-1);
	}
	if (o->cols)
		v->cols = *o->cols;
	else
		col_default(&v->cols, false);
	v->gby = o->group_by > 0 && o->group_by < GB_MAX ? (enum group_by)o->group_by : GB_STATE;
	v->sort = o->sort >= 0 && o->sort < COL_MAX && col_table[o->sort].cmp ? (enum col_id)o->sort
									      : COL_DWELL;
	v->sort_rev = o->sort_rev;

	view_expect(v, loop_expected(l));
	tcgetattr(STDIN_FILENO, &emerg_tio);
	v->scr = newterm(NULL, stdout, stdin);
	if (!v->scr) {
		snprintf(err, errlen, "cannot set up the terminal");
		view_free(v);
		return -1;
	}
	set_term(v->scr);
	emerg_prepare();
	emerg_active = 1;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	intrflush(stdscr, FALSE);
	set_escdelay(25);
	curs_set(0);
	view_color_init(v);
	/* The first screen is drawn by the loop's first tick, after the first dump is applied. */
	loop_add_sink(l, &view_sink, v);
	return 0;
}
