/* view_int.h - what the view's files share: the view's state and its internal calls. */
#ifndef TCPDWELL_VIEW_INT_H
#define TCPDWELL_VIEW_INT_H

#include <curses.h>

#include "column.h"
#include "group.h"
#include "view.h"

/* Screen elements, coloured by meaning (view_color.c has one table per scheme). */
enum vel {
	EL_NORMAL,
	EL_TITLE,      /* the top line */
	EL_BADGE,      /* PAUSED, REPLAY */
	EL_LABEL,      /* state names in the counts */
	EL_COUNT,      /* a non-zero count */
	EL_COUNT_HOT,  /* a non-zero FIN_WAIT_1 / CLOSING count */
	EL_SPARK,      /* count history */
	EL_COLHEAD,    /* column titles */
	EL_GROUP,      /* a group header */
	EL_GROUP_HOT,  /* FIN_WAIT_1 / CLOSING group header */
	EL_ROW_HOT,    /* FIN_WAIT_1 / CLOSING socket */
	EL_GHOST,      /* a socket that went away */
	EL_LEAK,       /* CLOSE_WAIT / FIN_WAIT_2 past the leak threshold */
	EL_CHANGED,    /* the mark of a socket that just changed */
	EL_SELECTED,   /* the selection bar */
	EL_PANE,       /* a pane's title */
	EL_DIM,        /* secondary text */
	EL_JUMP,       /* a transition that skipped states */
	EL_STATUS,     /* the key bar: labels */
	EL_STATUS_KEY, /* the key bar: keys */
	EL_ERROR,      /* errors and warnings */
	EL_NARRATION,  /* scenario narration */
	EL_BOX,	       /* diagram: empty state */
	EL_BOX_LIVE,   /* diagram: state with sockets */
	EL_BOX_HOT,    /* diagram: state just entered, or a hot state with sockets */
	EL_ARROW,      /* diagram: transition */
	EL_ARROW_LIT,  /* diagram: transition that just happened */
	EL_HEADING,    /* detail and help headings */
	EL_MAX
};

enum vmode { VM_TABLE, VM_DETAIL, VM_DIAGRAM, VM_HELP, VM_LADDER, VM_SETUP, VM_LEAKS };
/* PR_DESTROY and PR_SIGNAL: an action waits for its confirmation (view_act.c). */
enum vprompt { PR_NONE, PR_FILTER, PR_SEARCH, PR_GOTO, PR_DESTROY, PR_SIGNAL };

#define KEY_ESC 27
#define CTRL(c) ((c) & 0x1f)

#define VIEW_EVENTS 256	   /* transitions kept for the pane */
#define VIEW_SPARK 60	   /* seconds of count history */
#define VIEW_CHANGED_NS (2 * NS_PER_SEC) /* how long "just changed" shows */
#define VIEW_LIT_NS (1500 * NS_PER_MS)	 /* how long a diagram arrow stays lit */

/* One line of the table: a group header (ts NULL) or a socket. */
struct vrow {
	const struct tsock *ts;
	uint8_t st;
	uint32_t g; /* grouped by a key: the group's index in v->gt */
};

/* One state's group, as the filter leaves it. */
struct vgroup {
	size_t n, ghosts, leaks;
	int64_t oldest; /* entry time of the oldest living socket, 0 when none */
	uint8_t oldest_kind;
	bool folded, user_set; /* user_set: F5 decided, the automatic rule no longer does */
};

/* A transition as the pane keeps it (the tracker's pointer is not kept). */
struct vevent {
	int64_t mono, wall, dwell;
	struct sock s;
	uint8_t from, to, dwell_kind;
	bool jump;
};

/* The help (view_keys.c): its first line on screen. */
struct help_screen {
	int top;
};

/* The setup screen (view_setup.c): its selected line. */
struct setup_screen {
	int sel;
};

