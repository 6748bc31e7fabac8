/* view_draw.c - the main screen: header with counts and sparklines, the table, transitions. */
#include "config.h"
#include "view_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "filter.h"
#include "netns.h"
#include "procmap.h"
#include "narrator.h"

/* Draw at most maxw columns of UTF-8 text; returns the columns drawn. */
int view_put(int y, int x, int maxw, const char *s)
{
	mbstate_t ps;
	size_t off = 0, len = strlen(s);
	int cols = 0;

	if (maxw > COLS - x)
		maxw = COLS - x;
	if (y < 0 || y >= LINES || x < 0 || maxw <= 0)
		return 0;
	memset(&ps, 0, sizeof(ps));
	while (off < len) {
		wchar_t wc;
		size_t n = mbrtowc(&wc, s + off, len - off, &ps);
		int w;

		if (n == (size_t)-1 || n == (size_t)-2 || n == 0)
			break; /* text reaching here is sanitised; stop rather than guess */
		w = wcwidth(wc);
		if (w < 0)
			w = 1;
		if (cols + w > maxw)
			break;
		cols += w;
		off += n;
	}
	mvaddnstr(y, x, s, (int)off);
	return cols;
}

void view_fill(int y, int x, int w, attr_t a)
{
	if (x + w > COLS)
		w = COLS - x;
	if (y < 0 || y >= LINES || x < 0 || w <= 0)
		return;
	attron(a);
	mvhline(y, x, ' ', w);
	attroff(a);
}

int view_puta(const struct view *v, int y, int x, int maxw, enum vel e, const char *s)
{
	attr_t a = view_attr(v, e);
	int n;

	attron(a);
	n = view_put(y, x, maxw, s);
	attroff(a);
	return n;
}

int view_putf(const struct view *v, int y, int x, int maxw, enum vel e, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return view_puta(v, y, x, maxw, e, buf);
}

/* Word-wrap text into the width; returns the lines used. */
int view_wrap(const struct view *v, int y, int x, int w, int maxlines, enum vel e, const char *s)
{
	int lines = 0;

	while (*s && lines < maxlines && w > 8) {
		int n = (int)strlen(s);

		if (n > w) {
			n = w;
			while (n > 0 && s[n] != ' ')
				n--;
			if (n == 0)
				n = w;
		}
		char buf[256];
		snprintf(buf, sizeof(buf), "%.*s", n, s);
		/* No view: only count the lines the text needs. */
		if (v)
			view_puta(v, y + lines, x, w, e, buf);
		s += n;
		while (*s == ' ')
			s++;
		lines++;
	}
	return lines;
}

const char *view_owner(const struct view *v, const struct tsock *ts, char *buf, size_t len)
{
	struct col_ctx c = view_col_ctx(v);

	return col_owner(&c, &ts->s, buf, len);
}

