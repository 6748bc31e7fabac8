/* batch.h - output without a terminal: periodic plain-text tables and event lines. */
#ifndef TCPDWELL_BATCH_H
#define TCPDWELL_BATCH_H

#include <stdio.h>
#include "loop.h"

struct col_list;
struct filter;
struct netns_tab;
struct procmap;

enum ev_format { FMT_TEXT, FMT_JSON, FMT_CSV };
int ev_format_parse(const char *s); /* -1 if unknown */

struct batch_opts {
	FILE *out;
	int64_t delay_ns;	     /* between tables */
	long count;		     /* tables to print, 0 = forever */
	bool utf8;		     /* "≥" or ">=" */
	struct procmap *pm;	     /* owners, or NULL */
	bool replay;		     /* a table per recorded poll, as fast as read */
	const struct col_list *cols; /* --columns, or NULL for the default */
	int group_by;		     /* --group-by: an enum group_by, -1 when not given */
	bool group_by_age;	     /* groups oldest first, else largest first */
	enum ev_format format;	     /* text, or JSON: one line of groups per table */
};
/* The periodic table printer (-b). */
void batch_open(struct loop *l, const struct batch_opts *o);

struct events_opts {
	FILE *out;
	enum ev_format format;
	struct procmap *pm;
	long count; /* events to print, 0 = forever */
	bool utf8;  /* text: "µs" and "≥", or "us" and ">=" as the locale allows */
};
/* The event stream printer (-e). */
void events_open(struct loop *l, const struct events_opts *o);
/*
 * One event as one line in a format, with the socket's namespace when
 * labels are active (text: at the end; JSON: "netns"; CSV: the last column).
 */
void events_print(FILE *out, enum ev_format fmt, const struct track_event *ev,
		  const struct procmap *pm, const struct netns_tab *labels, bool utf8);
/* The CSV header line. */
void events_print_header(FILE *out, enum ev_format fmt, const struct netns_tab *labels);

#endif
