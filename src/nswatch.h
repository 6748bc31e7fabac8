/* nswatch.h - finding network namespaces, and entering one to open sockets in it (a source's). */
#ifndef TCPDWELL_NSWATCH_H
#define TCPDWELL_NSWATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "netns.h"

/* One namespace: its identity (the nsfs file's device and inode), label and a path to it. */
struct nswatch_ns {
	dev_t dev;
	ino_t ino;
	char label[NETNS_LABEL_MAX];
	char path[288]; /* /run/netns/NAME, /proc/PID/ns/net, or as given */
	pid_t pid;	/* the lowest process in it (0 for a named one) */
};

/*
 * The namespace of --netns ARG: a name under /run/netns (as `ip netns add`
 * makes) or a path to a namespace file. 0, or -errno with err saying what
 * was wrong and what to do.
 */
int nswatch_resolve(const char *arg, struct nswatch_ns *ns, char *err, size_t errlen);
/*
 * Every network namespace on the box: the named ones and those of running
 * processes, one entry per namespace; ours first, labelled "host" when it
 * is the one of pid 1 (else its name, or "self"). *v is grown as needed;
 * returns the count. *unreadable: processes whose namespace could not be
 * looked at (no privilege).
 */
size_t nswatch_scan(struct nswatch_ns **v, size_t *cap, size_t *unreadable);
/*
 * Enter ns (checking it is still the same namespace), call fn(arg), and come
 * back to our own. fn's result, or -errno when ns cannot be entered
 * (-EPERM: no CAP_SYS_ADMIN; -ESRCH: it is gone); -ENOTRECOVERABLE when we
 * could not come back (what fn opened is in ns; nothing more should be).
 */
int nswatch_run_in(const struct nswatch_ns *ns, int (*fn)(void *arg), void *arg);
/*
 * The kernel's cookie of the network namespace we are in now (SO_NETNS_COOKIE,
 * Linux 5.14): what the eBPF source reads in every record. 0 when unknown.
 */
uint64_t nswatch_cookie_here(void);

#endif