/* The detail (view_detail.c): one socket, and its tcp_info fetched with the data. */
struct detail_screen {
	uint64_t cookie;
	const struct tsock *ts; /* identity when the cookie is 0 */
	/* Fetched in view_refresh(), never by drawing. */
	struct sock_info info;
	bool info_ok;
	int64_t info_poll; /* the tracker's last poll when fetched */
	const struct tsock *info_ts;
};

struct leak_sock;
/* The leak report (view_leaks.c): its sockets, by owner. */
struct leaks_screen {
	struct leak_sock *socks;
	size_t n, cap;
};

/* The prompt on the bottom line, of one kind at a time (view_prompt.c, view_act.c). */
struct prompt {
	enum vprompt kind;
	/* The line editor's text, and what is wrong with it. */
	char buf[256];
	size_t len;
	char err[160];
	char flt_before[256]; /* PR_FILTER: the filter's text when the prompt opened */
	/* The action being confirmed: its sockets copied (the tracker's may go meanwhile). */
	struct sock *socks;
	size_t nsocks;
	int pid, sig; /* PR_SIGNAL: the owner, and the index of the signal chosen */
	char comm[64];
};

struct view {
	struct loop *l;
	struct track *t;
	struct view_opts o;
	SCREEN *scr;
	bool utf8, color;
	enum vmode mode, back; /* back: where Esc returns from help and detail */

	/* The data: pointers from track_collect(), valid until the next observation. */
	const struct tsock **ents;
	size_t nents, entcap;
	struct warmer *warm; /* touching the first screen's arrays (view_open) */
	bool stale;
	size_t seen_size;
	int64_t now_fixed; /* one "now" for a whole sort or frame, 0 when none */
	/* Space: the screen freezes on copies (the tracker keeps running). */
	bool frozen;
	struct tsock *fz;
	const struct tsock **fzp;
	size_t nfz;
	int64_t fz_now, fz_wall;
	size_t fz_count[ST_MAX];

	/* The table. */
	const struct tsock **sorted;
	uint8_t *grp_of; /* per source socket: its group, or NOT_SHOWN (sortcap long) */
	size_t nsorted, sortcap;
	struct vrow *rows;
	size_t nrows, rowcap;
	struct vgroup grp[ST_MAX + 1]; /* [ST_MAX]: states out of range */
	/* Grouped by a key (a cycles it): the groups, each socket's, and their order. */
	enum group_by gby;
	struct group_tab gt;
	uint32_t *kgrp_of; /* per source socket: its group in gt (sortcap long) */
	size_t *gorder, *grank, gordcap;
	/* The one key group opened while the groups do not fit (Enter or F5 on its header). */
	char gopen[sizeof(((struct group *)0)->key)];
	bool gfit;					 /* every key group fits: all are open */
	char sel_gkey[sizeof(((struct group *)0)->key)]; /* the selected key group's header */
	bool rebuild;
	size_t sel, top;
	uint64_t sel_cookie;
	const struct tsock *sel_ts; /* identity when the cookie is 0 */
	int sel_group;		    /* the group of the selection, or -1 */
	struct col_list cols;	    /* the table's columns, in order */
	enum col_id sort;	    /* a column with a comparator */
	bool sort_rev;
	int table_h; /* rows of table on the last draw, for the fold rule and paging */
	/* The widest address seen on screen since the rows last changed: scrolling keeps widths. */
	int addr_w;
	size_t addr_nrows;

	/* The search text (F3 repeats it); the filter is the loop's (loop_filter()). */
	char search[256];
	struct prompt pr;

	/* Transitions. */
	struct vevent ev[VIEW_EVENTS];
	size_t ev_head, ev_n;
	int64_t lit[ST_MAX][ST_MAX]; /* last time each edge was taken (diagram) */
	int64_t entered[ST_MAX];

	/* Count history, one sample per second of observed time. */
	uint32_t spark[VIEW_SPARK][ST_MAX];
	unsigned spark_pos, spark_n;
	int64_t spark_sec;

