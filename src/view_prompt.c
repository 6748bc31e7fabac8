/* view_prompt.c - the bottom line's prompts: filter, search, goto edit a line; K and F9 confirm. */
#include "config.h"
#include "view_int.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "filter.h"

/*
 * A kind of prompt. The line editor's kinds have a title, react to each
 * edit (changed) and to Enter (accept) and Esc (cancel); a confirmation
 * takes every key itself (key) and draws its own line (draw). Every hook
 * may be NULL.
 */
struct vprompt_kind {
	const char *title;
	const char *hint; /* beside the text while it has no error */
	void (*open)(struct view *v);
	bool (*key)(struct view *v, wint_t key, bool is_key); /* before the editor (true: taken) */
	void (*changed)(struct view *v);
	void (*accept)(struct view *v);
	void (*cancel)(struct view *v);
	void (*draw)(struct view *v, int y);
};

static void set_text(struct view *v, const char *s)
{
	snprintf(v->pr.buf, sizeof(v->pr.buf), "%s", s ? s : "");
	v->pr.len = strlen(v->pr.buf);
}

/* The filter: compiled as typed; Esc goes back to the one on before. */
static void filter_open(struct view *v)
{
	snprintf(v->pr.flt_before, sizeof(v->pr.flt_before), "%s",
		 view_filter_text(v) ? view_filter_text(v) : "");
	set_text(v, view_filter_text(v));
}

static void filter_changed(struct view *v)
{
	/* Compile live; a bad expression keeps the last good filter on. */
	struct filter *f = NULL;

	v->pr.err[0] = 0;
	if (v->pr.len && !(f = filter_parse(v->pr.buf, v->pr.err, sizeof(v->pr.err))))
		return;
	if (f)
		filter_bind_netns(f, loop_netns(v->l));
	/* The sources hear of it too: the poller asks the kernel for the new states. */
	loop_set_filter(v->l, f);
	v->rebuild = true;
}

static void filter_accept(struct view *v)
{
	if (v->pr.err[0])
		view_msg(v, "filter not changed: %s", v->pr.err);
}

static void filter_cancel(struct view *v)
{
	set_text(v, v->pr.flt_before);
	filter_changed(v);
}

/* The search: a new one starts empty, as in less and htop; F3 outside repeats the last. */
static bool search_key(struct view *v, wint_t key, bool is_key)
{
	if (!is_key || key != KEY_F(3))
		return false;
	view_search_next(v, false);
	return true;
}

static void search_changed(struct view *v)
{
	v->pr.err[0] = 0;
	snprintf(v->search, sizeof(v->search), "%s", v->pr.buf);
	view_search_next(v, true);
}

static void search_accept(struct view *v)
{
	if (!v->pr.err[0])
		return;
	view_msg(v, "no socket matches \"%s\"", v->search);
	v->msg_search = true;
}

static void search_cancel(struct view *v)
{
	v->search[0] = 0;
}

/* "90", "1:30", "1:02:03", "2m": seconds from the start of the recording. */
static double parse_goto(const char *s)
{
	double parts[3];
	int n = 0;
	char *end;

	if (strchr(s, ':')) {
		const char *p = s;

		while (n < 3) {
			parts[n++] = strtod(p, &end);
			if (end == p)
				return -1;
			if (*end != ':')
				break;
			p = end + 1;
		}
		if (*end)
			return -1;
		double secs = 0;
		for (int i = 0; i < n; i++)
			secs = secs * 60 + parts[i];
		return secs;
	}
	int64_t ns = parse_duration(s);
	return ns < 0 ? -1 : (double)ns / NS_PER_SEC;
}

static void goto_accept(struct view *v)
{
	double secs;

	if (!v->pr.len)
		return;
	secs = parse_goto(v->pr.buf);
	if (secs < 0)
		view_msg(v, "not a time: '%s' (try 90, 1:30 or 2m)", v->pr.buf);
	else
		loop_control(v->l, CTL_SEEK, secs);
}

