#include "config.h"
#include "sock.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "util.h"

/* Each state's names, once: the kernel's spelling, and one of at most 8 columns in the style of ss.
 */
static const struct {
	const char *name, *short_name;
} st_names[ST_MAX] = {
    [ST_UNKNOWN] = {"UNKNOWN", "?"},
    [ST_ESTABLISHED] = {"ESTABLISHED", "ESTAB"},
    [ST_SYN_SENT] = {"SYN_SENT", "SYN-SENT"},
    [ST_SYN_RECV] = {"SYN_RECV", "SYN-RECV"},
    [ST_FIN_WAIT1] = {"FIN_WAIT_1", "FIN-WT-1"},
    [ST_FIN_WAIT2] = {"FIN_WAIT_2", "FIN-WT-2"},
    [ST_TIME_WAIT] = {"TIME_WAIT", "TIME-WT"},
    [ST_CLOSE] = {"CLOSED", "CLOSED"},
    [ST_CLOSE_WAIT] = {"CLOSE_WAIT", "CLOSE-WT"},
    [ST_LAST_ACK] = {"LAST_ACK", "LAST-ACK"},
    [ST_LISTEN] = {"LISTEN", "LISTEN"},
    [ST_CLOSING] = {"CLOSING", "CLOSING"},
    [ST_NEW_SYN_RECV] = {"NEW_SYN_RECV", "NSYN-RCV"},
};

const uint8_t st_order[] = {
	ST_LISTEN,     ST_SYN_SENT,   ST_SYN_RECV, ST_NEW_SYN_RECV, ST_ESTABLISHED, ST_FIN_WAIT1,
	ST_FIN_WAIT2,  ST_CLOSE_WAIT, ST_CLOSING,  ST_LAST_ACK,	    ST_TIME_WAIT,   ST_CLOSE,
	ST_UNKNOWN,
};
const size_t st_order_len = sizeof(st_order);

const char *st_name(unsigned st)
{
	/* Out-of-range numbers come from the kernel or a file: name them, never index past. */
	static char ring[4][20];
	static unsigned next;
	char *b;

	if (st > ST_UNKNOWN && st < ST_MAX)
		return st_names[st].name;
	/* The state before a socket's first sight: it lived and died between polls. */
	if (st == ST_UNKNOWN)
		return "UNSEEN";
	b = ring[next++ % 4];
	snprintf(b, sizeof(ring[0]), "UNKNOWN(%u)", st);
	return b;
}

int st_parse(const char *s)
{
	char want[24], have[24];
	size_t n = 0;

	/* Compare without case, '-' and '_': fin-wait-1, FIN_WAIT_1, finwait1. */
	for (const char *p = s; *p && n < sizeof(want) - 1; p++)
		if (*p != '-' && *p != '_')
			want[n++] = (char)toupper((unsigned char)*p);
	want[n] = '\0';
	if (!strcmp(want, "CLOSE"))
		return ST_CLOSE;
	if (!strcmp(want, "SYNRCVD"))
		return ST_SYN_RECV;
	for (unsigned st = 1; st < ST_MAX; st++) {
		n = 0;
		for (const char *p = st_names[st].name; *p; p++)
			if (*p != '_')
				have[n++] = *p;
		have[n] = '\0';
		if (!strcmp(want, have))
			return (int)st;
	}
	return -1;
}

unsigned st_rank(unsigned st)
{
	for (unsigned i = 0; i < st_order_len; i++)
		if (st_order[i] == st)
			return i;
	return ST_MAX;
}

const char *st_short(unsigned st)
{
	return st < ST_MAX && st_names[st].short_name ? st_names[st].short_name : "?";
}

const char *timer_name(unsigned t)
{
	static const char *const names[] = { "-", "retrans", "keepalive", "timewait", "probe" };
	return t < ARRAY_SIZE(names) ? names[t] : "?";
}

void sock_key(const struct sock *s, struct sock_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = s->family;
	k->sport = s->sport;
	k->dport = s->dport;
	memcpy(k->src, s->src, sizeof(k->src));
	memcpy(k->dst, s->dst, sizeof(k->dst));
	k->netns = s->netns;
}

static uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t load32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h = (h ^ v) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

/*
 * A word at a time, each folded in by one multiply, then a final mix so
 * that low bits spread: every row of a first dump is hashed (a byte at a
 * time, 160,000 rows took 3 ms).
 */
