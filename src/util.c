#include "config.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void (*oom_before)(void);

void xmalloc_on_fail(void (*before)(void))
{
	oom_before = before;
}

static void oom(size_t n)
{
	/* fprintf may itself need memory; write() does not. */
	static const char msg[] = "tcpdwell: out of memory\n";
	(void)n;
	if (oom_before)
		oom_before();
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing left to report with */
	}
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		oom(nmemb * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

void *xreallocarray(void *p, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size)
		oom(SIZE_MAX);
	return xrealloc(p, nmemb * size);
}

#define HUGE_PAGE ((size_t)2 << 20)

static size_t page_round(size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (len + page - 1) & ~(page - 1);
}

void *big_alloc(size_t len)
{
	size_t span, head;
	uintptr_t a;
	void *p;

	if (len < BIG_MIN)
		return xmalloc(len);
	len = page_round(len);
	span = len + HUGE_PAGE;
	p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		oom(len);
	/* Aligned, so that every whole 2 MiB span of it can be one huge page. */
	a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	head = a - (uintptr_t)p;
	if (head)
		munmap(p, head);
	munmap((void *)(a + len), span - head - len);
	return (void *)a;
}

/*
 * A new page costs a fault when first written, and on a virtual machine a
 * fault is dear: here 45 MB took 150-200 ms in 4 KiB pages, 7 ms in 2 MiB
 * ones, and a first dump of 160,000 sockets writes about that much. Huge
 * pages are a hint (THP "madvise"; "never" ignores it, "always" needs none).
 */
void big_huge(void *p, size_t len)
{
#ifdef MADV_HUGEPAGE
	uintptr_t lo = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	uintptr_t hi = ((uintptr_t)p + len) & ~(uintptr_t)(HUGE_PAGE - 1);

	if (len >= BIG_MIN && hi > lo)
		madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
	(void)p;
	(void)len;
#endif
}

void big_free(void *p, size_t len)
{
	if (len < BIG_MIN)
		free(p);
	else if (p)
		munmap(p, page_round(len));
}

void populate(void *p, size_t len)
{
#ifdef MADV_POPULATE_WRITE
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t lo = ((uintptr_t)p + page - 1) & ~(page - 1);
	uintptr_t hi = ((uintptr_t)p + len) & ~(page - 1);

	if (hi > lo)
		madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
#else
	(void)p;
	(void)len;
#endif
}

#define WARM_MAX  8
#define WARM_MIN  ((size_t)1 << 20) /* 256 pages: milliseconds of faults on this VM */
#define WARM_STEP ((size_t)2 << 20)

struct warmer {
	pthread_t th;
	struct span v[WARM_MAX];
	size_t n;
};

static void warm_span(const struct span *s)
{
	volatile uint8_t *p = s->p;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	switch (s->how) {
	case WARM_PUT:
		/* In steps of 2 MiB: populate() holds the memory map's lock while it works. */
		for (size_t off = 0; off < s->len; off += WARM_STEP)
			populate((char *)s->p + off,
				 s->len - off < WARM_STEP ? s->len - off : WARM_STEP);
		break;
	case WARM_TOUCH:
		/* Page faults leave that lock alone; a byte a page, as it was. */
		for (size_t off = 0; off < s->len; off += page)
			p[off] = p[off];
		break;
	case WARM_FILL:
		memset(s->p, s->byte, s->len);
		break;
	}
}

static void *warm_run(void *arg)
{
	const struct warmer *w = arg;

	for (size_t i = 0; i < w->n; i++)
		warm_span(&w->v[i]);
	return NULL;
}

struct warmer *warm_start(const struct span *v, size_t n)
{
	struct warmer *w;
	size_t total = 0;

	for (size_t i = 0; i < n; i++)
		total += v[i].p ? v[i].len : 0;
	if (total >= WARM_MIN && n <= WARM_MAX) {
		sigset_t all, old;
		int r;

		w = xcalloc(1, sizeof(*w));
		for (size_t i = 0; i < n; i++)
			if (v[i].p && v[i].len)
				w->v[w->n++] = v[i];
		/*
		 * The thread takes no signal: a SIGINT or SIGTERM sent to the
		 * process must reach the thread that restores the terminal, not
		 * end it from here with the screen still taken.
		 */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		r = pthread_create(&w->th, NULL, warm_run, w);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (r == 0)
			return w;
		free(w);
	}
	/* No thread: what must be filled is filled here. */
	for (size_t i = 0; i < n; i++)
		if (v[i].p && v[i].how == WARM_FILL)
			memset(v[i].p, v[i].byte, v[i].len);
	return NULL;
}

