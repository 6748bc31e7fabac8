#include "config.h"
#include "svg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filter.h"
#include "scenario.h"
#include "sock.h"
#include "track.h"
#include "util.h"

#define SVG_W	     960
#define TL_TOP	     56
#define TL_BAR_H     16
#define TL_GAP	     8
#define TL_LABEL_W   330  /* "127.0.0.1:40000 > 127.0.0.1:8000" left of its bar */
#define TL_MAX_TRACK 4096 /* sockets followed (the oldest of a busy box beyond: not) */
#define TL_MAX_DRAW  64	  /* bars drawn; the others are counted in a line */
#define TL_MAX_CHG   32	  /* changes kept per socket, the latest */

const char *svg_state_colour(unsigned st)
{
	static const char *const c[ST_MAX] = {
	    [ST_ESTABLISHED] = "#4caf50", [ST_SYN_SENT] = "#90caf9",
	    [ST_SYN_RECV] = "#64b5f6",	  [ST_FIN_WAIT1] = "#ff7043",
	    [ST_FIN_WAIT2] = "#ffb74d",	  [ST_TIME_WAIT] = "#9575cd",
	    [ST_CLOSE] = "#bdbdbd",	  [ST_CLOSE_WAIT] = "#e57373",
	    [ST_LAST_ACK] = "#f06292",	  [ST_LISTEN] = "#80cbc4",
	    [ST_CLOSING] = "#ff5722",	  [ST_NEW_SYN_RECV] = "#64b5f6",
	};
	return st < ST_MAX && c[st] ? c[st] : "#e0e0e0";
}

const char *svg_state_label(unsigned st)
{
	return st == ST_CLOSE ? "CLOSED" : st_name(st);
}

int svg_file_open(struct svg_file *sf, const char *path, char *err, size_t len)
{
	struct stat sb;
	int fd;

	sf->path = path;
	sf->f = NULL;
	if (lstat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		snprintf(err, len, "cannot write SVG '%s': not a regular file", path);
		return -1;
	}
	if (snprintf(sf->tmp, sizeof(sf->tmp), "%s.XXXXXX", path) >= (int)sizeof(sf->tmp) ||
	    (fd = mkostemp(sf->tmp, O_CLOEXEC)) < 0) {
		snprintf(err, len, "cannot write SVG '%s': %s", path, strerror(errno));
		return -1;
	}
	fchmod(fd, 0644);
	if (!(sf->f = fdopen(fd, "w"))) {
		snprintf(err, len, "cannot write SVG '%s': %s", path, strerror(errno));
		close(fd);
		unlink(sf->tmp);
		return -1;
	}
	return 0;
}

int svg_file_commit(struct svg_file *sf, char *err, size_t len)
{
	if (ferror(sf->f) | (fclose(sf->f) != 0) || rename(sf->tmp, sf->path) < 0) {
		snprintf(err, len, "cannot write SVG '%s': %s", sf->path, strerror(errno));
		unlink(sf->tmp);
		return -1;
	}
	return 0;
}

/* One socket's story: its address and its last changes. */
struct tl_sock {
	struct sock key;
	bool chosen; /* the filter matched it at least once */
	uint8_t nchg;
	struct {
		int64_t mono;
		uint8_t st;
	} chg[TL_MAX_CHG];
};

struct svg_timeline {
	bool failed;
	const char *path;
	struct loop *l; /* its filter is the loop's, asked when needed */
	const struct scenario *ladder; /* drawn below the bars when it has entries; or NULL */
	struct tl_sock *socks;
	size_t n, untracked;
	int64_t t0, t1;
	int64_t last_seen; /* the source's clock at its last observation: the bars' end */
};

static bool same(const struct sock *a, const struct sock *b)
{
	if (a->cookie && b->cookie)
		return a->cookie == b->cookie;
	return a->family == b->family && a->sport == b->sport && a->dport == b->dport &&
	       a->netns == b->netns && !memcmp(a->src, b->src, 16) && !memcmp(a->dst, b->dst, 16);
}

static void add_change(struct svg_timeline *t, struct tl_sock *s, int64_t mono, unsigned st)
{
	/* Full: the oldest change goes, the bar then starts later. */
	if (s->nchg == TL_MAX_CHG) {
		memmove(s->chg, s->chg + 1, (TL_MAX_CHG - 1) * sizeof(s->chg[0]));
		s->nchg--;
	}
	s->chg[s->nchg].mono = mono;
	s->chg[s->nchg++].st = (uint8_t)st;
	if (!t->t0 || mono < t->t0)
		t->t0 = mono;
	if (mono > t->t1)
		t->t1 = mono;
}

static void tl_observe(void *ctx, struct loop *l, const struct obs *o)
{
	struct svg_timeline *t = ctx;

	(void)o;
	t->last_seen = loop_now(l);
}

static void tl_event(void *ctx, const struct track_event *ev)
{
	struct svg_timeline *t = ctx;
	struct tl_sock *s = NULL;

	/* Newest first: a socket's changes come close together. */
	for (size_t i = t->n; i-- > 0;)
		if (same(&t->socks[i].key, &ev->s)) {
			s = &t->socks[i];
			break;
		}
	if (!s) {
		if (t->n == TL_MAX_TRACK) {
			t->untracked++;
			return;
		}
		s = &t->socks[t->n++];
		memset(s, 0, sizeof(*s));
		s->key = ev->s;
		/* It was in its first state since dwell before this change. */
		if (ev->from != ST_CLOSE)
			add_change(t, s, ev->mono - ev->dwell, ev->from);
	}
	if (!s->key.cookie)
		s->key.cookie = ev->s.cookie;
	s->chosen |= !loop_filter(t->l) || filter_match(loop_filter(t->l), &ev->s);
	add_change(t, s, ev->mono, ev->to);
}

