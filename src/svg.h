/* svg.h - pictures for slides and bug reports: state timelines as self-contained SVG. */
#ifndef TCPDWELL_SVG_H
#define TCPDWELL_SVG_H

#include <stdio.h>

#include "loop.h"

struct filter;

/* The fill of a state's bar, by meaning: fleeting states warm, waiting ones cool. */
const char *svg_state_colour(unsigned st);
/* "CLOSED" for a socket that went, else the state's name. */
const char *svg_state_label(unsigned st);

/*
 * A picture is written to a new file beside path (O_EXCL) and renamed over
 * path when whole; path, if there, must be a regular file. open: 0 and *f,
 * or -1 with err; commit: closes f, 0 or -1 with err (nothing left behind).
 */
struct svg_file {
	FILE *f;
	char tmp[4096];
	const char *path;
};
int svg_file_open(struct svg_file *sf, const char *path, char *err, size_t len);
int svg_file_commit(struct svg_file *sf, char *err, size_t len);

/*
 * A sink that keeps every socket's transitions and, when the loop closes it,
 * draws a bar per socket the filter chose (f NULL: every socket) into path:
 * for a recording of a busy box, the timeline of the sockets that matter.
 * After loop_free(): done says whether the picture was written (-1: the
 * error is on stderr) and frees it.
 */
struct svg_timeline;
struct svg_timeline *svg_add_timeline(struct loop *l, const char *path);
int svg_timeline_done(struct svg_timeline *t);
/*
 * Draw sc's ladder below the bars too, when it holds one when the picture
 * is drawn (a recording of a scenario); sc must outlive the loop.
 */
struct scenario;
void svg_timeline_ladder(struct svg_timeline *t, const struct scenario *sc);

#endif
