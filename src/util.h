/* util.h - checked allocation, clocks, duration and address formatting, text sanitising. */
#ifndef TCPDWELL_UTIL_H
#define TCPDWELL_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define NS_PER_SEC    1000000000LL
#define NS_PER_MS     1000000LL
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation failures abort here, with a message; nothing else aborts. */
/*
 * What runs before an allocation failure is reported and aborts: the view
 * restores the terminal, so that the message is not drawn on the
 * alternate screen and lost with it. Async-signal-safe.
 */
void xmalloc_on_fail(void (*before)(void));
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* Grow an array of nmemb elements of size bytes, checking for overflow. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
/*
 * Make index i of an array of size-byte elements exist: grown by doubling
 * (from 8), the new elements zeroed; *cap follows. Returns the array.
 */
void *xgrow_index(void *p, uint32_t *cap, uint32_t i, size_t size);
/*
 * Large arrays that one dump fills at once (rows and tracker entries for
 * 100,000s of sockets). From BIG_MIN bytes on they are mapped on their own
 * at a 2 MiB boundary; below, plain malloc. The caller passes the size each
 * time: it says which of the two it was. big_realloc() moves the contents
 * into huge pages (big_huge) and leaves the rest in small ones.
 */
#define BIG_MIN ((size_t)4 << 20)
void *big_alloc(size_t len);
void *big_realloc(void *p, size_t old, size_t len);
void big_free(void *p, size_t len);
/*
 * Ask for transparent huge pages in the whole 2 MiB spans of [p, p + len)
 * of big memory, before anything there is written: for what will surely be
 * filled (a huge page is resident whole once one byte of it is written).
 */
void big_huge(void *p, size_t len);
/*
 * Have the kernel put in at once the pages wholly inside [p, p + len), memory
 * about to be written: cheaper than a fault per page (Linux 5.14; before, a
 * no-op). Pages shared with neighbours are left to fault as usual.
 */
void populate(void *p, size_t len);
/*
 * Memory faulted in by a second thread while this one works: a first dump
 * waits in the kernel for most of its time, and on a virtual machine the
 * faults of the memory it and the tracker are about to fill cost about as
 * much again. The spans go in order.
 *
 * How each span is warmed:
 * - WARM_PUT: put in with populate(). Only the kernel touches it and
 *   leaves its contents as they are, so the caller may write there
 *   meanwhile.
 * - WARM_TOUCH: each page written by the thread, its contents unchanged;
 *   this also spares the caller the first write of each page (on this VM
 *   some microseconds a page even once put in). Nothing else may touch the
 *   span until warm_join().
 * - WARM_FILL: written through with byte, as WARM_TOUCH. After warm_join()
 *   it surely holds byte: without a thread, warm_start() writes it itself.
 *
 * warm_start() returns NULL when there was too little to be worth a thread
 * (under 1 MiB) or none could start.
 */
enum warm_how { WARM_PUT, WARM_TOUCH, WARM_FILL };
struct span {
	void *p;
	size_t len;
	enum warm_how how;
	uint8_t byte; /* WARM_FILL */
};
struct warmer;
struct warmer *warm_start(const struct span *v, size_t n);
/* Wait until w is done, and free it (NULL is fine). */
void warm_join(struct warmer *w);

/* CLOCK_MONOTONIC and CLOCK_REALTIME as nanoseconds. */
int64_t mono_ns(void);
int64_t wall_ns(void);
/* CPU time this thread has used, in user space and in the kernel on its behalf. */
int64_t thread_cpu_ns(void);

/*
 * How well a time is known: seen changing between two polls, derived exactly
 * (kernel timer or tracepoint), or only a lower bound (state predates start-up).
 */
enum time_kind { TIME_BETWEEN = 0, TIME_EXACT = 1, TIME_ATLEAST = 2 };

/*
 * A duration at a fixed width of 6 columns that grows by unit: "6µs",
 * "0.5ms", "0.42s", "12.3s", "4m07s", "3h12m", "2d04h". With TIME_ATLEAST a
 * leading "≥" (or ">=" when utf8 is false). Returns buf.
 */
#define DUR_BUFSZ 24
char *fmt_dur(char *buf, int64_t ns, enum time_kind kind, bool utf8);
/* Same figure without padding, as seconds with 6 decimals, for machine output. */
char *fmt_secs(char *buf, size_t len, int64_t ns);
/*
 * v in decimal at buf, which has room for len bytes (21 hold any value);
 * returns the digits written, not counting the NUL (0 when len is short).
 * The event stream writes tens of thousands of numbers a second.
 */
size_t fmt_u64(char *buf, size_t len, uint64_t v);
/* The low width digits of v at p, zeros in front, no NUL ("000123"). */
void fmt_digits(char *p, unsigned width, uint64_t v);
/* s copied into buf, cut to fit; returns buf. */
char *fmt_str(char *buf, size_t len, const char *s);

/* "1.2.3.4:80" or "[::1]:80"; addr is 4 or 16 bytes by family. */
#define ADDR_BUFSZ 64
char *fmt_addr(char *buf, size_t len, int family, const uint8_t *addr, uint16_t port);
/* The address alone, without port or brackets. */
char *fmt_ip(char *buf, size_t len, int family, const uint8_t *addr);

/*
 * Every piece of text from the system passes here before any output: control
 * characters (C0, DEL, C1), ESC sequences and invalid UTF-8 become visible
 * escapes (\e, \a, \x9b ...); the result is NUL-terminated and cut to fit dst.
 * srclen may be (size_t)-1 for a NUL-terminated src. Returns dst.
 */
char *sanitize(char *dst, size_t dstlen, const char *src, size_t srclen);

/* a + b, held at INT64_MIN or INT64_MAX where it would overflow: far times stay far. */
int64_t sat_add(int64_t a, int64_t b);
/* s seconds in ns, held likewise. */
int64_t sat_secs(int64_t s);

/* Parse a duration like "0.5", "2s", "100ms", "1m"; returns ns or -1. */
int64_t parse_duration(const char *s);

/*
 * A binary min-heap of ids by due time, ties in the order pushed: the
 * tracker's ghosts by expiry, the loop's held transitions by time. Both
 * mostly push in time order, so a push rarely moves far.
 */
struct due {
	int64_t at;
	uint64_t seq;
	uint32_t id;
};
struct dueheap {
	struct due *v;
	size_t n, cap;
	uint64_t seq;
};
void dueheap_push(struct dueheap *h, int64_t at, uint32_t id);
/* Take the first off; returns its id. The heap must not be empty. */
uint32_t dueheap_pop(struct dueheap *h);
/* The first's due time; INT64_MAX when empty. */
static inline int64_t dueheap_first(const struct dueheap *h)
{
	return h->n ? h->v[0].at : INT64_MAX;
}
void dueheap_free(struct dueheap *h);

#endif
