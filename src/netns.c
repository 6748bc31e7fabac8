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