static uint64_t tuple_hash(uint8_t family, uint16_t sport, uint16_t dport, const uint8_t *src,
			   const uint8_t *dst, uint32_t netns)
{
	uint64_t h = mix((uint64_t)sport << 32 | (uint64_t)dport << 16 | family, netns);

	if (family == AF_INET6) {
		h = mix(h, load64(src));
		h = mix(h, load64(src + 8));
		h = mix(h, load64(dst));
		h = mix(h, load64(dst + 8));
	} else {
		h = mix(h, (uint64_t)load32(src) << 32 | load32(dst));
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

uint64_t sock_key_hash(const struct sock_key *k)
{
	return tuple_hash(k->family, k->sport, k->dport, k->src, k->dst, k->netns);
}

uint64_t sock_hash(const struct sock *s)
{
	return tuple_hash(s->family, s->sport, s->dport, s->src, s->dst, s->netns);
}

bool sock_key_eq(const struct sock_key *a, const struct sock_key *b)
{
	size_t alen = a->family == AF_INET6 ? 16 : 4;

	return a->family == b->family && a->sport == b->sport && a->dport == b->dport &&
	       a->netns == b->netns && !memcmp(a->src, b->src, alen) &&
	       !memcmp(a->dst, b->dst, alen);
}

void snapshot_init(struct snapshot *sn)
{
	memset(sn, 0, sizeof(*sn));
}

void snapshot_clear(struct snapshot *sn)
{
	sn->n = 0;
	sn->complete = false;
	sn->unique = false;
	sn->states = 0;
	sn->nns = 0;
}

void snapshot_cover(struct snapshot *sn, uint32_t ns)
{
	if (sn->nns == sn->ns_cap) {
		sn->ns_cap = sn->ns_cap ? sn->ns_cap * 2 : 8;
		sn->ns = xreallocarray(sn->ns, sn->ns_cap, sizeof(*sn->ns));
	}
	sn->ns[sn->nns++] = ns;
}

bool snapshot_covers(const struct snapshot *sn, uint32_t ns)
{
	if (!sn->nns)
		return ns == 0;
	for (uint32_t i = 0; i < sn->nns; i++)
		if (sn->ns[i] == ns)
			return true;
	return false;
}

void snapshot_timers_since(struct snapshot *sn, size_t first, int64_t late)
{
	uint32_t ms = (uint32_t)((late + NS_PER_MS / 2) / NS_PER_MS);

	if (late <= 0 || !ms)
		return;
	for (size_t i = first; i < sn->n; i++) {
		struct sock *r = &sn->v[i];

		/* Time left then: more by the delay, up to what a u32 of ms holds. */
		if (r->timer != TM_NONE)
			r->expires_ms = r->expires_ms > UINT32_MAX - ms ? UINT32_MAX : r->expires_ms + ms;
		/* Time since the last ACK then: less by the delay; an ACK during it, just now. */
		if (r->has_info && sn->with_info && sn->info)
			sn->info[i].last_ack_recv_ms =
			    sn->info[i].last_ack_recv_ms > ms ? sn->info[i].last_ack_recv_ms - ms : 0;
	}
}

void snapshot_append(struct snapshot *d, const struct snapshot *s, uint32_t ns)
{
	bool info = d->with_info && s->with_info && s->info;
	size_t first = d->n;

	snapshot_grow(d, d->n + s->n);
	for (size_t i = 0; i < s->n; i++) {
		d->v[d->n + i] = s->v[i];
		d->v[d->n + i].netns = ns;
		if (info)
			d->info[d->n + i] = s->info[i];
		else if (d->with_info)
			d->v[d->n + i].has_info = 0;
	}
	d->n += s->n;
	snapshot_timers_since(d, first, s->mono - d->mono);
}

#define PREFAULT_WINDOW ((size_t)256 << 10)

/*
 * A snapshot grows ahead of its rows, its new pages untouched: filled row
 * by row, each page would cost a fault, some microseconds on a virtual
 * machine, and a first dump of 160,000 rows touches 3,100 pages. Where a
 * row starts a new window of PREFAULT_WINDOW bytes, the window's pages are
 * put in at once; at most one window is resident before rows need it.
 * Later dumps find the pages in place.
 */
static void prefault(const struct snapshot *sn)
{
	size_t sz = sizeof(*sn->v), off = sn->n * sz, end = sn->cap * sz;

	if ((off & (PREFAULT_WINDOW - 1)) >= sz || end < PREFAULT_WINDOW)
		return;
	if (end > (off | (PREFAULT_WINDOW - 1)) + 1)
		end = (off | (PREFAULT_WINDOW - 1)) + 1;
	populate((char *)sn->v + off, end - off);
}

void snapshot_grow(struct snapshot *sn, size_t n)
{
	size_t cap = sn->cap ? sn->cap : 256;

	while (cap < n)
		cap *= 2;
	if (cap > SIZE_MAX / sizeof(*sn->info))
		abort(); /* more rows than memory can name */
	if (cap != sn->cap || !sn->v) {
		sn->v = big_realloc(sn->v, sn->cap * sizeof(*sn->v), cap * sizeof(*sn->v));
		if (sn->info)
			sn->info = big_realloc(sn->info, sn->cap * sizeof(*sn->info),
					       cap * sizeof(*sn->info));
		sn->cap = cap;
	}
	/* The info array follows the rows' capacity; it is made only when asked for. */
	if (sn->with_info && !sn->info)
		sn->info = big_alloc(sn->cap * sizeof(*sn->info));
}

struct span snapshot_expect(struct snapshot *sn, size_t rows)
{
	/* What is surely filled goes in huge pages; an estimate may be a little high. */
	size_t sure = rows - rows / 16;
	struct span sp;

	if (sn->cap >= rows || sure <= sn->n || rows > SIZE_MAX / 2 / sizeof(*sn->info))
		return (struct span){ .p = NULL };
	snapshot_grow(sn, rows + rows / 8);
	sp = (struct span){ .p = sn->v + sn->n, .len = (sure - sn->n) * sizeof(*sn->v) };
	big_huge(sp.p, sp.len);
	if (sn->info)
		big_huge(sn->info + sn->n, (sure - sn->n) * sizeof(*sn->info));
	return sp;
}

struct sock *snapshot_reserve(struct snapshot *sn)
{
	if (sn->n == sn->cap || (sn->with_info && !sn->info))
		snapshot_grow(sn, sn->n + 1);
	prefault(sn);
	return &sn->v[sn->n++];
}

void snapshot_copy(struct snapshot *d, const struct snapshot *s)
{
	d->with_info = s->with_info && s->info;
	snapshot_clear(d);
	snapshot_grow(d, s->n);
	if (s->n) {
		memcpy(d->v, s->v, s->n * sizeof(*s->v));
		if (d->with_info)
			memcpy(d->info, s->info, s->n * sizeof(*s->info));
	}
	d->n = s->n;
	d->mono = s->mono;
	d->wall = s->wall;
	d->states = s->states;
	d->complete = s->complete;
	d->unique = s->unique;
	for (uint32_t i = 0; i < s->nns; i++)
		snapshot_cover(d, s->ns[i]);
}

void info_ring_put(struct info_ring *r, uint64_t cookie, const struct sock_info *in)
{
	r->v[r->n % INFO_RING].cookie = cookie;
	r->v[r->n % INFO_RING].info = *in;
	r->n++;
}

bool info_ring_get(const struct info_ring *r, uint64_t cookie, struct sock_info *out)
{
	unsigned kept = r->n < INFO_RING ? r->n : INFO_RING;

	/* Newest first: a cookie is never reused, but the latest figures win anyway. */
	for (unsigned i = 1; cookie && i <= kept; i++)
		if (r->v[(r->n - i) % INFO_RING].cookie == cookie) {
			*out = r->v[(r->n - i) % INFO_RING].info;
			return true;
		}
	return false;
}

const struct sock_info *snapshot_info(const struct snapshot *sn, size_t i)
{
	return sn->with_info && sn->info && i < sn->n && sn->v[i].has_info ? &sn->info[i] : NULL;
}

struct sock *snapshot_push(struct snapshot *sn)
{
	struct sock *s = snapshot_reserve(sn);

	memset(s, 0, sizeof(*s));
	return s;
}

void snapshot_free(struct snapshot *sn)
{
	big_free(sn->v, sn->cap * sizeof(*sn->v));
	big_free(sn->info, sn->cap * sizeof(*sn->info));
	free(sn->ns);
	snapshot_init(sn);
}