	/* Redraw pacing and procmap upkeep. */
	int64_t last_draw, last_want, last_scan;
	unsigned want_rounds;
	bool dirty;
	bool shown_data; /* the last screen drawn had a dump applied (not "Waiting...") */

	char host[64]; /* sanitised, read once */

	/* Each screen's own state, touched by its own file only. */
	struct help_screen help;
	struct setup_screen setup;
	struct detail_screen detail;
	struct leaks_screen leaks;

	char msg[160];
	int64_t msg_until;
	bool msg_search; /* msg is the search's "no match" (a later match clears it) */
};

/* How the arrow and page keys move within a screen. */
enum vmove { MV_UP, MV_DOWN, MV_PGUP, MV_PGDN, MV_HOME, MV_END };

/*
 * A screen of the view (table, detail, diagram, help, ladder, setup, leaks),
 * in the style of tmux's window modes: its entry in the screens table
 * (view_draw.c) says all that differs by screen. Every hook but draw may be
 * NULL.
 */
struct vscreen {
	const char *name;
	bool visit; /* help and detail: Esc returns to the screen they were opened from */
	void (*enter)(struct view *v);
	void (*leave)(struct view *v);
	/* What draw will show but the tracker does not hold, fetched with the data. */
	void (*fetch)(struct view *v);
	void (*draw)(struct view *v, int y, int h);
	/* Sees keys before the key table (true: taken). */
	bool (*key)(struct view *v, wint_t key, bool is_key);
	/* The arrow and page keys; page: the lines of a page. */
	void (*motion)(struct view *v, enum vmove m, int page);
	void (*back)(struct view *v); /* Esc; NULL: back to the table */
	void (*free)(struct view *v);
};
const struct vscreen *view_screen(enum vmode m);
/* Go to a screen: leave the one shown, remember where a visit was opened from, enter. */
void view_enter(struct view *v, enum vmode m);
/* Go to a screen, or back to the table when it is the one shown. */
void view_toggle(struct view *v, enum vmode m);
/* Free every screen's state (view_free()). */
void view_screens_free(struct view *v);

