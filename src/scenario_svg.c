#include "config.h"
#include "scenario.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scenario_int.h"
#include "sock.h"
#include "svg.h"
#include "util.h"

/*
 * A picture for slides and bug reports: the ladder as the board shows it,
 * then one bar per socket coloured by state, self-contained SVG (no fonts
 * or scripts fetched) that a browser opens.
 */

#define SVG_W	960
#define ROW_H	18
#define TOP	56
#define TIME_W	70
#define STATE_W 110
#define BAR_H	16
#define BAR_GAP 8
#define LABEL_W 210 /* an actor and its ports, left of its bar */

/* The classes the ladder and the bars use, and the arrowhead. */
static const char STYLE[] =
    "<style>\n"
    ".actor{font-weight:bold;font-size:14px}.life{stroke:#616161;stroke-width:2}\n"
    ".time{fill:#757575;font-size:11px}.state{font-weight:bold}\n"
    ".seg{stroke:#1565c0;stroke-width:1.5}.seg.re{stroke:#ef6c00}"
    ".seg.lost{stroke:#c62828;stroke-dasharray:4 3}\n"
    ".label{fill:#0d47a1}.label.re{fill:#e65100}.x{fill:#c62828;font-weight:bold}\n"
    ".head{font-weight:bold;font-size:14px}.sock{fill:#212121}.bar{fill:#000;"
    "font-size:10px}\n"
    "</style>\n"
    "<defs><marker id=\"head\" markerWidth=\"8\" markerHeight=\"8\" refX=\"7\" "
    "refY=\"4\" orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" fill=\"#1565c0\"/>"
    "</marker></defs>\n";

static const char *state_colour(unsigned st)
{
	return svg_state_colour(st);
}

static const char *state_label(unsigned st)
{
	return svg_state_label(st);
}

/* The actors that took part, and their x, as the view's ladder spreads them. */
static int columns(const struct scenario *sc, int col_x[SC_MAX_ACTORS])
{
	bool used[SC_MAX_ACTORS] = {false};
	int n = 0, left = TIME_W + STATE_W, right = SVG_W - STATE_W, k = 0;

	for (size_t i = 0; i < sc->nladder; i++) {
		const struct scenario_ladder *e = &sc->ladder[i];
		if (e->actor >= 0 && e->actor < SC_MAX_ACTORS)
			used[e->actor] = true;
		if (e->type == SCENARIO_LADDER_SEG && e->peer >= 0 && e->peer < SC_MAX_ACTORS)
			used[e->peer] = true;
	}
	for (size_t a = 0; a < sc->nactors; a++)
		n += used[a];
	for (size_t a = 0; a < SC_MAX_ACTORS; a++) {
		col_x[a] = -1;
		if (a < sc->nactors && used[a]) {
			col_x[a] =
			    n == 1 ? (left + right) / 2 : left + (right - left) * k / (n - 1);
			k++;
		}
	}
	return n;
}

static void ladder(FILE *f, const struct scenario *sc, int64_t t0, int y0)
{
	int col_x[SC_MAX_ACTORS], ybot = y0 + (int)sc->nladder * ROW_H + ROW_H;

	columns(sc, col_x);
	for (size_t a = 0; a < sc->nactors; a++) {
		if (col_x[a] < 0)
			continue;
		fprintf(f,
			"<text x=\"%d\" y=\"%d\" class=\"actor\" text-anchor=\"middle\">%s</text>\n"
			"<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"life\"/>\n",
			col_x[a], y0 - 6, sc->actors[a].name, col_x[a], y0, col_x[a], ybot);
	}
	for (size_t i = 0; i < sc->nladder; i++) {
		const struct scenario_ladder *e = &sc->ladder[i];
		int y = y0 + ROW_H * (int)(i + 1), xa = e->actor >= 0 ? col_x[e->actor] : -1;
		char flags[40];

		fprintf(
		    f, "<text x=\"%d\" y=\"%d\" class=\"time\" text-anchor=\"end\">%.3f s</text>\n",
		    TIME_W - 8, y + 4, (double)(e->mono - t0) / NS_PER_SEC);
		if (xa < 0)
			continue;
		if (e->type == SCENARIO_LADDER_STATE) {
			bool first = xa == TIME_W + STATE_W;

			fprintf(f,
				"<text x=\"%d\" y=\"%d\" class=\"state\" text-anchor=\"%s\" "
				"fill=\"%s\">%s</text>\n",
				first ? xa - 6 : xa + 6, y + 4, first ? "end" : "start", "#212121",
				state_label(e->to));
			fprintf(f, "<circle cx=\"%d\" cy=\"%d\" r=\"4\" fill=\"%s\"/>\n", xa, y,
				state_colour(e->to));
			continue;
		}
		int xb = e->peer >= 0 ? col_x[e->peer] : -1;
		bool lost = e->marks & SCENARIO_SEG_LOST, re = e->marks & SCENARIO_SEG_RETRANS;

		if (xb < 0 || xb == xa)
			continue;
		narrator_flags_text(flags, sizeof(flags), e->tcpflags);
		/* A lost segment stops half way, where the network took it. */
		int xend = lost ? (xa + xb) / 2 : xb + (xb > xa ? -4 : 4);
		fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"seg%s%s\"%s/>\n",
			xa, y, xend, y, lost ? " lost" : "", re ? " re" : "",
			lost ? "" : " marker-end=\"url(#head)\"");
		if (lost)
			fprintf(f,
				"<text x=\"%d\" y=\"%d\" class=\"x\" "
				"text-anchor=\"middle\">\u2715</text>\n",
				xend, y + 5);
		fprintf(
		    f, "<text x=\"%d\" y=\"%d\" class=\"label%s\" text-anchor=\"middle\">%s %u:%u",
		    (xa + (lost ? xend : xb)) / 2, y - 4, re ? " re" : "", flags, e->seq, e->ack);
		if (e->len)
			fprintf(f, " +%u", e->len);
		fprintf(f, "%s%s</text>\n", re ? " retransmission" : "", lost ? " lost" : "");
	}
}