void warm_join(struct warmer *w)
{
	if (!w)
		return;
	pthread_join(w->th, NULL);
	free(w);
}

void *big_realloc(void *p, size_t old, size_t len)
{
	size_t keep = old < len ? old : len;
	void *q;

	if (!p)
		return big_alloc(len);
	if (old < BIG_MIN && len < BIG_MIN)
		return xrealloc(p, len);
	/* Copying costs little next to the faults the huge pages save. */
	q = big_alloc(len);
	if (len >= BIG_MIN)
		big_huge(q, keep);
	memcpy(q, p, keep);
	big_free(p, old);
	return q;
}

void *xgrow_index(void *p, uint32_t *cap, uint32_t i, size_t size)
{
	uint32_t n = *cap ? *cap : 8;

	if (i < *cap)
		return p;
	while (n <= i) {
		if (n > UINT32_MAX / 2)
			oom(SIZE_MAX);
		n *= 2;
	}
	p = xreallocarray(p, n, size);
	memset((char *)p + (size_t)*cap * size, 0, (size_t)(n - *cap) * size);
	*cap = n;
	return p;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xmalloc(n), s, n);
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

int64_t mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

int64_t wall_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

int64_t thread_cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

/*
 * The number part of a duration in at most 5 columns, growing by unit. Each
 * step rounds first and falls through to the next unit when the rounded
 * figure would not fit ("9.996s" is "10.0s", not "10.00s").
 */
static void dur_body(char *buf, size_t len, int64_t ns, bool utf8)
{
	int64_t s, t;

	if (ns < 0)
		ns = 0;
	if ((t = (ns + 500) / 1000) < 1000) {
		snprintf(buf, len, "%d%s", (int)t, utf8 ? "\u00b5s" : "us");
		return;
	}
	if ((t = (ns + 50000) / 100000) < 100) {
		snprintf(buf, len, "%u.%ums", (unsigned)(t / 10) % 10u, (unsigned)(t % 10) % 10u);
		return;
	}
	if ((t = (ns + 5 * NS_PER_MS) / (10 * NS_PER_MS)) < 1000) {
		snprintf(buf, len, "%d.%02ds", (int)(t / 100), (int)(t % 100));
		return;
	}
	if ((t = (ns + 50 * NS_PER_MS) / (100 * NS_PER_MS)) < 600) {
		snprintf(buf, len, "%d.%ds", (int)(t / 10), (int)(t % 10));
		return;
	}
	s = (ns + NS_PER_SEC / 2) / NS_PER_SEC;
	if (s < 3600)
		snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%dh%02dm", (int)(s / 3600), (int)(s % 3600 / 60));
	else if (s < 100 * 86400)
		snprintf(buf, len, "%dd%02dh", (int)(s / 86400), (int)(s % 86400 / 3600));
	else
		snprintf(buf, len, "%dd", (int)(s / 86400));
}

/* Display columns of a string whose only multi-byte characters are µ and ≥. */
static int dur_cols(const char *s)
{
	int cols = 0;
	for (; *s; s++)
		cols += ((unsigned char)*s & 0xc0) != 0x80;
	return cols;
}

char *fmt_dur(char *buf, int64_t ns, enum time_kind kind, bool utf8)
{
	char body[16];
	const char *mark = kind == TIME_ATLEAST ? (utf8 ? "\u2265" : ">=") : "";
	int cols;

	dur_body(body, sizeof(body), ns, utf8);
	cols = dur_cols(body) + dur_cols(mark);
	snprintf(buf, DUR_BUFSZ, "%*s%s%s", cols < 6 ? 6 - cols : 0, "", mark, body);
	return buf;
}

