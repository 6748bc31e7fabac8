/* rc.h - the view's settings file ($XDG_CONFIG_HOME/tcpdwell/tcpdwellrc): columns and sort. */
#ifndef TCPDWELL_RC_H
#define TCPDWELL_RC_H

#include <stdbool.h>
#include <stddef.h>

#include "column.h"

struct rc {
	bool has_cols;
	struct col_list cols; /* the view's columns, in order */
	int sort;	      /* a column id, or -1 for the default */
	bool sort_rev;
};

/* The file's path: $XDG_CONFIG_HOME, else $HOME/.config; -1 when neither is set. */
int rc_path(char *buf, size_t len);
/*
 * Read the file into *rc (defaults first). 0 when read or absent (nothing
 * set); -1 with err naming the file, the line and what is wrong when it is
 * damaged: then *rc holds the defaults, the file is not half applied.
 */
int rc_load(const char *path, struct rc *rc, char *err, size_t errlen);
/* Write *rc, making the directory; -1 with err set. Written whole or not at all. */
int rc_save(const char *path, const struct rc *rc, char *err, size_t errlen);

#endif
