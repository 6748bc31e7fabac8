/* replay.h - a recording as a source, with pause, step, speed and seek. */
#ifndef TCPDWELL_REPLAY_H
#define TCPDWELL_REPLAY_H

#include "loop.h"

struct replay_opts {
	bool realtime;	   /* pace by the recorded times (the view); else as fast as read */
	double speed;	   /* 1.0 */
	const char *begin; /* --begin TIME, or NULL */
	const char *end;   /* --end TIME, or NULL */
};

/* Open a recording and add it to the loop as the source; -1 with err naming file and offset. */
int replay_open(struct loop *l, const char *path, const struct replay_opts *o, char *err,
		size_t errlen);

#endif
