/*
 * notices.h - the kernel's socket-destroy notices, read on a thread of their
 * own as they come, and handed to the loop in the order they came.
 *
 * Under churn the loop is busy with dumps and thousands of events a second,
 * and on a box whose cores the load keeps busy it gets a share of a core:
 * notices read by the loop waited seconds in their queue, and a notice read
 * that late can no longer be told from a later life of its 4-tuple. The
 * thread does nothing but read and stamp them.
 */
#ifndef TCPDWELL_NOTICES_H
#define TCPDWELL_NOTICES_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

struct notices;

/* One datagram of notices from namespace ns (a label index), stamped as read. */
typedef void (*notices_fn)(void *arg, uint32_t ns, const void *buf, size_t len,
			   const struct notice_when *w);

/* Start the reader; NULL with errno set. */
struct notices *notices_start(void);
/* Readable when notices wait to be taken. */
int notices_fd(const struct notices *n);
/* Read e's notices too, as namespace ns's; -errno on failure. */
int notices_watch(struct notices *n, struct diag_events *e, uint32_t ns);
/* Stop reading e; it may be closed once this returns. */
void notices_forget(struct notices *n, struct diag_events *e);
/*
 * Hand every datagram read so far to fn, oldest first. Returns -ENOBUFS
 * when notices were lost since the last call (a queue overflowed), else 0.
 */
int notices_take(struct notices *n, notices_fn fn, void *arg);
/*
 * The earliest time a notice not yet taken may carry: the oldest waiting,
 * or when a read under way began; else now.
 */
int64_t notices_horizon(struct notices *n);
/* Stop the thread and free everything (the watched sockets stay open). */
void notices_stop(struct notices *n);

#endif
