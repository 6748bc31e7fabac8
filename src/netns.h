/* netns.h - the network namespaces watched: each socket's namespace index and its label. */
#ifndef TCPDWELL_NETNS_H
#define TCPDWELL_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A label is at most this long with its NUL ("pid 123456 (nginx)", a /run/netns name). */
#define NETNS_LABEL_MAX 64

/*
 * Index -> label, filled by the source (the poller as it finds namespaces,
 * a replay from the recording) and read by the sinks. Index 0 is the first
 * namespace watched: tcpdwell's own, or the one --netns named. Indexes are
 * never reused within a run: a ghost keeps its label.
 */
struct netns_tab;

struct netns_tab *netns_tab_new(void);
void netns_tab_free(struct netns_tab *t);
/* Label index i (growing the table); a label longer than NETNS_LABEL_MAX is cut. */
void netns_tab_set(struct netns_tab *t, uint32_t i, const char *label);
/* The label of i: "" when the table is not in use, "?" when i was never labelled. */
const char *netns_label(const struct netns_tab *t, uint32_t i);
/* Labels set so far (the highest index + 1). */
uint32_t netns_tab_size(const struct netns_tab *t);
/*
 * What is watched, for headers: all (every namespace on the box) or one,
 * and how many namespaces are watched now. A table nobody set watches
 * tcpdwell's own namespace and shows no labels.
 */
void netns_tab_watch(struct netns_tab *t, bool all, uint32_t live);
/* Labels are shown: a namespace was chosen (--netns, or a recording made with it). */
bool netns_tab_active(const struct netns_tab *t);
/* More than one namespace may appear: sinks add a NETNS column. */
bool netns_tab_multi(const struct netns_tab *t);
/* "netns web", "netns all: 4 namespaces"; "" when not active. */
void netns_tab_describe(const struct netns_tab *t, char *buf, size_t len);

/*
 * The kernel's cookie of namespace i (getsockopt SO_NETNS_COOKIE), which
 * the eBPF source finds in every record: set by the poller where it opens
 * the namespace's sockets. Setting one labels nothing (a table nobody
 * labelled stays inactive). A cookie set again for a newer index moves there.
 */
void netns_tab_set_cookie(struct netns_tab *t, uint32_t i, uint64_t cookie);
/* The index whose cookie this is; false when no namespace has it (yet). Constant time. */
bool netns_tab_find_cookie(const struct netns_tab *t, uint64_t cookie, uint32_t *i);
/* The cookie of index i, 0 when not known. */
uint64_t netns_tab_cookie(const struct netns_tab *t, uint32_t i);
/* Cookies set so far (the highest index + 1), and a count that grows with every one set. */
uint32_t netns_tab_cookies(const struct netns_tab *t);
uint32_t netns_tab_cookie_gen(const struct netns_tab *t);

#endif
