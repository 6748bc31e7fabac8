/* view.h - the full-screen ncurses view, a sink. Only view*.c include curses.h. */
#ifndef TCPDWELL_VIEW_H
#define TCPDWELL_VIEW_H

#include "loop.h"

struct col_list;
struct filter;
struct procmap;
struct narrator;

struct view_opts {
	int64_t interval_ns;	     /* shown in the header; +/- change it */
	int64_t leak_ns;	     /* CLOSE_WAIT / FIN_WAIT_2 dwell flagged as a leak */
	bool no_color;		     /* --no-color (NO_COLOR is read by the view) */
	bool diagram;		     /* start in the state diagram */
	bool replay;		     /* the source is a recording: replay keys */
	struct procmap *pm;	     /* owners, or NULL */
	const struct narrator *narrator; /* a scenario's (narration, actors, step mode, ladder), a
					  * replay's ladder, or NULL */
	const struct col_list *cols; /* --columns or the settings file, or NULL for the default */
	bool cols_named;	     /* --columns: NETNS shows even with one namespace */
	int sort;		     /* a column id from the settings file, or -1 */
	bool sort_rev;
	int group_by;	     /* --group-by: an enum group_by to start with, or -1 for state */
	const char *rc_path; /* where F2 saves the settings, or NULL */
};

/* Set up the terminal and add the view to the loop; -1 with err set (no terminal). */
int view_open(struct loop *l, const struct view_opts *o, char *err, size_t errlen);
/* Restore the terminal from a crash handler (async-signal-safe as far as curses allows). */
void view_emergency_restore(void);

#endif
