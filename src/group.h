/* group.h - sockets totalled by a key (peer, process, port...): the view's groups and --group-by.
 */
#ifndef TCPDWELL_GROUP_H
#define TCPDWELL_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "column.h"

enum group_by { GB_STATE, GB_PROCESS, GB_PEER, GB_PEER_PORT, GB_LOCAL_PORT, GB_NETNS, GB_MAX };

/* "state", "process", "peer", "peer-port", "local-port", "netns"; -1 if unknown. */
int group_by_parse(const char *s);
const char *group_by_name(enum group_by gb);
/* The names, comma-separated, for messages and --help. */
extern const char group_by_names[];

/* A socket's key under gb (sanitised text). */
void group_key(enum group_by gb, const struct col_ctx *c, const struct tsock *ts, char *buf,
	       size_t len);

/* One group: its key, its count per state and its oldest living socket. */
struct group {
	char key[ADDR_BUFSZ + 64];
	size_t n, ghosts;
	size_t leaks;		      /* the caller's to count: what a leak is is the view's rule */
	size_t per_state[ST_MAX + 1]; /* living ones; [ST_MAX]: states out of range */
	int64_t oldest;		      /* entry time of the oldest living socket, 0 when none */
	uint8_t oldest_kind;
};

/* The groups of one table: filled with group_tab_add(), then ordered. */
struct group_tab {
	struct group *g;
	size_t n, cap;
	uint32_t *slot; /* open addressing on the key: index + 1, 0 empty */
	size_t nslot;
};

void group_tab_clear(struct group_tab *gt);
void group_tab_free(struct group_tab *gt);
/* Count a socket in its group; returns the group's index (stable until the sort). */
size_t group_tab_add(struct group_tab *gt, const char *key, const struct tsock *ts);
/*
 * The groups' order into order[] (gt->n entries, the groups stay where they
 * are): by size, largest first, or by age, oldest socket first; the key
 * breaks ties so that a table reads the same twice.
 */
void group_tab_order(const struct group_tab *gt, bool by_age, size_t *order);

#endif
