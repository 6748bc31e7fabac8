/* exact.h - exact state changes from the sock:inet_sock_set_state tracepoint (perf_event_open). */
#ifndef TCPDWELL_EXACT_H
#define TCPDWELL_EXACT_H

#include "loop.h"

/*
 * Open the tracepoint on every CPU and add it to the loop as a source.
 * -1 with err saying exactly what is missing (root or CAP_PERFMON, tracefs
 * mount, a field in the format) and how to provide it.
 */
/*
 * The tracepoint sees every network namespace: with a scenario's narrator,
 * only changes of its own sockets go on; NULL for all.
 */
struct narrator;
int exact_open(struct loop *l, const struct narrator *only, char *err, size_t errlen);

/*
 * The pieces below are pure (no I/O), for exact.c and the unit tests.
 */

/* Where one field of the raw record lies, as the tracepoint's format file says. */
struct exact_field {
	uint16_t offset, size;
	bool is_signed;
	bool present;
};

/* The raw record layout of sock:inet_sock_set_state on this kernel. */
struct exact_format {
	uint32_t id; /* the tracepoint id (the "ID:" line), 0 if the text had none */
	struct exact_field oldstate, newstate, sport, dport, family, protocol;
	struct exact_field saddr, daddr, saddr_v6, daddr_v6;
	struct exact_field skaddr; /* optional: the kernel's socket address */
	size_t need; /* bytes a raw record must hold to contain every field used */
};

/*
 * Parse the text of events/sock/inet_sock_set_state/format. -1 with err
 * naming the missing or unusable field when the layout cannot be decoded.
 */
int exact_parse_format(const char *text, struct exact_format *f, char *err, size_t errlen);

/*
 * Decode one raw tracepoint record (the PERF_SAMPLE_RAW payload) into
 * o->key, o->from, o->to (kind OBS_CHANGE; times untouched) and, when sk is
 * not NULL, the socket's kernel address (0 if the format has none). 1 for a
 * TCP state change, 0 for another protocol or family, -1 when the record is
 * too short or a value cannot be a state.
 */
int exact_decode_raw(const struct exact_format *f, const uint8_t *raw, size_t len, struct obs *o,
		     uint64_t *sk);

/*
 * Decode one PERF_RECORD_SAMPLE (sample_type TIME | RAW, header included):
 * as exact_decode_raw, with o->mono set from the sample time.
 */
int exact_decode_sample(const struct exact_format *f, const uint8_t *rec, size_t len,
			struct obs *o, uint64_t *sk);

/* The samples a PERF_RECORD_LOST says were dropped; 0 for any other record or a short one. */
uint64_t exact_lost(const uint8_t *rec, size_t len);

/* A decoded change waiting to be handed on. */
struct exact_pending {
	struct obs o;
	uint64_t sk;  /* kernel socket address, 0 if unknown */
	uint64_t seq; /* arrival order, to keep the sort stable */
};

/*
 * Hand on, in time order, the pending changes at or before settled; return
 * how many are kept (moved to the front of v, still sorted). A connect()'s
 * first change (to SYN_SENT with local port 0: the kernel picks the port
 * just after) waits for the same socket's next change to learn its port, or
 * is handed on portless once it is older than hold_until.
 */
typedef void (*exact_obs_fn)(void *ctx, const struct obs *o);
size_t exact_release(struct exact_pending *v, size_t n, int64_t settled, int64_t hold_until,
		     exact_obs_fn fn, void *ctx);

/*
 * Walk the records between tail and head of a perf ring's data area (size a
 * power of two), calling fn with each whole record; a record that wraps the
 * end is copied into scratch (EXACT_SCRATCH bytes) first. Returns the number
 * of records, or -1 when a record header is impossible (the rest is skipped:
 * the caller sets the tail to head either way).
 */
#define EXACT_SCRATCH 65536
typedef void (*exact_record_fn)(void *ctx, const uint8_t *rec, size_t len);
int exact_ring_walk(const uint8_t *data, uint64_t size, uint64_t tail, uint64_t head,
		    uint8_t *scratch, exact_record_fn fn, void *ctx);

/*
 * Parse a CPU list ("0-3,8,10-11\n", as /sys/devices/system/cpu/online
 * has it) into cpus (at most max). Returns the count, -1 if malformed.
 */
int exact_parse_cpus(const char *s, int *cpus, int max);

#endif
