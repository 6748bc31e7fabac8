/* netns.c - the label table of the namespaces watched (no I/O: sinks read it). */
#include "config.h"
#include "netns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct netns_tab {
	char (*label)[NETNS_LABEL_MAX];
	uint32_t n, cap;
	bool active, all;
	uint32_t live;
	/* Index -> cookie, and a hash of cookie -> index + 1 (0: empty slot), open addressing. */
	uint64_t *cookie;
	uint32_t ncookie, cookie_cap, gen;
	struct netns_slot {
		uint64_t cookie;
		uint32_t idx1;
	} * slot;
	uint32_t nslot, used;
};

struct netns_tab *netns_tab_new(void)
{
	return xcalloc(1, sizeof(struct netns_tab));
}

void netns_tab_free(struct netns_tab *t)
{
	if (!t)
		return;
	free(t->label);
	free(t->cookie);
	free(t->slot);
	free(t);
}

void netns_tab_set(struct netns_tab *t, uint32_t i, const char *label)
{
	t->label = xgrow_index(t->label, &t->cap, i, sizeof(*t->label));
	snprintf(t->label[i], sizeof(t->label[i]), "%s", label);
	if (i >= t->n)
		t->n = i + 1;
	t->active = true;
}

const char *netns_label(const struct netns_tab *t, uint32_t i)
{
	if (!t || !t->active)
		return "";
	return i < t->n && t->label[i][0] ? t->label[i] : "?";
}

uint32_t netns_tab_size(const struct netns_tab *t)
{
	return t ? t->n : 0;
}

void netns_tab_watch(struct netns_tab *t, bool all, uint32_t live)
{
	t->all = all;
	t->live = live;
	t->active = true;
}

bool netns_tab_active(const struct netns_tab *t)
{
	return t && t->active;
}

bool netns_tab_multi(const struct netns_tab *t)
{
	return t && t->active && (t->all || t->n > 1);
}

void netns_tab_describe(const struct netns_tab *t, char *buf, size_t len)
{
	if (!netns_tab_active(t))
		snprintf(buf, len, "%s", "");
	else if (t->all)
		snprintf(buf, len, "netns all: %u namespace%s", t->live, t->live == 1 ? "" : "s");
	else
		snprintf(buf, len, "netns %s", netns_label(t, 0));
}

/* A well-mixed 64-bit hash: kernel cookies are sequential numbers. */
static uint32_t slot_of(uint64_t cookie, uint32_t nslot)
{
	cookie ^= cookie >> 33;
	cookie *= 0xff51afd7ed558ccdULL;
	cookie ^= cookie >> 33;
	return (uint32_t)cookie & (nslot - 1);
}

static struct netns_slot *slot_find(const struct netns_tab *t, uint64_t cookie)
{
	uint32_t j = slot_of(cookie, t->nslot);

	while (t->slot[j].idx1 && t->slot[j].cookie != cookie)
		j = (j + 1) & (t->nslot - 1);
	return &t->slot[j];
}

static void slot_grow(struct netns_tab *t)
{
	struct netns_slot *old = t->slot;
	uint32_t nold = t->nslot;

	t->nslot = nold ? 2 * nold : 16;
	t->slot = xcalloc(t->nslot, sizeof(*t->slot));
	for (uint32_t j = 0; j < nold; j++)
		if (old[j].idx1)
			*slot_find(t, old[j].cookie) = old[j];
	free(old);
}

void netns_tab_set_cookie(struct netns_tab *t, uint32_t i, uint64_t cookie)
{
	struct netns_slot *sl;

	if (!cookie)
		return;
	t->cookie = xgrow_index(t->cookie, &t->cookie_cap, i, sizeof(*t->cookie));
	t->cookie[i] = cookie;
	if (i >= t->ncookie)
		t->ncookie = i + 1;
	/* At most half full, so that a probe ends soon. */
	if (2 * (t->used + 1) > t->nslot)
		slot_grow(t);
	sl = slot_find(t, cookie);
	if (!sl->idx1)
		t->used++;
	sl->cookie = cookie;
	sl->idx1 = i + 1;
	t->gen++;
}

bool netns_tab_find_cookie(const struct netns_tab *t, uint64_t cookie, uint32_t *i)
{
	const struct netns_slot *sl;

	if (!t || !t->nslot || !cookie)
		return false;
	sl = slot_find(t, cookie);
	if (!sl->idx1)
		return false;
	*i = sl->idx1 - 1;
	return true;
}

uint64_t netns_tab_cookie(const struct netns_tab *t, uint32_t i)
{
	return t && i < t->ncookie ? t->cookie[i] : 0;
}

uint32_t netns_tab_cookies(const struct netns_tab *t)
{
	return t ? t->ncookie : 0;
}

uint32_t netns_tab_cookie_gen(const struct netns_tab *t)
{
	return t ? t->gen : 0;
}
