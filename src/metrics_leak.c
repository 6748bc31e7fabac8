/* metrics_leak.c - sockets stuck in CLOSE_WAIT or FIN_WAIT_2, by namespace and owning process. */
#include "config.h"
#include "metrics_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leaks.h"
#include "netns.h"
#include "procmap.h"
#include "util.h"

/* One leaking socket, reduced to what its series is keyed by. */
struct leak {
	uint32_t netns;
	uint8_t state;
	/* A copy: the map's own may move when it scans. "" when the owner is unknown. */
	char comm[sizeof(((struct owner *)0)->comm)];
	int64_t age;
};

struct metrics_leak {
	struct procmap *pm;
	int64_t leak_ns;
	struct leak *v;
	size_t n, cap;
	struct leak_sock *lk; /* what leaks_collect() found */
	size_t lk_cap;
};

struct metrics_leak *metrics_leak_new(bool live, int64_t leak_ns)
{
	struct metrics_leak *k = xcalloc(1, sizeof(*k));

	/*
	 * A map of its own: another sink's forgets what it no longer shows,
	 * which would make the process label come and go. It walks /proc only
	 * while some socket leaks. A replay's owners are not on this machine.
	 */
	if (live)
		k->pm = procmap_new("/proc");
	k->leak_ns = leak_ns;
	return k;
}

void metrics_leak_free(struct metrics_leak *k)
{
	if (!k)
		return;
	procmap_free(k->pm);
	free(k->v);
	free(k->lk);
	free(k);
}

static int by_key(const void *a, const void *b)
{
	const struct leak *x = a, *y = b;
	int c;

	if (x->netns != y->netns)
		return x->netns < y->netns ? -1 : 1;
	if (x->state != y->state)
		return x->state < y->state ? -1 : 1;
	c = strcmp(x->comm, y->comm);
	return c;
}

void metrics_label_value(const char *s, FILE *out)
{
	for (const char *p = s; *p; p++) {
		if (*p == '\\' || *p == '"')
			fputc('\\', out);
		if (*p == '\n')
			fputs("\\n", out);
		else
			fputc(*p, out);
	}
}

/* NAME{netns="..",state="..",process=".."}: the labels of one group. */
static void group_labels(const char *name, const struct leak *g, const struct netns_tab *labels,
			 FILE *out)
{
	fprintf(out, "%s{", name);
	if (labels && netns_tab_active(labels)) {
		fputs("netns=\"", out);
		metrics_label_value(netns_label(labels, g->netns), out);
		fputs("\",", out);
	}
	fprintf(out, "state=\"%s\"", st_name(g->state));
	/* Unknown owner: no process label, as Prometheus reads an empty one anyway. */
	if (*g->comm) {
		fputs(",process=\"", out);
		metrics_label_value(g->comm, out);
		fputc('"', out);
	}
	fputs("} ", out);
}

void metrics_leak_write(struct metrics_leak *k, const struct tsock *const *v, size_t n, int64_t now,
			const struct netns_tab *labels, FILE *out)
{
	/* The same rule and owners as the leak report (--leaks). */
	k->n = leaks_collect(v, n, now, k->leak_ns, k->pm, &k->lk, &k->lk_cap);
	if (k->n > k->cap) {
		k->cap = k->n;
		k->v = xreallocarray(k->v, k->cap, sizeof(*k->v));
	}
	for (size_t i = 0; i < k->n; i++) {
		const struct leak_sock *s = &k->lk[i];

		k->v[i] =
		    (struct leak){.netns = s->ts->s.netns, .state = s->ts->s.state, .age = s->age};
		if (s->own)
			snprintf(k->v[i].comm, sizeof(k->v[i].comm), "%s", s->own->comm);
	}
	/*
	 * Owners of sockets found now are named in the next write: a scan is
	 * bounded. The map forgets the owners of leaks that ended.
	 */
	if (k->pm) {
		if (k->n)
			procmap_scan(k->pm, now, 20 * NS_PER_MS);
		procmap_gc(k->pm);
	}
	/* qsort() wants an array even for none: k->v is NULL until a first leak. */
	if (k->n)
		qsort(k->v, k->n, sizeof(*k->v), by_key);

	fputs("# HELP tcpdwell_leaking_sockets Sockets in CLOSE_WAIT or FIN_WAIT_2 longer than the "
	      "leak threshold (--leak), by owning process where /proc tells.\n"
	      "# TYPE tcpdwell_leaking_sockets gauge\n",
	      out);
	for (size_t i = 0, j; i < k->n; i = j) {
		for (j = i + 1; j < k->n && !by_key(&k->v[i], &k->v[j]); j++)
			;
		group_labels("tcpdwell_leaking_sockets", &k->v[i], labels, out);
		fprintf(out, "%zu\n", j - i);
	}
	fputs("# HELP tcpdwell_leaking_oldest_seconds How long the oldest of those sockets has "
	      "been in its state.\n"
	      "# TYPE tcpdwell_leaking_oldest_seconds gauge\n",
	      out);
	for (size_t i = 0, j; i < k->n; i = j) {
		int64_t oldest = k->v[i].age;

		for (j = i + 1; j < k->n && !by_key(&k->v[i], &k->v[j]); j++)
			if (k->v[j].age > oldest)
				oldest = k->v[j].age;
		group_labels("tcpdwell_leaking_oldest_seconds", &k->v[i], labels, out);
		fprintf(out, "%.3f\n", (double)oldest / NS_PER_SEC);
	}
}