size_t fmt_u64(char *buf, size_t len, uint64_t v)
{
	char d[20];
	size_t n = 0;

	do
		d[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	if (n >= len) {
		if (len)
			buf[0] = 0;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		buf[i] = d[n - 1 - i];
	buf[n] = 0;
	return n;
}

void fmt_digits(char *p, unsigned width, uint64_t v)
{
	while (width--) {
		p[width] = (char)('0' + v % 10);
		v /= 10;
	}
}

char *fmt_str(char *buf, size_t len, const char *s)
{
	size_t n = strlen(s);

	if (!len)
		return buf;
	if (n >= len)
		n = len - 1;
	memcpy(buf, s, n);
	buf[n] = 0;
	return buf;
}

char *fmt_secs(char *buf, size_t len, int64_t ns)
{
	/* Sign, up to 19 digits of seconds, a point and six: 28 bytes with the NUL. */
	char t[32];
	uint64_t u = ns < 0 ? -(uint64_t)ns : (uint64_t)ns, us = u % NS_PER_SEC / 1000;
	size_t n = 0;

	if (ns < 0)
		t[n++] = '-';
	n += fmt_u64(t + n, sizeof(t) - n, u / NS_PER_SEC);
	t[n++] = '.';
	fmt_digits(t + n, 6, us);
	t[n + 6] = 0;
	return fmt_str(buf, len, t);
}

char *fmt_ip(char *buf, size_t len, int family, const uint8_t *addr)
{
	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

char *fmt_addr(char *buf, size_t len, int family, const uint8_t *addr, uint16_t port)
{
	char t[INET6_ADDRSTRLEN + 10];
	size_t n = family == AF_INET6;

	t[0] = '[';
	fmt_ip(t + n, INET6_ADDRSTRLEN, family, addr);
	n += strlen(t + n);
	if (family == AF_INET6)
		t[n++] = ']';
	t[n++] = ':';
	fmt_u64(t + n, sizeof(t) - n, port);
	return fmt_str(buf, len, t);
}

/* Length of a valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond Unicode, and C1 controls encoded as UTF-8. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return len;
}

/* The letter of a character's short escape ("\\n"), or NULL: then "\\xNN". */
static const char *named_escape(unsigned char c)
{
	switch (c) {
	case '\\':
		return "\\";
	case 0x1b:
		return "e";
	case '\a':
		return "a";
	case '\n':
		return "n";
	case '\r':
		return "r";
	case '\t':
		return "t";
	default:
		return NULL;
	}
}

char *sanitize(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0;

	if (!dstlen)
		return dst;
	if (srclen == (size_t)-1)
		srclen = strlen(src);
	for (size_t i = 0; i < srclen && s[i];) {
		char esc[8];
		size_t n = utf8_len(s + i, srclen - i), elen;

		if (n == 1 && s[i] >= 0x20 && s[i] != 0x7f && s[i] != '\\') {
			esc[0] = (char)s[i], elen = 1;
		} else if (n > 1) {
			if (o + n >= dstlen)
				break;
			memcpy(dst + o, s + i, n);
			o += n, i += n;
			continue;
		} else {
			const char *name = named_escape(s[i]);

			elen = name ? (size_t)snprintf(esc, sizeof(esc), "\\%s", name)
				    : (size_t)snprintf(esc, sizeof(esc), "\\x%02x", s[i]);
		}
		if (o + elen >= dstlen)
			break;
		memcpy(dst + o, esc, elen);
		o += elen, i++;
	}
	dst[o] = '\0';
	return dst;
}

int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b < 0 ? INT64_MIN : INT64_MAX;
	return r;
}

int64_t sat_secs(int64_t s)
{
	int64_t r;

	if (__builtin_mul_overflow(s, NS_PER_SEC, &r))
		return s < 0 ? INT64_MIN : INT64_MAX;
	return r;
}

int64_t parse_duration(const char *s)
{
	char *end;
	double v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0 || v != v)
		return -1;
	if (!*end || !strcmp(end, "s"))
		;
	else if (!strcmp(end, "ms"))
		v /= 1000;
	else if (!strcmp(end, "us") || !strcmp(end, "µs"))
		v /= 1e6;
	else if (!strcmp(end, "m"))
		v *= 60;
	else if (!strcmp(end, "h"))
		v *= 3600;
	else
		return -1;
	if (v > 1e9)
		return -1;
	return (int64_t)(v * NS_PER_SEC + 0.5);
}

static bool due_before(const struct due *a, const struct due *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

void dueheap_push(struct dueheap *h, int64_t at, uint32_t id)
{
	struct due x = {at, h->seq++, id};
	size_t i;

	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 64;
		h->v = xreallocarray(h->v, h->cap, sizeof(*h->v));
	}
	for (i = h->n++; i > 0 && due_before(&x, &h->v[(i - 1) / 2]); i = (i - 1) / 2)
		h->v[i] = h->v[(i - 1) / 2];
	h->v[i] = x;
}

uint32_t dueheap_pop(struct dueheap *h)
{
	struct due last = h->v[--h->n];
	uint32_t id = h->v[0].id;
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && due_before(&h->v[c + 1], &h->v[c]))
			c++;
		if (!due_before(&h->v[c], &last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
	return id;
}

void dueheap_free(struct dueheap *h)
{
	free(h->v);
	*h = (struct dueheap){0};
}
