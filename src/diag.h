/* diag.h - sock_diag over netlink (libmnl): dump TCP sockets, parse replies, destroy notices. */
#ifndef TCPDWELL_DIAG_H
#define TCPDWELL_DIAG_H

#include <sys/types.h>

#include "sock.h"

struct diag;
struct filter;
struct filter_node;

/* Open a NETLINK_SOCK_DIAG socket in the current network namespace; NULL and errno on failure. */
struct diag *diag_open(void);
void diag_close(struct diag *d);

/*
 * Dump TCP sockets of both families whose state is in states (ST_MASK bits),
 * asking for tcp_info only when sn->with_info. Both families come from one
 * walk of the kernel's tables (the compatibility request, which takes
 * AF_UNSPEC); a kernel that refuses it is asked once per family, as ss does.
 * f, when not NULL, is compiled to kernel bytecode where it can be (and is
 * always applied again in user space by the caller). Appends to sn (cleared
 * first) and sets sn->mono, wall, states, complete. Returns 0, or -errno
 * when the dump failed (sn->complete stays false).
 */
int diag_dump(struct diag *d, uint32_t states, const struct filter *f, struct snapshot *sn);
/*
 * The filter changed: compile the next one afresh. The bytecode is kept per
 * filter pointer, and a new filter may be given the address of one freed.
 */
void diag_filter_changed(struct diag *d);
/*
 * About how many TCP sockets a dump of every state would list, from the
 * kernel's counters in /proc/net/sockstat and sockstat6 (this namespace);
 * 0 when they cannot be read. Cheap: no walk of the socket tables.
 */
size_t diag_count_hint(void);
/* The same from these two files (a test's). */
size_t diag_count_hint_from(const char *sockstat, const char *sockstat6);
/*
 * The tcp_info of one socket, asked of the kernel by its 4-tuple and cookie
 * (no dump). Returns 0, -ENOENT when the socket is gone or has no tcp_info
 * (TIME_WAIT, a request), or another -errno.
 */
int diag_sock_info(struct diag *d, const struct sock *s, struct sock_info *out);

/*
 * Destroy one socket (SOCK_DESTROY, what ss -K does), named by its 4-tuple
 * and cookie, in the namespace d was opened in. Returns 0, or the kernel's
 * -errno: -EPERM without CAP_NET_ADMIN there, -EOPNOTSUPP on a kernel built
 * without CONFIG_INET_DIAG_DESTROY, -ENOENT when the socket is gone.
 */
int diag_destroy(struct diag *d, const struct sock *s);

/*
 * Parse one buffer of netlink messages received for a dump with sequence
 * seq and port id portid. Rows go to sn (duplicates by cookie dropped).
 * Returns 1 when the dump is done (NLMSG_DONE), 0 when more is to come,
 * -errno on an error the kernel reported or a malformed buffer.
 */
int diag_parse_buffer(const void *buf, size_t len, uint32_t seq, uint32_t portid,
		      struct snapshot *sn);
/* Parse one SOCK_DIAG_BY_FAMILY message payload into s (its tcp_info into info, when not NULL
 * and present: s->has_info says); -1 if unusable. */
int diag_parse_msg(const void *payload, size_t len, struct sock *s, struct sock_info *info);

/*
 * Compile the port and address parts of a filter tree into inet_diag
 * bytecode (INET_DIAG_REQ_BYTECODE) that accepts a superset of what the tree
 * matches: states and what cannot be expressed are left to user space.
 * Returns its length, or 0 when there is nothing worth sending (or it would
 * not fit in cap).
 */
size_t diag_bc_compile(const struct filter_node *root, void *buf, size_t cap);

/* A socket that receives destroy notices for TCP over IPv4 and IPv6. */
struct diag_events;
/*
 * When a notice was read (mono, wall), and when its queue was last found
 * empty before it came (lo; 0 unknown): the kernel sent it in between.
 */
struct notice_when {
	int64_t lo, mono, wall;
};
/* One destroyed socket, with its final tcp_info (NULL when the notice had none). */
typedef void (*diag_notice_fn)(void *arg, const struct sock *s, const struct sock_info *info,
			       const struct notice_when *w);
struct diag_events *diag_events_open(void);
int diag_events_fd(const struct diag_events *e);
/*
 * One datagram of notices, without blocking: its length (*buf points into
 * e, valid until the next call), -EAGAIN when none is queued, -ENOBUFS when
 * some were lost (the caller resyncs), or another -errno.
 */
ssize_t diag_events_recv(struct diag_events *e, const void **buf);
/* mono when a read last found the queue empty; 0 never. */
int64_t diag_events_empty_at(const struct diag_events *e);
/* Walk a buffer of destroy notices (sender checked by the caller); -EBADMSG if malformed. */
int diag_parse_notices(const void *buf, size_t len, const struct notice_when *w, diag_notice_fn fn,
		       void *arg);
void diag_events_close(struct diag_events *e);

#endif