/* The kinds, one entry each; the confirmations' work is view_act.c's. */
static const struct vprompt_kind kinds[] = {
    [PR_FILTER] = {.title = "Filter: ",
		   .hint = "Enter: keep  Esc: undo",
		   .open = filter_open,
		   .changed = filter_changed,
		   .accept = filter_accept,
		   .cancel = filter_cancel},
    [PR_SEARCH] = {.title = "Search: ",
		   .key = search_key,
		   .changed = search_changed,
		   .accept = search_accept,
		   .cancel = search_cancel},
    [PR_GOTO] = {.title = "Go to time: ", .accept = goto_accept},
    [PR_DESTROY] = {.key = view_act_destroy_key, .draw = view_act_destroy_draw},
    [PR_SIGNAL] = {.key = view_act_signal_key, .draw = view_act_signal_draw},
};

void view_prompt_open(struct view *v, enum vprompt k)
{
	v->pr.kind = k;
	set_text(v, NULL);
	v->pr.err[0] = 0;
	if (kinds[k].open)
		kinds[k].open(v);
}

void view_prompt_close(struct view *v)
{
	free(v->pr.socks);
	v->pr.socks = NULL;
	v->pr.nsocks = 0;
	v->pr.kind = PR_NONE;
	v->pr.err[0] = 0;
}

bool view_prompting(const struct view *v)
{
	return v->pr.kind != PR_NONE;
}

bool view_prompt_err(struct view *v, enum vprompt k, const char *err)
{
	if (v->pr.kind != k)
		return false;
	snprintf(v->pr.err, sizeof(v->pr.err), "%s", err);
	return true;
}

/* Enter or Esc: the prompt is closed when the kind's handler sees its text and error. */
static void done(struct view *v, bool accept)
{
	const struct vprompt_kind *k = &kinds[v->pr.kind];
	void (*fn)(struct view *) = accept ? k->accept : k->cancel;

	v->pr.kind = PR_NONE;
	if (fn)
		fn(v);
	view_prompt_close(v);
}

static void edited(struct view *v)
{
	if (kinds[v->pr.kind].changed)
		kinds[v->pr.kind].changed(v);
}

bool view_prompt_key(struct view *v, wint_t key, bool is_key)
{
	const struct vprompt_kind *k = &kinds[v->pr.kind];

	if (v->pr.kind == PR_NONE)
		return false;
	if (k->key && k->key(v, key, is_key)) {
		v->dirty = true;
		return true;
	}
	if ((is_key && key == KEY_ENTER) || (!is_key && (key == '\r' || key == '\n'))) {
		done(v, true);
	} else if (!is_key && key == KEY_ESC) {
		done(v, false);
	} else if ((is_key && key == KEY_BACKSPACE) ||
		   (!is_key && (key == 127 || key == CTRL('h')))) {
		/* Drop one whole UTF-8 character. */
		while (v->pr.len > 0 && ((unsigned char)v->pr.buf[--v->pr.len] & 0xc0) == 0x80)
			;
		v->pr.buf[v->pr.len] = 0;
		edited(v);
	} else if (!is_key && key == CTRL('u')) {
		set_text(v, NULL);
		edited(v);
	} else if (!is_key && key >= 0x20 && key != 127) {
		char mb[MB_LEN_MAX];
		mbstate_t ps;
		size_t n;

		memset(&ps, 0, sizeof(ps));
		n = wcrtomb(mb, (wchar_t)key, &ps);
		if (n == (size_t)-1 || v->pr.len + n + 1 > sizeof(v->pr.buf))
			return true;
		memcpy(v->pr.buf + v->pr.len, mb, n);
		v->pr.len += n;
		v->pr.buf[v->pr.len] = 0;
		edited(v);
	}
	return true;
}

bool view_prompt_draw(struct view *v, int y)
{
	const struct vprompt_kind *k = &kinds[v->pr.kind];
	int x, cx;

	if (v->pr.kind == PR_NONE)
		return false;
	view_fill(y, 0, COLS, A_NORMAL);
	if (k->draw) {
		k->draw(v, y);
		return true;
	}
	x = view_puta(v, y, 0, COLS, EL_STATUS, k->title);
	x += view_put(y, x, COLS - x - 1, v->pr.buf);
	cx = x;
	if (v->pr.err[0])
		view_putf(v, y, x + 2, COLS - x - 2, EL_ERROR, " %s ", v->pr.err);
	else if (k->hint)
		view_puta(v, y, x + 2, COLS - x - 2, EL_DIM, k->hint);
	move(y, cx < COLS ? cx : COLS - 1);
	return true;
}