/* The top line: host, time, interval, source, totals, and what mode the screen is in. */
static void draw_title(struct view *v)
{
	char clock[32], desc[96], nsdesc[96], line[400];
	int64_t wall = v->frozen ? v->fz_wall : v->o.replay ? track_wall(v->t, view_now(v)) : wall_ns();
	time_t secs = (time_t)(wall / NS_PER_SEC);
	struct tm tm;
	size_t alive = 0, total = v->frozen ? v->nfz : track_size(v->t);
	int x;

	localtime_r(&secs, &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	for (unsigned st = 1; st < ST_MAX; st++)
		alive += view_count(v, st);
	loop_describe(v->l, desc, sizeof(desc));
	netns_tab_describe(loop_netns(v->l), nsdesc, sizeof(nsdesc));
	view_fill(0, 0, COLS, view_attr(v, EL_TITLE));
	char gone[32] = "";
	if (total > alive)
		snprintf(gone, sizeof(gone), " (+%zu gone)", total - alive);
	/*
	 * What the screen is in comes first, where no width cuts it off: a
	 * replay, a frozen screen, a filter. A calm table that is frozen or
	 * filtered must not read as a calm box.
	 */
	x = 0;
	if (v->o.replay) /* its description names it: REPLAY x2 ... paused */
		x += view_putf(v, 0, x, COLS - x, EL_BADGE, " %s ", desc);
	if (v->frozen)
		x += view_puta(v, 0, x, COLS - x, EL_BADGE, " PAUSED ");
	if (view_filter_text(v)) {
		size_t shown = 0;
		char count[48];
		int room;

		/* The totals count every socket; say how many the filter lets through. */
		for (unsigned g = 0; g <= ST_MAX; g++)
			shown += v->grp[g].n - v->grp[g].ghosts;
		snprintf(count, sizeof(count), " (%zu match%s) ", shown, shown == 1 ? "" : "es");
		/* A long expression is cut, never the count: " filter: " and the count stay. */
		room = COLS - x - 9 - (int)strlen(count);
		if (room < 4)
			room = 4;
		if ((int)strlen(view_filter_text(v)) > room)
			snprintf(line, sizeof(line), " filter: %.*s%s%s", room - 1,
				 view_filter_text(v), v->utf8 ? "\u2026" : ">", count);
		else
			snprintf(line, sizeof(line), " filter: %s%s", view_filter_text(v), count);
		x += view_puta(v, 0, x, COLS - x, EL_BADGE, line);
	}
	if (v->o.replay) {
		snprintf(line, sizeof(line), " %s  %zu socket%s%s%s%s", v->host, alive,
			 alive == 1 ? "" : "s", gone, *nsdesc ? "  " : "", nsdesc);
	} else {
		struct source_state st;
		char iv[DUR_BUFSZ], every[48] = "";

		/* The interval once: the poller's description says it; the exact source's does not.
		 */
		loop_source_state(v->l, &st);
		if (!st.says_interval) {
			fmt_dur(iv, v->o.interval_ns, TIME_EXACT, v->utf8);
			snprintf(every, sizeof(every), "  poll every %s", iv + strspn(iv, " "));
		}
		/* The namespace before the source: at 80 columns the source is cut first. */
		snprintf(line, sizeof(line), " tcpdwell  %s  %s  %zu socket%s%s%s%s  %s%s", v->host,
			 clock, alive, alive == 1 ? "" : "s", gone, *nsdesc ? "  " : "", nsdesc,
			 desc, every);
	}
	view_puta(v, 0, x, COLS - x, EL_TITLE, line);
}

/*
 * The states the header counts, in state-machine order; when they do not all
 * fit in max cells, the ones with sockets come first.
 */
static size_t count_cells(const struct view *v, uint8_t *cells, size_t max)
{
	size_t n = 0, nz = 0;
	uint8_t all[ST_MAX];

	for (size_t i = 0; i < st_order_len; i++) {
		unsigned st = st_order[i];

		if (st == ST_UNKNOWN || st == ST_CLOSE || st >= ST_MAX)
			continue;
		if (st == ST_NEW_SYN_RECV && !view_count(v, st))
			continue;
		all[n++] = (uint8_t)st;
	}
	if (n <= max) {
		memcpy(cells, all, n);
		return n;
	}
	for (size_t i = 0; i < n; i++)
		if (view_count(v, all[i]))
			cells[nz++] = all[i];
	for (size_t i = 0; i < n && nz < max; i++)
		if (!view_count(v, all[i]))
			cells[nz++] = all[i];
	return nz < max ? nz : max;
}

#define CELL_MIN 14 /* a short name and a count */
#define CELL_WANT 19 /* with room for a sparkline */

/* How many lines the counts take at this size (0 on tiny screens). */
static int count_lines(const struct view *v, int budget)
{
	uint8_t cells[ST_MAX];
	size_t n = count_cells(v, cells, ST_MAX);
	int per = COLS / CELL_WANT;

	if (budget <= 0 || COLS < CELL_MIN)
		return 0;
	if (per < 1)
		per = 1;
	int lines = (int)((n + (size_t)per - 1) / (size_t)per);
	return lines < budget ? lines : budget;
}

static void draw_spark(struct view *v, int y, int x, int w, unsigned st)
{
	static const char *const utf[] = { " ", "\u2581", "\u2582", "\u2583", "\u2584",
					   "\u2585", "\u2586", "\u2587", "\u2588" };
	static const char *const asc[] = { " ", ".", "_", "-", "=", "+", "*", "#", "@" };
	unsigned n = v->spark_n, max = 0;

	if (w <= 0 || n == 0)
		return;
	for (unsigned i = 0; i < n; i++) {
		uint32_t c = v->spark[(v->spark_pos + VIEW_SPARK - n + i) % VIEW_SPARK][st];
		max = c > max ? c : max;
	}
	attron(view_attr(v, EL_SPARK));
	for (int c = 0; c < w; c++) {
		/* Columns share the samples; fewer samples than columns align right. */
		unsigned lo, hi, peak = 0;

		if (n >= (unsigned)w) {
			lo = (unsigned)c * n / (unsigned)w;
			hi = (unsigned)(c + 1) * n / (unsigned)w;
		} else {
			if (c < w - (int)n)
				continue;
			lo = (unsigned)(c - (w - (int)n));
			hi = lo + 1;
		}
		for (unsigned i = lo; i < hi; i++) {
			uint32_t s = v->spark[(v->spark_pos + VIEW_SPARK - n + i) % VIEW_SPARK][st];
			peak = s > peak ? s : peak;
		}
		unsigned lvl = peak == 0 ? 0 : 1 + (unsigned)((uint64_t)(peak - 1) * 7 / max);
		view_put(y, x + c, 1, v->utf8 ? utf[lvl] : asc[lvl]);
	}
	attroff(view_attr(v, EL_SPARK));
}

/* Counts of every state with a minute of history, in cells across the lines given. */
static void draw_counts(struct view *v, int y0, int nlines)
{
	uint8_t cells[ST_MAX];
	size_t n;

	if (nlines <= 0)
		return;
	n = count_cells(v, cells, (size_t)nlines * (size_t)(COLS / CELL_MIN));
	if (!n)
		return;
	int per = (int)((n + (size_t)nlines - 1) / (size_t)nlines);
	int cw = COLS / per, lw = cw >= 28 ? 11 : 8;

	for (size_t i = 0; i < n; i++) {
		int y = y0 + (int)i / per, x = ((int)i % per) * cw;
		unsigned st = cells[i];
		size_t c = view_count(v, st);
		enum vel e = c == 0 ? EL_DIM : view_hot(st) ? EL_COUNT_HOT : EL_COUNT;
		char num[24];

		if (y >= y0 + nlines)
			break;
		view_puta(v, y, x, lw, c ? EL_LABEL : EL_DIM, lw > 8 ? st_name(st) : st_short(st));
		snprintf(num, sizeof(num), "%5zu", c);
		view_puta(v, y, x + lw, 6, e, num);
		draw_spark(v, y, x + lw + 6, cw - lw - 7, st);
	}
}

/*
 * Column widths at the current size, per entry of v->cols (0: left out):
 * addresses as wide as the widest one on screen needs (IPv6 is long, IPv4
 * short), the owner takes what is left but keeps OWNER_MIN. Whole addresses
 * come before the columns that give way (the timer first): where they fit
 * only without one, it goes. A NETNS column not asked for by name shows
 * only when sockets of several namespaces are watched.
 */
#define OWNER_MIN    9
#define VIEW_TIMER_W 14 /* "timewait:57.0s"; "keepalive:2h01m" loses its last cell */

static int fixed_width(enum col_id id)
{
	if (id == COL_TIMER)
		return VIEW_TIMER_W;
	if (id == COL_RECVQ || id == COL_SENDQ)
		return 6;
	return col_table[id].width;
}

/* A namespace label's cells, in the table's NETNS column and the transitions pane alike. */
static int netns_width(void)
{
	return COLS >= 120 ? 18 : COLS >= 100 ? 12 : 8;
}

static void table_cols(const struct view *v, int *w, int want_addr, bool nscol)
{
	/* 2 for the mark; each column then costs its width and a blank, the last no blank. */
	int rest = COLS - 2 + 1, naddr = 0, nrest = 0;

	for (size_t i = 0; i < v->cols.n; i++) {
		const struct column *c = &col_table[v->cols.id[i]];

		w[i] = 0;
		if (COLS < c->min_cols ||
		    (v->cols.id[i] == COL_NETNS && !nscol && !v->o.cols_named))
			continue;
		switch (c->rule) {
		case CW_FIXED:
			w[i] = fixed_width(v->cols.id[i]);
			break;
		case CW_NETNS:
			w[i] = netns_width();
			break;
		case CW_ADDR:
			naddr++;
			w[i] = -1;
			break;
		case CW_REST:
			nrest++;
			w[i] = -1;
			break;
		}
		/* A flexible column's width comes later; its blank counts now. */
		rest -= w[i] < 0 ? 1 : w[i] + 1;
	}
	if (!naddr && !nrest)
		return;
	if (want_addr < 15)
		want_addr = 15;
	/* Give up what gives way, highest first, while whole addresses then fit. */
	for (int lvl = 2; lvl > 0; lvl--) {
		int need = naddr * want_addr + (nrest ? OWNER_MIN : 0), gain = 0;

		for (size_t i = 0; i < v->cols.n; i++)
			if (w[i] > 0 && col_table[v->cols.id[i]].drop == lvl)
				gain += w[i] + 1;
		if (!gain || need <= rest || need > rest + gain)
			continue;
		for (size_t i = 0; i < v->cols.n; i++)
			if (w[i] > 0 && col_table[v->cols.id[i]].drop == lvl)
				w[i] = 0;
		rest += gain;
	}
	int addr = 0, owner;

	if (rest < 0)
		rest = 0;
	if (naddr) {
		addr = nrest ? (rest * 70 / 100) / naddr : rest / naddr;
		if (nrest && addr < (rest - OWNER_MIN) / naddr)
			addr = (rest - OWNER_MIN) / naddr;
		if (addr > want_addr && nrest)
			addr = want_addr;
	}
	owner = nrest ? (rest - naddr * addr) / nrest : 0;
	for (size_t i = 0; i < v->cols.n; i++) {
		if (w[i] != -1)
			continue;
		w[i] = col_table[v->cols.id[i]].rule == CW_ADDR ? addr : owner;
		if (w[i] <= 0)
			w[i] = 0;
	}
}

/* The widest address among the rows on screen. */
static int visible_addr_width(const struct view *v, int h)
{
	char buf[ADDR_BUFSZ];
	int w = 0;

	for (size_t i = v->top; i < v->nrows && i < v->top + (size_t)h; i++) {
		const struct tsock *ts = v->rows[i].ts;
		int a, b;

		if (!ts)
			continue;
		a = (int)strlen(col_addr(buf, sizeof(buf), ts->s.family, ts->s.src, ts->s.sport));
		b = (int)strlen(col_addr(buf, sizeof(buf), ts->s.family, ts->s.dst, ts->s.dport));
		w = a > w ? a : w;
		w = b > w ? b : w;
	}
	return w;
}

/*
 * An address cut in the middle: the port stays in sight at the end, and the
 * start (an IPv6 prefix, the bracket) at the start; cutting from the left
 * made "[2001:db8::1]:80" and "[fe80::1]:80" look alike.
 */
static void put_addr(int y, int x, int w, const char *s, bool utf8)
{
	int len = (int)strlen(s), head, tail;

	if (w <= 0)
		return;
	if (len <= w || w < 3) {
		view_put(y, x, w, s);
		return;
	}
	tail = w / 2;
	head = w - 1 - tail;
	view_put(y, x, head, s);
	view_put(y, x + head, 1, utf8 ? "\u2026" : "~");
	view_put(y, x + head + 1, tail, s + len - tail);
}

/*
 * A namespace label in w cells. "pid 15603 (bash)" cut short would name
 * another pid: the pid goes first, the command after it as far as it fits.
 */
static void put_netns(int y, int x, int w, const char *label, bool utf8)
{
	char buf[NETNS_LABEL_MAX];
	const char *open = strstr(label, " (");
	int len = (int)strlen(label);

	if (w <= 0)
		return;
	if (len > w && !strncmp(label, "pid ", 4) && open && label[len - 1] == ')') {
		snprintf(buf, sizeof(buf), "%.*s %.*s", (int)(open - label) - 4, label + 4,
			 (int)(label + len - 1 - (open + 2)), open + 2);
		label = buf;
		len = (int)strlen(label);
	}
	if (len <= w) {
		view_put(y, x, w, label);
		return;
	}
	view_put(y, x, w - 1, label);
	view_put(y, x + w - 1, 1, utf8 ? "\u2026" : ">");
}

/* Titles; the sort column's carries an arrow, down for its natural order. */
static void draw_colhead(struct view *v, int y, const int *w)
{
	int x = 2;

	view_fill(y, 0, COLS, view_attr(v, EL_COLHEAD));
	attron(view_attr(v, EL_COLHEAD));
	for (size_t i = 0; i < v->cols.n; i++) {
		const struct column *c = &col_table[v->cols.id[i]];
		char t[32];

		if (!w[i])
			continue;
		const char *title =
		    narrator_scripted(v->o.narrator) && c->scen_title ? c->scen_title : c->title;
		bool mark = v->cols.id[i] == v->sort;
		int pad = c->right ? w[i] - (int)strlen(title) - mark : 0;

		snprintf(t, sizeof(t), "%s%s", title,
			 !mark	       ? ""
			 : v->utf8     ? (v->sort_rev ? "\u25b4" : "\u25be")
			 : v->sort_rev ? "^"
				       : "v");
		if (pad > 0)
			view_put(y, x + pad, w[i] - pad, t);
		else
			view_put(y, x, w[i], t);
		x += w[i] + 1;
	}
	attroff(view_attr(v, EL_COLHEAD));
}

static void draw_group(struct view *v, int y, unsigned g, bool sel)
{
	const struct vgroup *gr = &v->grp[g];
	char line[256], d[DUR_BUFSZ];
	size_t alive = gr->n - gr->ghosts;
	enum vel e = sel ? EL_SELECTED : view_hot(g) && alive ? EL_GROUP_HOT : EL_GROUP;
	int x;

	view_fill(y, 0, COLS, view_attr(v, e));
	x = view_puta(v, y, 0, COLS, e,
		      gr->folded ? (v->utf8 ? "\u25b8 " : "+ ") : (v->utf8 ? "\u25be " : "- "));
	snprintf(line, sizeof(line), "%s  %zu", g < ST_MAX ? st_name(g) : "UNKNOWN", alive);
	x += view_puta(v, y, x, COLS - x, e, line);
	if (alive) {
		fmt_dur(d, view_now(v) - gr->oldest, gr->oldest_kind, v->utf8);
		snprintf(line, sizeof(line), "   oldest %s", d + strspn(d, " "));
		x += view_puta(v, y, x, COLS - x, e, line);
	}
	if (gr->ghosts) {
		snprintf(line, sizeof(line), "   %zu gone", gr->ghosts);
		x += view_puta(v, y, x, COLS - x, e, line);
	}
	if (gr->leaks) {
		snprintf(line, sizeof(line), "   %zu likely leak%s", gr->leaks, gr->leaks > 1 ? "s" : "");
		x += view_puta(v, y, x, COLS - x, sel ? e : EL_LEAK, line);
	}
	if (gr->folded)
		view_puta(v, y, x, COLS - x, e, "   (folded: F5 opens)");
}

/* A key group's header: its key, its count per state and its oldest. */
static void draw_key_group(struct view *v, int y, const struct group *g, bool sel)
{
	char line[640], d[DUR_BUFSZ];
	size_t at;
	enum vel e = sel ? EL_SELECTED : EL_GROUP;
	bool open = v->gfit || !strcmp(g->key, v->gopen);
	int x;

	view_fill(y, 0, COLS, view_attr(v, e));
	x = view_puta(v, y, 0, COLS, e,
		      !open ? (v->utf8 ? "\u25b8 " : "+ ") : (v->utf8 ? "\u25be " : "- "));
	at = (size_t)snprintf(line, sizeof(line), "%s %s  %zu ", group_by_name(v->gby), g->key,
			      g->n - g->ghosts);
	for (size_t i = 0; i <= st_order_len && at < sizeof(line); i++) {
		unsigned st = i < st_order_len ? st_order[i] : ST_MAX;

		if (g->per_state[st])
			at += (size_t)snprintf(line + at, sizeof(line) - at, "%s%s %zu",
					       at && line[at - 1] == ' ' ? "(" : ", ",
					       st < ST_MAX ? st_name(st) : "UNKNOWN",
					       g->per_state[st]);
	}
	if (at < sizeof(line) && g->n > g->ghosts)
		snprintf(line + at, sizeof(line) - at, ")");
	x += view_puta(v, y, x, COLS - x, e, line);
	if (g->oldest) {
		fmt_dur(d, view_now(v) - g->oldest, g->oldest_kind, v->utf8);
		x += view_putf(v, y, x, COLS - x, e, "   oldest %s", d + strspn(d, " "));
	}
	if (g->ghosts)
		x += view_putf(v, y, x, COLS - x, e, "   %zu gone", g->ghosts);
	if (g->leaks)
		x += view_putf(v, y, x, COLS - x, sel ? e : EL_LEAK, "   %zu likely leak%s",
			       g->leaks, g->leaks > 1 ? "s" : "");
	if (!open)
		view_puta(v, y, x, COLS - x, e, "   (F5 opens)");
}

static void draw_sock(struct view *v, int y, const struct tsock *ts, bool sel, const int *w)
{
	struct col_ctx cc = view_col_ctx(v);
	bool ghost = ts->flags & TS_GHOST, leak = view_leak(v, ts);
	bool changed = !ghost && ts->changed && view_now(v) - ts->changed < VIEW_CHANGED_NS;
	enum vel e = sel ? EL_SELECTED : ghost ? EL_GHOST : view_hot(ts->s.state) ? EL_ROW_HOT :
								   EL_NORMAL;
	int x = 2;

	view_fill(y, 0, COLS, view_attr(v, e));
	if (leak)
		view_puta(v, y, 0, 1, sel ? e : EL_LEAK, "!");
	else if (changed)
		view_puta(v, y, 0, 1, sel ? e : EL_CHANGED, v->utf8 ? "\u25cf" : "*");
	for (size_t i = 0; i < v->cols.n; i++) {
		enum col_id id = v->cols.id[i];
		const struct column *c = &col_table[id];
		char buf[ADDR_BUFSZ + 128];

		if (!w[i])
			continue;
		c->text(&cc, ts, buf, sizeof(buf));
		if (id == COL_LOCAL || id == COL_PEER)
			put_addr(y, x, w[i], buf, v->utf8);
		else if (id == COL_NETNS)
			put_netns(y, x, w[i], buf, v->utf8);
		else if (c->right)
			view_putf(v, y, x, w[i], id == COL_DWELL && leak && !sel ? EL_LEAK : e,
				  "%*s", w[i], buf);
		else
			view_puta(v, y, x, w[i], e, buf);
		x += w[i] + 1;
	}
}

/* Keep the selection in sight; the first visible row is v->top. */
static void scroll_to_selection(struct view *v, int h)
{
	v->table_h = h;
	if (h <= 0)
		return;
	if (v->sel >= v->nrows)
		v->sel = v->nrows ? v->nrows - 1 : 0;
	if (v->sel < v->top)
		v->top = v->sel;
	if (v->sel >= v->top + (size_t)h)
		v->top = v->sel - (size_t)h + 1;
	if (v->top + (size_t)h > v->nrows)
		v->top = v->nrows > (size_t)h ? v->nrows - (size_t)h : 0;
}

/* Only the visible rows are drawn: the table may hold 100,000 sockets. */
static void draw_table(struct view *v, int y0, int h, const int *w)
{
	if (h <= 0)
		return;
	if (!v->nrows) {
		const char *why = view_filter(v) || narrator_scripted(v->o.narrator)
				      ? "No socket matches the filter."
				  : track_last_poll(v->t) ? "No TCP sockets."
							  : "Waiting for the first poll...";
		view_puta(v, y0 + h / 2, 2, COLS - 2, EL_DIM, why);
		return;
	}
	for (int i = 0; i < h && v->top + (size_t)i < v->nrows; i++) {
		const struct vrow *r = &v->rows[v->top + (size_t)i];
		bool sel = v->top + (size_t)i == v->sel;

		if (r->ts)
			draw_sock(v, y0 + i, r->ts, sel, w);
		else if (v->gby != GB_STATE)
			draw_key_group(v, y0 + i, &v->gt.g[r->g], sel);
		else
			draw_group(v, y0 + i, r->st, sel);
	}
}

static bool event_shown(const struct view *v, const struct vevent *e)
{
	if (!narrator_shows(v->o.narrator, &e->s))
		return false;
	return !view_filter(v) || filter_match(view_filter(v), &e->s);
}

/* Recent transitions, newest first. */
static void draw_events(struct view *v, int y0, int h)
{
	const char *arrow = v->utf8 ? " \u2192 " : " -> ";
	int64_t upto = v->frozen ? v->fz_now : INT64_MAX;
	size_t shown = 0;
	/*
	 * With --netns the same 4-tuple may be in two namespaces: each line
	 * says which, before the addresses, so that 80 columns still show it.
	 */
	const struct netns_tab *labels = loop_netns(v->l);
	int nsw = netns_tab_active(labels) ? netns_width() : 0;

	if (h <= 0)
		return;
	view_fill(y0, 0, COLS, view_attr(v, EL_PANE));
	view_puta(v, y0, 1, COLS - 1, EL_PANE, "Recent transitions");
	for (size_t i = 0; i < v->ev_n && (int)shown < h - 1; i++) {
		const struct vevent *e = &v->ev[(v->ev_head + VIEW_EVENTS - 1 - i) % VIEW_EVENTS];
		char t[32], a[ADDR_BUFSZ], b[ADDR_BUFSZ], d[DUR_BUFSZ], line[300];
		time_t secs = (time_t)(e->wall / NS_PER_SEC);
		struct tm tm;
		int y = y0 + 1 + (int)shown, x;
		enum vel se = view_hot(e->to) ? EL_ROW_HOT : EL_NORMAL;

		if (e->mono > upto || !event_shown(v, e))
			continue;
		shown++;
		localtime_r(&secs, &tm);
		strftime(t, sizeof(t), "%H:%M:%S", &tm);
		x = view_putf(v, y, 1, COLS - 1, EL_DIM, "%s.%03lld ", t,
			      (long long)(e->wall % NS_PER_SEC / NS_PER_MS));
		x += 1;
		if (nsw && x + nsw < COLS) {
			put_netns(y, x, nsw, netns_label(labels, e->s.netns), v->utf8);
			x += nsw + 1;
		}
		snprintf(line, sizeof(line), "%s%s%s", e->from == ST_CLOSE ? "(new)" : st_name(e->from),
			 arrow, e->to == ST_CLOSE ? "(gone)" : st_name(e->to));
		x += view_putf(v, y, x, COLS - x, se, "%-26s", line);
		if (e->from != ST_CLOSE) {
			fmt_dur(d, e->dwell, e->dwell_kind, v->utf8);
			x += view_putf(v, y, x, COLS - x, EL_NORMAL, " after %s ", d);
		} else {
			x += view_put(y, x, COLS - x, "              ");
		}
		if (e->jump)
			x += view_puta(v, y, x, COLS - x, EL_JUMP, "JUMP ");
		col_addr(a, sizeof(a), e->s.family, e->s.src, e->s.sport);
		col_addr(b, sizeof(b), e->s.family, e->s.dst, e->s.dport);
		view_putf(v, y, x, COLS - x, EL_NORMAL, " %s > %s", a, b);
	}
	if (!shown)
		view_puta(v, y0 + 1, 2, COLS - 2, EL_DIM, "(none yet)");
}

/* The scenario's current step, then its narration wrapped on the lines left. */
static void draw_narration(struct view *v, int y, int h)
{
	const struct narrator *n = v->o.narrator;
	char a[512], b[1024];
	const char *step, *say;

	if (h <= 0 || !narrator_scripted(n))
		return;
	step = n->ops->step_text(n->ctx);
	say = n->ops->narration(n->ctx);
	sanitize(a, sizeof(a), step ? step : "", (size_t)-1);
	sanitize(b, sizeof(b), say ? say : "", (size_t)-1);
	int x = view_putf(v, y, 0, COLS, EL_HEADING, "%s: ", n->ops->name(n->ctx));
	x += view_puta(v, y, x, COLS - x, EL_NORMAL, a);
	if (n->ops->waiting(n->ctx))
		view_puta(v, y, x + 2, COLS - x - 2, EL_BADGE, " n: next step ");
	if (h > 1)
		view_wrap(v, y + 1, 2, COLS - 2, h - 1, EL_NARRATION, b);
}

/* Lines the scenario's narration needs under a screen: a cut sentence teaches nothing. */
static int narration_lines(struct view *v)
{
	char say[1024];

	if (!narrator_scripted(v->o.narrator) || LINES < 14)
		return 0;
	sanitize(say, sizeof(say), v->o.narrator->ops->narration(v->o.narrator->ctx), (size_t)-1);
	return 1 + view_wrap(NULL, 0, 2, COLS - 2, LINES >= 20 ? 6 : 3, EL_NARRATION, say);
}

/* The table: counts with history, the sockets, recent transitions, narration. */
static void screen_table_draw(struct view *v, int y, int h)
{
	int bottom = y + h, narr = narration_lines(v), pane = 0, w[COL_MAX];
	int counts = count_lines(v, LINES >= 20 ? 4 : LINES >= 12 ? 2 : 0);

	draw_counts(v, y, counts);
	y += counts;
	if (LINES >= 20) {
		pane = (LINES - 10) / 4;
		pane = (pane < 3 ? 3 : pane > 9 ? 9 : pane) + 1;
	}
	bool head = bottom - y - narr - pane >= 2;
	int th = bottom - y - narr - pane - head;

	scroll_to_selection(v, th);
	/*
	 * Addresses as wide as the widest on screen, but not narrower while
	 * only the scroll position changed: columns that jump as one scrolls
	 * cannot be read down.
	 */
	if (v->nrows != v->addr_nrows) {
		v->addr_nrows = v->nrows;
		v->addr_w = 0;
	}
	int aw = visible_addr_width(v, th);
	if (aw > v->addr_w)
		v->addr_w = aw;
	table_cols(v, w, v->addr_w, netns_tab_multi(loop_netns(v->l)));
	if (head)
		draw_colhead(v, y++, w);
	draw_table(v, y, th, w);
	draw_events(v, bottom - narr - pane, pane);
	draw_narration(v, bottom - narr, narr);
}

/* The state diagram, with the transitions pane where it has room. */
static void screen_diagram_draw(struct view *v, int y, int h)
{
	int narr = narration_lines(v), dh = h - narr, pane = 0;

	if (dh >= 20 + 3)
		pane = dh - 20 < 8 ? dh - 20 : 8;
	view_draw_diagram(v, y, dh - pane);
	draw_events(v, y + h - narr - pane, pane);
	draw_narration(v, y + h - narr, narr);
}

static void screen_ladder_draw(struct view *v, int y, int h)
{
	int narr = narration_lines(v);

	view_draw_ladder(v, y, h - narr);
	draw_narration(v, y + h - narr, narr);
}

/* The screens, one entry each: what differs by screen is said here. */
static const struct vscreen screens[] = {
    [VM_TABLE] = {.name = "table",
		  .draw = screen_table_draw,
		  .key = view_table_key,
		  .motion = view_table_move,
		  .fetch = view_table_fetch},
    [VM_DETAIL] = {.name = "detail",
		   .visit = true,
		   .draw = view_draw_detail,
		   .fetch = view_detail_fetch,
		   .leave = view_detail_leave,
		   .back = view_detail_back},
    [VM_DIAGRAM] = {.name = "diagram", .draw = screen_diagram_draw},
    [VM_HELP] = {.name = "help",
		 .visit = true,
		 .enter = view_help_enter,
		 .draw = view_draw_help,
		 .key = view_help_key,
		 .motion = view_help_move,
		 .back = view_help_back},
    [VM_LADDER] = {.name = "ladder", .draw = screen_ladder_draw},
    [VM_SETUP] = {.name = "setup", .draw = view_draw_setup, .motion = view_setup_move},
    [VM_LEAKS] = {.name = "leaks",
		  .draw = view_draw_leaks,
		  .fetch = view_leaks_fetch,
		  .free = view_leaks_free},
};

const struct vscreen *view_screen(enum vmode m)
{
	return &screens[m < ARRAY_SIZE(screens) ? m : VM_TABLE];
}

void view_enter(struct view *v, enum vmode m)
{
	const struct vscreen *from = view_screen(v->mode), *to = view_screen(m);

	if (m != v->mode) {
		if (to->visit)
			v->back = v->mode;
		if (from->leave)
			from->leave(v);
	}
	v->mode = m;
	if (to->enter)
		to->enter(v);
}

void view_toggle(struct view *v, enum vmode m)
{
	view_enter(v, v->mode == m ? VM_TABLE : m);
}

void view_screens_free(struct view *v)
{
	for (size_t i = 0; i < ARRAY_SIZE(screens); i++)
		if (screens[i].free)
			screens[i].free(v);
}

/* The whole screen: the title, the current screen's lines, the key bar. */
void view_draw_main(struct view *v)
{
	int y = 0, bottom = LINES - 1;

	if (LINES <= 0 || COLS <= 0)
		return;
	if (LINES >= 3)
		draw_title(v), y = 1;
	if (LINES < 2)
		bottom = LINES; /* no key bar on a one-line screen */
	view_screen(v->mode)->draw(v, y, bottom - y);
	if (bottom < LINES)
		view_draw_keybar(v, bottom);
}
