/* scenario.h - scripted demo server and clients on loopback, checked against the tracker. */
#ifndef TCPDWELL_SCENARIO_H
#define TCPDWELL_SCENARIO_H

#include <stdio.h>
#include "loop.h"
#include "narrator.h"

struct scenario;

/* Print the bundled scenarios with their one-line descriptions. */
int scenario_list(FILE *out);
/* Parse a bundled scenario by name or a script file, whole, before anything is forked. */
struct scenario *scenario_load(const char *name_or_path, char *err, size_t errlen);
void scenario_free(struct scenario *sc);
const char *scenario_name(const struct scenario *sc);

/* Words a reader takes in per second, to hold each `say` on screen. */
#define SCENARIO_WPS_DEFAULT 3.0

struct scenario_opts {
	bool batch;	/* print steps, transitions and verdicts to out */
	bool step_mode; /* wait for scenario_advance() at every `step` and between two `say`s */
	bool verbose;	/* show the script's own progress ("[8/40] sleep 1.5") */
	double wps;	/* reading speed for `say`; 0: SCENARIO_WPS_DEFAULT (batch: no wait) */
	const char *svg; /* when the script ends, draw its ladder and timeline here; or NULL */
	FILE *out;
};
/*
 * Before the poller opens: enter a private network namespace when root
 * (loopback up), else pick a free loopback port. -1 with err set.
 */
int scenario_prepare(struct scenario *sc, char *err, size_t errlen);
/* Fork the actors and add the runner to the loop. -1 with err set. */
int scenario_start(struct scenario *sc, struct loop *l, const struct scenario_opts *o, char *err,
		   size_t errlen);
/*
 * The scenario as the view and the sources see it (narration, actors, step
 * mode, ladder; see narrator.h): valid as long as sc. A ladder store of
 * scenario_replay() gives its ladder only.
 */
const struct narrator *scenario_narrator(struct scenario *sc);
/* Exit status: 0 all expectations met, 1 an expectation failed, 2 a runtime error. */
int scenario_status(const struct scenario *sc);
/* The ladder (see narrator.h): how many entries are kept, and entry i, oldest first. */
size_t scenario_ladder_len(const struct scenario *sc);
const struct scenario_ladder *scenario_ladder_at(const struct scenario *sc, size_t i);
/* An actor's name by index, for the ladder's columns; NULL past the last. */
const char *scenario_actor_name(const struct scenario *sc, int i);

/*
 * A ladder store for a replay: fed by the recording's ladder entries
 * (OBS_SEGMENT) through a sink added to l, named as the recording named its
 * actors; with batch_out, its segments are printed there as a live -b
 * prints them. Freed with scenario_free().
 */
struct scenario *scenario_replay(struct loop *l, const char *name, FILE *batch_out);
/*
 * The ladder as part of another SVG picture: the height it takes, and its
 * elements (with their style) from y0 down.
 */
int scenario_svg_ladder_height(const struct scenario *sc);
void scenario_svg_ladder(FILE *f, const struct scenario *sc, int y0);

/* Kill and reap every actor (also on signals). */
void scenario_stop(struct scenario *sc);

#endif
