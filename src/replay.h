/* replay.h - a recording as a source, with pause, step, speed and seek. */
#ifndef TCPDWELL_REPLAY_H
#define TCPDWELL_REPLAY_H

#include "loop.h"

struct procmap;

struct replay_opts {
	bool realtime;		/* pace by the recorded times (the view); else as fast as read */
	double speed;		/* 1.0 */
	const char *begin;	/* --begin TIME, or NULL */
	const char *end;	/* --end TIME, or NULL */
	struct procmap *owners; /* filled with the recorded owners (procmap_new(NULL)), or NULL */
};

/* Open a recording and add it to the loop as the source; -1 with err naming file and offset. */
int replay_open(struct loop *l, const char *path, const struct replay_opts *o, char *err,
		size_t errlen);

/*
 * Controls: CTL_PAUSE, CTL_STEP (+1 one snapshot on, -1 one back, both
 * pause), CTL_SPEED (multiplies the speed by arg, kept within x0.25..x64),
 * CTL_SEEK (seconds from the start; a huge value goes to the end).
 */

/*
 * A --begin/--end TIME as ns from the start of a recording begun at
 * start_wall (wall-clock ns): seconds or a duration ("90", "1m30s", "2h"),
 * a time of day "HH:MM[:SS]" (local, the first such moment at or after the
 * start), or a date and time "YYYY-MM-DD HH:MM:SS" or with a T (local, UTC
 * with a trailing Z). 0 with *off set (it may be negative), or -1.
 */
int replay_parse_time(const char *s, int64_t start_wall, int64_t *off);

#endif