static void draw(struct svg_timeline *t, FILE *f)
{
	size_t drawn = 0, chosen = 0;
	int64_t t0 = t->t0, t1 = t->t1 > t->t0 ? t->t1 : t->t0 + 1;

	/* The last states last until the last look, not until they began. */
	if (t->last_seen > t1)
		t1 = t->last_seen;
	double scale = (double)(SVG_W - TL_LABEL_W - 20) / (double)(t1 - t0);

	for (size_t i = 0; i < t->n; i++)
		chosen += t->socks[i].chosen;
	int height =
	    TL_TOP + (int)(chosen < TL_MAX_DRAW ? chosen : TL_MAX_DRAW) * (TL_BAR_H + TL_GAP) + 40;
	int lad_h = scenario_ladder_len(t->ladder) ? scenario_svg_ladder_height(t->ladder) : 0;

	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n"
		"<text x=\"10\" y=\"22\" font-weight=\"bold\" font-size=\"14\">tcpdwell: each "
		"socket's states over %.3f s</text>\n",
		SVG_W, height + lad_h, SVG_W, height + lad_h, (double)(t1 - t0) / NS_PER_SEC);
	if (loop_filter(t->l)) {
		char clean[256];

		sanitize(clean, sizeof(clean), filter_text(loop_filter(t->l)), (size_t)-1);
		fputs("<text x=\"10\" y=\"40\" fill=\"#616161\">filter: ", f);
		/* The expression is the user's text: escaped for XML. */
		for (const char *p = clean; *p; p++)
			fputs(*p == '<'	  ? "&lt;"
			      : *p == '>' ? "&gt;"
			      : *p == '&' ? "&amp;"
					  : (char[2]){*p, 0},
			      f);
		fputs("</text>\n", f);
	}
	for (size_t i = 0; i < t->n && drawn < TL_MAX_DRAW; i++) {
		const struct tl_sock *s = &t->socks[i];
		int y = TL_TOP + (int)drawn * (TL_BAR_H + TL_GAP);
		char a[ADDR_BUFSZ], b[ADDR_BUFSZ];

		if (!s->chosen)
			continue;
		drawn++;
		fmt_addr(a, sizeof(a), s->key.family, s->key.src, s->key.sport);
		fmt_addr(b, sizeof(b), s->key.family, s->key.dst, s->key.dport);
		fprintf(f, "<text x=\"10\" y=\"%d\">%s &gt; %s</text>\n", y + TL_BAR_H - 4, a, b);
		for (size_t k = 0; k < s->nchg; k++) {
			unsigned st = s->chg[k].st;
			int64_t from = s->chg[k].mono,
				to = k + 1 < s->nchg ? s->chg[k + 1].mono : t1;
			double x = TL_LABEL_W + (double)(from - t0) * scale,
			       w = (double)(to - from) * scale;

			if (st == ST_CLOSE)
				continue;
			fprintf(
			    f,
			    "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\">"
			    "<title>%s from %.3f s to %.3f s</title></rect>\n",
			    x, y, w < 1 ? 1 : w, TL_BAR_H, svg_state_colour(st),
			    svg_state_label(st), (double)(from - t0) / NS_PER_SEC,
			    (double)(to - t0) / NS_PER_SEC);
			if (w > 7.0 * (double)strlen(svg_state_label(st)))
				fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\">%s</text>\n",
					x + 3, y + TL_BAR_H - 4, svg_state_label(st));
		}
	}
	if (chosen > drawn || t->untracked)
		fprintf(f,
			"<text x=\"10\" y=\"%d\" fill=\"#616161\">and %zu more sockets not drawn"
			"</text>\n",
			height - 16, chosen - drawn + t->untracked);
	if (!chosen)
		fprintf(f, "<text x=\"10\" y=\"%d\">No socket changed state%s.</text>\n",
			TL_TOP + 12, loop_filter(t->l) ? " among those the filter chose" : "");
	if (lad_h)
		scenario_svg_ladder(f, t->ladder, height);
	fprintf(f, "</svg>\n");
}

static void tl_close(void *ctx)
{
	struct svg_timeline *t = ctx;
	struct svg_file sf;
	char err[300];

	if (svg_file_open(&sf, t->path, err, sizeof(err)) == 0) {
		draw(t, sf.f);
		if (svg_file_commit(&sf, err, sizeof(err)) == 0)
			err[0] = '\0';
	}
	if (err[0]) {
		/* The loop is ending (the view is closed): stderr is left to tell it on. */
		fprintf(stderr, "tcpdwell: %s\n", err);
		t->failed = true;
	}
}

static const struct sink_ops timeline_ops = {
    .name = "svg",
    .observe = tl_observe,
    .event = tl_event,
    .close = tl_close,
};

struct svg_timeline *svg_add_timeline(struct loop *l, const char *path)
{
	struct svg_timeline *t = xcalloc(1, sizeof(*t));

	t->path = path;
	t->l = l;
	t->socks = xcalloc(TL_MAX_TRACK, sizeof(*t->socks));
	loop_add_sink(l, &timeline_ops, t);
	return t;
}

void svg_timeline_ladder(struct svg_timeline *t, const struct scenario *sc)
{
	if (t)
		t->ladder = sc;
}

int svg_timeline_done(struct svg_timeline *t)
{
	int r;

	if (!t)
		return 0;
	r = t->failed ? -1 : 0;
	free(t->socks);
	free(t);
	return r;
}
