/* poll.h - the sock_diag poller as sources: the full dump, the fast lane, destroy notices. */
#ifndef TCPDWELL_POLL_H
#define TCPDWELL_POLL_H

#include "loop.h"

struct filter;
struct netns_tab;
struct nswatch_ns;

struct poll_opts {
	int64_t interval_ns;	  /* full dump every; >= 10 ms */
	int64_t fast_ns;	  /* fast lane (rare states only) every; 0 = off */
	double fast_budget;	  /* share of one core the fast lane may take, 0.05 */
	bool destroy;		  /* subscribe to destroy notices */
	bool info;		  /* every dump asks for tcp_info (a recording keeps it) */
	const struct filter *filter; /* port/address parts go to the kernel as bytecode */
	const struct nswatch_ns *netns; /* watch this namespace, not our own; or NULL */
	bool all_netns;		  /* watch every namespace on the box, found again every few s */
	struct netns_tab *labels; /* where the namespaces' labels go (with netns or all_netns) */
};

/*
 * Open the sources and add them to the loop; -1 with err set when sock_diag
 * cannot be used, or the namespace asked for cannot be entered.
 */
int poll_open(struct loop *l, const struct poll_opts *o, char *err, size_t errlen);

#endif
