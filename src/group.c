#include "config.h"
#include "group.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netns.h"
#include "util.h"

static const char *const gb_names[GB_MAX] = {"state",	  "process",	"peer",
					     "peer-port", "local-port", "netns"};
const char group_by_names[] = "state, process, peer, peer-port, local-port, netns";

int group_by_parse(const char *s)
{
	for (int i = 0; i < GB_MAX; i++)
		if (!strcmp(s, gb_names[i]))
			return i;
	return -1;
}

const char *group_by_name(enum group_by gb)
{
	return gb < GB_MAX ? gb_names[gb] : "?";
}

/* The peer's address alone: "10.0.0.2", "2001:db8::1" (no brackets, no port). */
static void peer_host(const struct tsock *ts, char *buf, size_t len)
{
	char *colon;

	col_addr(buf, len, ts->s.family, ts->s.dst, ts->s.dport);
	colon = strrchr(buf, ':');
	if (colon)
		*colon = 0;
	if (buf[0] == '[') {
		size_t n = strlen(buf);

		if (n > 1 && buf[n - 1] == ']')
			buf[n - 1] = 0;
		memmove(buf, buf + 1, n);
	}
}

void group_key(enum group_by gb, const struct col_ctx *c, const struct tsock *ts, char *buf,
	       size_t len)
{
	switch (gb) {
	case GB_PROCESS:
		col_owner(c, &ts->s, buf, len);
		break;
	case GB_PEER:
		peer_host(ts, buf, len);
		break;
	case GB_PEER_PORT:
		col_addr(buf, len, ts->s.family, ts->s.dst, ts->s.dport);
		break;
	case GB_LOCAL_PORT:
		snprintf(buf, len, "%u", ts->s.sport);
		break;
	case GB_NETNS: {
		const char *label = netns_label(c->labels, ts->s.netns);

		/* Without --netns nothing is labelled: one namespace, watched. */
		snprintf(buf, len, "%s", label && *label ? label : "-");
		break;
	}
	case GB_STATE:
	case GB_MAX:
	default:
		snprintf(buf, len, "%s", st_name(ts->s.state));
		break;
	}
}

void group_tab_clear(struct group_tab *gt)
{
	gt->n = 0;
	if (gt->slot)
		memset(gt->slot, 0, gt->nslot * sizeof(*gt->slot));
}

void group_tab_free(struct group_tab *gt)
{
	free(gt->g);
	free(gt->slot);
	*gt = (struct group_tab){0};
}

/* FNV-1a: keys are short texts. */
static size_t key_hash(const char *k)
{
	uint64_t h = 1469598103934665603ull;

	for (; *k; k++)
		h = (h ^ (unsigned char)*k) * 1099511628211ull;
	return (size_t)h;
}

/* The table's slots at twice the groups or more, so that probes stay short. */
static void grow_slots(struct group_tab *gt)
{
	size_t n = gt->nslot ? 2 * gt->nslot : 64;

	free(gt->slot);
	gt->slot = xcalloc(n, sizeof(*gt->slot));
	gt->nslot = n;
	for (size_t i = 0; i < gt->n; i++) {
		size_t s = key_hash(gt->g[i].key) & (n - 1);

		while (gt->slot[s])
			s = (s + 1) & (n - 1);
		gt->slot[s] = (uint32_t)(i + 1);
	}
}

size_t group_tab_add(struct group_tab *gt, const char *key, const struct tsock *ts)
{
	struct group *g;
	size_t s;
	unsigned st = ts->s.state < ST_MAX ? ts->s.state : ST_MAX;

	if (2 * (gt->n + 1) > gt->nslot)
		grow_slots(gt);
	s = key_hash(key) & (gt->nslot - 1);
	while (gt->slot[s] && strcmp(gt->g[gt->slot[s] - 1].key, key))
		s = (s + 1) & (gt->nslot - 1);
	if (!gt->slot[s]) {
		if (gt->n == gt->cap) {
			gt->cap = gt->cap ? 2 * gt->cap : 64;
			gt->g = xreallocarray(gt->g, gt->cap, sizeof(*gt->g));
		}
		g = &gt->g[gt->n];
		memset(g, 0, sizeof(*g));
		snprintf(g->key, sizeof(g->key), "%s", key);
		g->oldest_kind = TIME_BETWEEN;
		gt->slot[s] = (uint32_t)++gt->n;
	}
	g = &gt->g[gt->slot[s] - 1];
	g->n++;
	if (ts->flags & TS_GHOST) {
		g->ghosts++;
		return gt->slot[s] - 1;
	}
	g->per_state[st]++;
	if (!g->oldest || ts->since < g->oldest) {
		g->oldest = ts->since;
		g->oldest_kind = ts->since_kind;
	}
	return gt->slot[s] - 1;
}

struct order_ctx {
	const struct group_tab *gt;
	bool by_age;
};

static int cmp_groups(const void *pa, const void *pb, void *arg)
{
	const struct order_ctx *c = arg;
	const struct group *a = &c->gt->g[*(const size_t *)pa], *b = &c->gt->g[*(const size_t *)pb];

	if (c->by_age && a->oldest != b->oldest) {
		/* A group of ghosts only has no age: after those that have one. */
		if (!a->oldest || !b->oldest)
			return a->oldest ? -1 : 1;
		return a->oldest < b->oldest ? -1 : 1;
	}
	if (a->n != b->n)
		return a->n > b->n ? -1 : 1;
	return strcmp(a->key, b->key);
}

void group_tab_order(const struct group_tab *gt, bool by_age, size_t *order)
{
	struct order_ctx c = {gt, by_age};

	for (size_t i = 0; i < gt->n; i++)
		order[i] = i;
	qsort_r(order, gt->n, sizeof(*order), cmp_groups, &c);
}
