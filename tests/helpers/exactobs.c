/*
 * exactobs - what the eBPF exact source hands on, before any tracker: one
 * JSON line per change, with the cookie and the namespace label it set.
 * Lets the tests compare the source itself with the kernel (ss -e).
 *
 * Usage: exactobs [all|NETNS]   (runs until SIGTERM or SIGINT; exit 77
 * when the eBPF source cannot load here)
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "exact_bpf.h"
#include "loop.h"
#include "netns.h"
#include "nswatch.h"
#include "poll.h"
#include "track.h"
#include "util.h"

static void observe(void *ctx, struct loop *l, const struct obs *o)
{
	char la[96], pa[96];

	(void)ctx;
	if (o->kind != OBS_CHANGE)
		return;
	fmt_addr(la, sizeof(la), o->key.family, o->key.src, o->key.sport);
	fmt_addr(pa, sizeof(pa), o->key.family, o->key.dst, o->key.dport);
	printf("{\"cookie\":%llu,\"netns\":%u,\"label\":\"%s\",\"from\":%u,\"to\":%u,"
	       "\"local\":\"%s\",\"peer\":\"%s\",\"mono\":%lld}\n",
	       (unsigned long long)o->cookie, o->key.netns,
	       netns_label(loop_netns(l), o->key.netns), o->from, o->to, la, pa,
	       (long long)o->mono);
	fflush(stdout);
}

static const struct sink_ops print_ops = {.name = "exactobs", .observe = observe};

int main(int argc, char **argv)
{
	/* Ghosts gone at once: the tracker, which the loop always feeds, stays small under a flood.
	 */
	struct track_opts to = {.ghost_ns = 1, .universe = ST_ALL_MASK, .max_hist = 4};
	struct track *t = track_new(&to);
	struct loop *l = loop_new(t);
	struct netns_tab *labels = netns_tab_new();
	struct nswatch_ns ns;
	struct exact_bpf_opts xo = {.all = argc > 1 && !strcmp(argv[1], "all")};
	struct poll_opts po = {
	    .interval_ns = NS_PER_SEC,
	    .all_netns = xo.all,
	    .labels = labels,
	};
	char err[512];
	int status;

	loop_set_netns(l, labels);
	if (argc > 1 && !xo.all) {
		if (nswatch_resolve(argv[1], &ns, err, sizeof(err)) < 0) {
			fprintf(stderr, "exactobs: %s\n", err);
			return 2;
		}
		po.netns = &ns;
	}
	if (exact_bpf_open(l, &xo, err, sizeof(err)) < 0) {
		fprintf(stderr, "exactobs: %s\n", err);
		return 77;
	}
	if (poll_open(l, &po, err, sizeof(err)) < 0) {
		fprintf(stderr, "exactobs: %s\n", err);
		return 1;
	}
	loop_add_sink(l, &print_ops, NULL);
	loop_echo(l, stderr);
	fprintf(stderr, "exactobs: ready\n");
	status = loop_run(l);
	loop_free(l);
	track_free(t);
	netns_tab_free(labels);
	return status;
}