/* Below another picture (a recording's timeline): a heading, then the ladder. */
#define LADDER_HEAD 52

int scenario_svg_ladder_height(const struct scenario *sc)
{
	return LADDER_HEAD + ((int)sc->nladder + 2) * ROW_H;
}

void scenario_svg_ladder(FILE *f, const struct scenario *sc, int y0)
{
	fprintf(f, "%s<text x=\"10\" y=\"%d\" class=\"head\">Segments and states</text>\n", STYLE,
		y0 + 20);
	if (sc->nladder)
		ladder(f, sc, sc->ladder[0].mono, y0 + LADDER_HEAD);
}

#define SVG_MAX_SOCKS 64

struct svg_sock {
	int8_t actor;
	uint16_t sport, dport;
};

/* The sockets whose states the ladder holds, in the order they first changed. */
static size_t sockets(const struct scenario *sc, struct svg_sock socks[SVG_MAX_SOCKS])
{
	size_t n = 0;

	for (size_t i = 0; i < sc->nladder && n < SVG_MAX_SOCKS; i++) {
		const struct scenario_ladder *e = &sc->ladder[i];
		bool known = false;

		if (e->type != SCENARIO_LADDER_STATE || e->actor < 0)
			continue;
		for (size_t k = 0; k < n; k++)
			known |= socks[k].actor == e->actor && socks[k].sport == e->sport &&
				 socks[k].dport == e->dport;
		if (!known) {
			socks[n].actor = e->actor;
			socks[n].sport = e->sport;
			socks[n++].dport = e->dport;
		}
	}
	return n;
}

/* One bar per socket (an actor's ports), from its first state to its last. */
static void timeline(FILE *f, const struct scenario *sc, int64_t t0, int64_t t1, int y0)
{
	struct svg_sock socks[SVG_MAX_SOCKS];
	size_t n = sockets(sc, socks);
	double scale = (double)(SVG_W - LABEL_W - 20) / (double)(t1 > t0 ? t1 - t0 : 1);

	fprintf(f, "<text x=\"10\" y=\"%d\" class=\"head\">Each socket's states</text>\n", y0 - 10);
	for (size_t k = 0; k < n; k++) {
		int y = y0 + (int)k * (BAR_H + BAR_GAP);
		int64_t from = -1;
		unsigned st = ST_CLOSE;

		fprintf(f, "<text x=\"10\" y=\"%d\" class=\"sock\">%s %u &#8594; %u</text>\n",
			y + BAR_H - 4, sc->actors[socks[k].actor].name, socks[k].sport,
			socks[k].dport);
		for (size_t i = 0; i <= sc->nladder; i++) {
			const struct scenario_ladder *e = i < sc->nladder ? &sc->ladder[i] : NULL;
			int64_t at = e ? e->mono : t1;

			if (e && (e->type != SCENARIO_LADDER_STATE || e->actor != socks[k].actor ||
				  e->sport != socks[k].sport || e->dport != socks[k].dport))
				continue;
			if (from >= 0 && st != ST_CLOSE) {
				double x = LABEL_W + (double)(from - t0) * scale;
				double w = (double)(at - from) * scale;

				fprintf(
				    f,
				    "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
				    "fill=\"%s\"><title>%s from %.3f s to %.3f s</title></rect>\n",
				    x, y, w < 1 ? 1 : w, BAR_H, state_colour(st), state_label(st),
				    (double)(from - t0) / NS_PER_SEC,
				    (double)(at - t0) / NS_PER_SEC);
				if (w > 7.0 * (double)strlen(state_label(st)))
					fprintf(
					    f,
					    "<text x=\"%.1f\" y=\"%d\" class=\"bar\">%s</text>\n",
					    x + 3, y + BAR_H - 4, state_label(st));
			}
			if (!e)
				break;
			from = e->mono;
			st = e->to;
		}
	}
}

/*
 * The picture goes to a new file beside path (O_EXCL, so nothing planted
 * there is opened), renamed over path when whole; path itself, if it is
 * there, must be a regular file: never a FIFO, a device or a symlink.
 */
int sc_svg_write(const struct scenario *sc, const char *path, char *err, size_t len)
{
	int64_t t0 = sc->nladder ? sc->ladder[0].mono : 0, t1;
	int ladder_h = ((int)sc->nladder + 2) * ROW_H, height;
	struct svg_sock socks[SVG_MAX_SOCKS];
	struct svg_file sf;
	FILE *f;

	if (svg_file_open(&sf, path, err, len) < 0)
		return -1;
	f = sf.f;
	t1 = sc->nladder ? sc->ladder[sc->nladder - 1].mono : 0;
	height = TOP + ladder_h + 60 + (int)sockets(sc, socks) * (BAR_H + BAR_GAP);
	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
		"%s"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n"
		"<text x=\"10\" y=\"22\" class=\"head\">tcpdwell scenario %s</text>\n",
		SVG_W, height, SVG_W, height, STYLE, sc->name);
	if (!sc->nladder)
		fprintf(f,
			"<text x=\"10\" y=\"%d\">No segments: captured only in the scenario's own "
			"network namespace.</text>\n",
			TOP);
	ladder(f, sc, t0, TOP);
	timeline(f, sc, t0, t1 > t0 ? t1 : t0 + 1, TOP + ladder_h + 40);
	fprintf(f, "</svg>\n");
	return svg_file_commit(&sf, err, len);
}