/* view.c */
int64_t view_now(const struct view *v);
void view_refresh(struct view *v);
void view_redraw(struct view *v);
void view_msg(struct view *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void view_freeze(struct view *v, bool on);
void view_quit(struct view *v);

/* The loop's filter, or NULL; its text, or NULL. */
const struct filter *view_filter(const struct view *v);
const char *view_filter_text(const struct view *v);

/* view_rows.c */
void view_rebuild(struct view *v);
/* Make the table's arrays room for n sockets and some to spare, as view_rebuild() grows them. */
void view_rows_room(struct view *v, size_t n);
int64_t view_dwell(const struct view *v, const struct tsock *ts);
bool view_leak(const struct view *v, const struct tsock *ts);
bool view_hot(unsigned st);
void view_select(struct view *v, long row);
const struct tsock *view_selected(const struct view *v);
bool view_row_matches(const struct view *v, const struct tsock *ts, const char *needle);
void view_search_next(struct view *v, bool from_current);
/* Step the sort to the next (dir 1) or previous (-1) shown column that sorts. */
void view_sort_step(struct view *v, int dir);
/* What the columns need besides a socket, at the view's now. */
struct col_ctx view_col_ctx(const struct view *v);
/* Enter or F5 on a key group's header: open it, or fold it back (true: it was one). */
bool view_key_group_fold(struct view *v);
/* Group the rows by the next key (state, process, peer...). */
void view_group_step(struct view *v);
/* The sockets, ghosts included, that the group header at row stands for. */
size_t view_group_n(const struct view *v, size_t row);
/* Whether ts is in the group of the header at row (state or key, as the rows are grouped). */
bool view_group_has(const struct view *v, size_t row, const struct tsock *ts);
const struct tsock *view_find(const struct view *v, uint64_t cookie, const struct tsock *hint);
/* The table's hooks: F3 repeats the search, the selection moves, visible owners are wanted. */
bool view_table_key(struct view *v, wint_t key, bool is_key);
void view_table_move(struct view *v, enum vmove m, int page);
void view_table_fetch(struct view *v);
size_t view_count(const struct view *v, unsigned st);

/* view_color.c */
void view_color_init(struct view *v);
attr_t view_attr(const struct view *v, enum vel e);

/* view_draw.c: text helpers and the main screen. */
int view_put(int y, int x, int maxw, const char *s);
void view_fill(int y, int x, int w, attr_t a);
int view_puta(const struct view *v, int y, int x, int maxw, enum vel e, const char *s);
int view_putf(const struct view *v, int y, int x, int maxw, enum vel e, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
int view_wrap(const struct view *v, int y, int x, int w, int maxlines, enum vel e, const char *s);
/* view_leaks.c: the leak report, by process (the leaks were fetched in view_refresh()). */
void view_draw_leaks(struct view *v, int y, int h);
void view_leaks_fetch(struct view *v);
void view_leaks_free(struct view *v);
/* view_ladder.c: a scenario's segments and states as a sequence diagram. */
void view_draw_ladder(struct view *v, int y, int h);
void view_draw_main(struct view *v);
const char *view_owner(const struct view *v, const struct tsock *ts, char *buf, size_t len);

/* view_keys.c */
void view_key(struct view *v, wint_t key, bool is_key);
void view_draw_help(struct view *v, int y0, int h);
void view_help_enter(struct view *v);
/* The help screen's key hook: any key but scrolling returns. */
bool view_help_key(struct view *v, wint_t key, bool is_key);
void view_help_move(struct view *v, enum vmove m, int page);
void view_help_back(struct view *v);
void view_draw_keybar(struct view *v, int y);

/* view_act.c: destroy the selected socket or group, signal the owner; each confirmed. */
void view_act_destroy(struct view *v);
void view_act_signal(struct view *v);
/* The PR_DESTROY and PR_SIGNAL prompts' keys (all taken) and lines. */
bool view_act_destroy_key(struct view *v, wint_t key, bool is_key);
bool view_act_signal_key(struct view *v, wint_t key, bool is_key);
void view_act_destroy_draw(struct view *v, int y);
void view_act_signal_draw(struct view *v, int y);

/* view_prompt.c: the prompt on the bottom line, one kind at a time (a table of kinds). */
void view_prompt_open(struct view *v, enum vprompt k);
/* Close the prompt, dropping an action's copied sockets. */
void view_prompt_close(struct view *v);
bool view_prompting(const struct view *v);
/* Say err beside the text if prompt k is the one open (true), else nothing (false). */
bool view_prompt_err(struct view *v, enum vprompt k, const char *err);
/* A key while a prompt is open (true: the prompt took it, as it takes all). */
bool view_prompt_key(struct view *v, wint_t key, bool is_key);
/* Draw the open prompt on line y (false: none is open). */
bool view_prompt_draw(struct view *v, int y);

/* view_detail.c */
void view_draw_detail(struct view *v, int y0, int h);
void view_detail_fetch(struct view *v);
void view_detail_leave(struct view *v);
void view_detail_back(struct view *v);
/* Show ts in the detail. */
void view_detail_open(struct view *v, const struct tsock *ts);
/* Find the detail's socket again in the data now shown (hint: its pointer may still hold). */
void view_detail_find(struct view *v, bool hint);
/* The detail's pointer is gone with the data it pointed into. */
void view_detail_lose(struct view *v);

/* view_setup.c: the setup screen's drawing and its keys' work. */
void view_draw_setup(struct view *v, int y0, int h);
void view_setup_move(struct view *v, enum vmove m, int page);
void view_setup_toggle(struct view *v);
void view_setup_shift(struct view *v, int dir);
void view_setup_sort(struct view *v);
void view_setup_save(struct view *v);

/* view_diagram.c */
void view_draw_diagram(struct view *v, int y0, int h);

#endif
