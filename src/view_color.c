/* view_color.c - colours by meaning: one table per scheme, monochrome included. */
#include "config.h"
#include "view_int.h"

#include <stdlib.h>

struct vstyle {
	short fg, bg; /* -1: the terminal's default */
	attr_t attr;
};

/* The colour scheme: meaning first, so FIN_WAIT_1 and CLOSING catch the eye. */
static const struct vstyle scheme_color[EL_MAX] = {
	[EL_NORMAL] = { -1, -1, A_NORMAL },
	[EL_TITLE] = { COLOR_WHITE, COLOR_BLUE, A_BOLD },
	[EL_BADGE] = { COLOR_BLACK, COLOR_YELLOW, A_BOLD },
	[EL_LABEL] = { COLOR_CYAN, -1, A_NORMAL },
	[EL_COUNT] = { -1, -1, A_BOLD },
	[EL_COUNT_HOT] = { COLOR_BLACK, COLOR_YELLOW, A_BOLD },
	[EL_SPARK] = { COLOR_GREEN, -1, A_NORMAL },
	[EL_COLHEAD] = { COLOR_BLACK, COLOR_GREEN, A_NORMAL },
	[EL_GROUP] = { COLOR_CYAN, -1, A_BOLD },
	[EL_GROUP_HOT] = { COLOR_BLACK, COLOR_YELLOW, A_BOLD },
	[EL_ROW_HOT] = { COLOR_YELLOW, -1, A_BOLD },
	[EL_GHOST] = { -1, -1, A_DIM },
	[EL_LEAK] = { COLOR_RED, -1, A_BOLD },
	[EL_CHANGED] = { COLOR_GREEN, -1, A_BOLD },
	[EL_SELECTED] = { COLOR_BLACK, COLOR_CYAN, A_NORMAL },
	[EL_PANE] = { COLOR_BLACK, COLOR_GREEN, A_NORMAL },
	[EL_DIM] = { -1, -1, A_DIM },
	[EL_JUMP] = { COLOR_MAGENTA, -1, A_BOLD },
	[EL_STATUS] = { COLOR_BLACK, COLOR_CYAN, A_NORMAL },
	[EL_STATUS_KEY] = { COLOR_WHITE, COLOR_BLACK, A_BOLD },
	[EL_ERROR] = { COLOR_WHITE, COLOR_RED, A_BOLD },
	[EL_NARRATION] = { COLOR_YELLOW, -1, A_BOLD },
	[EL_BOX] = { -1, -1, A_DIM },
	[EL_BOX_LIVE] = { COLOR_GREEN, -1, A_BOLD },
	[EL_BOX_HOT] = { COLOR_BLACK, COLOR_YELLOW, A_BOLD },
	[EL_ARROW] = { -1, -1, A_DIM },
	[EL_ARROW_LIT] = { COLOR_YELLOW, -1, A_BOLD },
	[EL_HEADING] = { COLOR_CYAN, -1, A_BOLD },
};

/* Monochrome: attributes only, for NO_COLOR, --no-color and terminals without colours. */
static const struct vstyle scheme_mono[EL_MAX] = {
	[EL_NORMAL] = { -1, -1, A_NORMAL },
	[EL_TITLE] = { -1, -1, A_REVERSE },
	[EL_BADGE] = { -1, -1, A_BOLD | A_UNDERLINE },
	[EL_LABEL] = { -1, -1, A_NORMAL },
	[EL_COUNT] = { -1, -1, A_BOLD },
	[EL_COUNT_HOT] = { -1, -1, A_REVERSE | A_BOLD },
	[EL_SPARK] = { -1, -1, A_NORMAL },
	[EL_COLHEAD] = { -1, -1, A_REVERSE },
	[EL_GROUP] = { -1, -1, A_BOLD },
	[EL_GROUP_HOT] = { -1, -1, A_REVERSE | A_BOLD },
	[EL_ROW_HOT] = { -1, -1, A_BOLD },
	[EL_GHOST] = { -1, -1, A_DIM },
	[EL_LEAK] = { -1, -1, A_BOLD | A_UNDERLINE },
	[EL_CHANGED] = { -1, -1, A_BOLD },
	[EL_SELECTED] = { -1, -1, A_REVERSE },
	[EL_PANE] = { -1, -1, A_REVERSE },
	[EL_DIM] = { -1, -1, A_DIM },
	[EL_JUMP] = { -1, -1, A_BOLD },
	[EL_STATUS] = { -1, -1, A_REVERSE },
	[EL_STATUS_KEY] = { -1, -1, A_BOLD },
	[EL_ERROR] = { -1, -1, A_REVERSE | A_BOLD },
	[EL_NARRATION] = { -1, -1, A_BOLD },
	[EL_BOX] = { -1, -1, A_DIM },
	[EL_BOX_LIVE] = { -1, -1, A_BOLD },
	[EL_BOX_HOT] = { -1, -1, A_REVERSE | A_BOLD },
	[EL_ARROW] = { -1, -1, A_DIM },
	[EL_ARROW_LIT] = { -1, -1, A_REVERSE },
	[EL_HEADING] = { -1, -1, A_BOLD | A_UNDERLINE },
};

/* Decide the scheme: colour only when asked for, allowed and possible. */
void view_color_init(struct view *v)
{
	const char *nc = getenv("NO_COLOR");

	v->color = !v->o.no_color && !(nc && *nc) && has_colors();
	if (!v->color)
		return;
	start_color();
	use_default_colors();
	for (int e = 1; e < (int)EL_MAX && e < COLOR_PAIRS; e++)
		init_pair((short)e, scheme_color[e].fg, scheme_color[e].bg);
}

attr_t view_attr(const struct view *v, enum vel e)
{
	if (e <= EL_NORMAL || e >= EL_MAX)
		return A_NORMAL;
	if (!v->color || (int)e >= COLOR_PAIRS)
		return scheme_mono[e].attr;
	return scheme_color[e].attr | COLOR_PAIR(e);
}
