/* scenario_narr.c - the scenario as the view and the sources see it: its narrator. */
#include "config.h"
#include "scenario.h"

#include "scenario_int.h"

static const char *narr_name(const void *ctx)
{
	return scenario_name(ctx);
}

static bool narr_owns(const void *ctx, const struct sock *s)
{
	return sc_owns(ctx, s);
}

static const char *narr_actor(const void *ctx, const struct sock *s)
{
	return sc_actor(ctx, s);
}

static const char *narr_step_text(const void *ctx)
{
	return sc_step_text(ctx);
}

static const char *narr_narration(const void *ctx)
{
	return sc_narration(ctx);
}

static bool narr_waiting(const void *ctx)
{
	return sc_waiting(ctx);
}

static void narr_advance(void *ctx)
{
	sc_advance(ctx);
}

static void narr_pause(void *ctx, bool paused)
{
	sc_pause(ctx, paused);
}

static size_t narr_ladder_len(const void *ctx)
{
	return scenario_ladder_len(ctx);
}

static const struct scenario_ladder *narr_ladder_at(const void *ctx, size_t i)
{
	return scenario_ladder_at(ctx, i);
}

static const char *narr_actor_name(const void *ctx, int i)
{
	return scenario_actor_name(ctx, i);
}

/* A script run live: everything. */
static const struct narrator_ops script_ops = {
    .name = narr_name,
    .owns = narr_owns,
    .actor = narr_actor,
    .step_text = narr_step_text,
    .narration = narr_narration,
    .waiting = narr_waiting,
    .advance = narr_advance,
    .pause = narr_pause,
    .ladder_len = narr_ladder_len,
    .ladder_at = narr_ladder_at,
    .actor_name = narr_actor_name,
};

/* A replay's ladder store: no script runs, so no narration and no sockets of its own. */
static const struct narrator_ops ladder_ops = {
    .name = narr_name,
    .ladder_len = narr_ladder_len,
    .ladder_at = narr_ladder_at,
    .actor_name = narr_actor_name,
};

const struct narrator *scenario_narrator(struct scenario *sc)
{
	if (!sc)
		return NULL;
	sc->narr = (struct narrator){sc->replayed ? &ladder_ops : &script_ops, sc};
	return &sc->narr;
}
