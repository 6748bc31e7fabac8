/* order.h - transitions held back and handed on in time order, once no earlier one can come. */
#ifndef TCPDWELL_ORDER_H
#define TCPDWELL_ORDER_H

#include "track.h"

struct order;

struct order *order_new(void);
void order_free(struct order *o);
/* Hold a copy of ev (its ts is not kept: it is NULL when handed on). */
void order_push(struct order *o, const struct track_event *ev);
/*
 * Hand on, oldest first, the events held whose time is at or before
 * horizon, max of them at most; events of one time go in the order they
 * came. Returns how many.
 */
size_t order_release(struct order *o, int64_t horizon, size_t max, track_event_fn fn, void *arg);
/* The time of the oldest event held; INT64_MAX when none. */
int64_t order_oldest(const struct order *o);
/* Hand on everything held (the end of the stream). */
size_t order_flush(struct order *o, track_event_fn fn, void *arg);
/* Forget everything held (a replay seek starts the stream over). */
void order_reset(struct order *o);
size_t order_held(const struct order *o);

#endif
