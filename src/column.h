/* column.h - the socket columns, described once: the view's table, the batch table, the sort and
 * --columns read them. */
#ifndef TCPDWELL_COLUMN_H
#define TCPDWELL_COLUMN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "track.h"

struct procmap;
struct netns_tab;
struct narrator;

enum col_id {
	COL_STATE,
	COL_DWELL,
	COL_NETNS,
	COL_LOCAL,
	COL_PEER,
	COL_RECVQ,
	COL_SENDQ,
	COL_TIMER,
	COL_OWNER,
	COL_MAX
};

/* What a column's text and order depend on beside the socket. */
struct col_ctx {
	int64_t now;			/* monotonic ns, for dwell */
	const struct procmap *pm;	/* owners, or NULL */
	const struct netns_tab *labels; /* namespace labels, or NULL */
	const struct narrator *narr;	/* a scenario names its actors, or NULL */
	bool utf8;
};

/* How the view sizes a column. */
enum col_width {
	CW_FIXED, /* its width, always */
	CW_ADDR,  /* as wide as the widest address on screen, shared with the other address */
	CW_NETNS, /* by the terminal's width */
	CW_REST,  /* what is left (the owner) */
};

struct column {
	const char *name;	/* for --columns, and the JSON/CSV key */
	const char *title;	/* the heading */
	const char *scen_title; /* the view's heading during a scenario, or NULL for title */
	const char *doc;	/* one line for tcpdwell(1) and --help */
	int width;		/* batch width, and the view's for CW_FIXED */
	bool right;		/* numbers align right */
	int gap;		/* spaces before it in the batch table */
	enum col_width rule;
	int min_cols; /* the view leaves it out on a terminal narrower than this */
	int drop;     /* the view gives it up first (higher) when addresses need the room */
	bool shown;   /* shown when --columns does not say */
	void (*text)(const struct col_ctx *c, const struct tsock *ts, char *buf, size_t len);
	/* NULL where it is no sort key; ascending order, the caller reverses. */
	int (*cmp)(const struct col_ctx *c, const struct tsock *a, const struct tsock *b);
};

extern const struct column col_table[COL_MAX];

/* A list of columns to show, in order. */
struct col_list {
	uint8_t id[COL_MAX];
	size_t n;
};

/*
 * The default list: the view's, or for batch the batch table's (STATE
 * first, as it has no group rows to say it, and NETNS last).
 */
void col_default(struct col_list *cl, bool batch);
/*
 * Parse "dwell,local,peer": names from col_table, each at most once. Returns
 * 0, or -1 with a message naming the unknown or repeated column in err.
 */
int col_parse(struct col_list *cl, const char *s, char *err, size_t errlen);
bool col_has(const struct col_list *cl, enum col_id id);
/* The column of this name, or -1. */
int col_find(const char *name);

/* Dwell of a socket at now: until it went away for a ghost, never negative. */
int64_t col_dwell(const struct tsock *ts, int64_t now);
/* An address; a port 0 is "*": TCP has no port 0, so it always means any (a listener's peer). */
char *col_addr(char *buf, size_t len, int family, const uint8_t *addr, uint16_t port);
/* The owner: the scenario's actor (with its pid), else pid/command, else "-". */
char *col_owner(const struct col_ctx *c, const struct sock *s, char *buf, size_t len);

#endif
