#include "config.h"
#include "exact.h"
#include "util.h"

/*
 * The pure half of the exact source: the tracepoint's format file, raw
 * records, perf samples and the ring walk. Nothing here touches the kernel,
 * so the unit tests drive it with saved and crafted input.
 */

#include <ctype.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/*
 * The fields we use, by their names in the format file, with the size each
 * must have (0: any integer size). protocol is optional: kernels before it
 * was added fired the tracepoint for TCP only; skaddr only helps.
 */
static const struct {
	const char *name;
	size_t off;
	unsigned want;
	bool optional;
} fields[] = {
	{ "oldstate", offsetof(struct exact_format, oldstate), 0, false },
	{ "newstate", offsetof(struct exact_format, newstate), 0, false },
	{ "sport", offsetof(struct exact_format, sport), 0, false },
	{ "dport", offsetof(struct exact_format, dport), 0, false },
	{ "family", offsetof(struct exact_format, family), 0, false },
	{ "protocol", offsetof(struct exact_format, protocol), 0, true },
	{ "saddr", offsetof(struct exact_format, saddr), 4, false },
	{ "daddr", offsetof(struct exact_format, daddr), 4, false },
	{ "saddr_v6", offsetof(struct exact_format, saddr_v6), 16, false },
	{ "daddr_v6", offsetof(struct exact_format, daddr_v6), 16, false },
	{ "skaddr", offsetof(struct exact_format, skaddr), 0, true },
};

static struct exact_field *field_at(struct exact_format *f, size_t i)
{
	return (struct exact_field *)((char *)f + fields[i].off);
}

static struct exact_field *field_slot(struct exact_format *f, const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		if (strlen(fields[i].name) == len && memcmp(fields[i].name, name, len) == 0)
			return field_at(f, i);
	}
	return NULL;
}

/* "key:123;" somewhere in [p, end): the number, or -1. */
static long field_attr(const char *p, const char *end, const char *key)
{
	size_t klen = strlen(key);
	for (; p + klen <= end; p++) {
		if (memcmp(p, key, klen) != 0)
			continue;
		char *stop;
		errno = 0;
		long v = strtol(p + klen, &stop, 10);
		if (stop == p + klen || errno || v < 0 || v > 65535 || stop > end)
			return -1;
		return v;
	}
	return -1;
}

/* One "field:TYPE NAME;\toffset:N;\tsize:N;\tsigned:N;" line, [p, end). */
static void parse_field_line(struct exact_format *f, const char *p, const char *end)
{
	const char *decl_end = memchr(p, ';', (size_t)(end - p));
	if (!decl_end)
		return;
	/* The name is the last identifier of the declaration, before any [N]. */
	const char *n_end = decl_end;
	while (n_end > p && isspace((unsigned char)n_end[-1]))
		n_end--;
	if (n_end > p && n_end[-1] == ']') {
		while (n_end > p && n_end[-1] != '[')
			n_end--;
		if (n_end > p)
			n_end--;
	}
	const char *n_start = n_end;
	while (n_start > p && (isalnum((unsigned char)n_start[-1]) || n_start[-1] == '_'))
		n_start--;
	if (n_start == n_end)
		return;
	struct exact_field *slot = field_slot(f, n_start, (size_t)(n_end - n_start));
	if (!slot)
		return;
	long off = field_attr(decl_end, end, "offset:");
	long size = field_attr(decl_end, end, "size:");
	long sgn = field_attr(decl_end, end, "signed:");
	if (off < 0 || size <= 0)
		return;
	slot->offset = (uint16_t)off;
	slot->size = (uint16_t)size;
	slot->is_signed = sgn == 1;
	slot->present = true;
}

static bool int_size(unsigned size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

/* Check one field: present (unless optional) and of a size we can read. */
static bool check_field(struct exact_format *f, const struct exact_field *fl, const char *name,
			unsigned want, bool optional, char *err, size_t errlen)
{
	if (!fl->present) {
		if (optional)
			return true;
		snprintf(err, errlen,
			 "the kernel's sock:inet_sock_set_state format has no field '%s': "
			 "this kernel's tracepoint cannot be decoded (use --source poll)",
			 name);
		return false;
	}
	if (want ? fl->size != want : !int_size(fl->size)) {
		snprintf(err, errlen,
			 "the kernel's sock:inet_sock_set_state field '%s' has size %u, expected %s: "
			 "this kernel's tracepoint cannot be decoded (use --source poll)",
			 name, fl->size, want == 16 ? "16" : want == 4 ? "4" : "1, 2, 4 or 8");
		return false;
	}
	if ((size_t)fl->offset + fl->size > f->need)
		f->need = (size_t)fl->offset + fl->size;
	return true;
}

int exact_parse_format(const char *text, struct exact_format *f, char *err, size_t errlen)
{
	memset(f, 0, sizeof(*f));
	for (const char *p = text; *p;) {
		const char *end = strchr(p, '\n');
		if (!end)
			end = p + strlen(p);
		const char *q = p;
		while (q < end && isspace((unsigned char)*q))
			q++;
		if ((size_t)(end - q) > 6 && memcmp(q, "field:", 6) == 0) {
			parse_field_line(f, q + 6, end);
		} else if ((size_t)(end - q) > 3 && memcmp(q, "ID:", 3) == 0) {
			unsigned long id = strtoul(q + 3, NULL, 10);
			f->id = id <= UINT32_MAX ? (uint32_t)id : 0;
		}
		p = *end ? end + 1 : end;
	}
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		if (!check_field(f, field_at(f, i), fields[i].name, fields[i].want,
				 fields[i].optional, err, errlen))
			return -1;
	}
	return 0;
}

/* An integer field of the raw record, sign-extended where the format says signed. */
static int64_t read_int(const uint8_t *raw, const struct exact_field *fl)
{
	const uint8_t *p = raw + fl->offset;
	switch (fl->size) {
	case 1: {
		uint8_t v = p[0];
		return fl->is_signed ? (int64_t)(int8_t)v : (int64_t)v;
	}
	case 2: {
		uint16_t v;
		memcpy(&v, p, 2);
		return fl->is_signed ? (int64_t)(int16_t)v : (int64_t)v;
	}
	case 4: {
		uint32_t v;
		memcpy(&v, p, 4);
		return fl->is_signed ? (int64_t)(int32_t)v : (int64_t)v;
	}
	default: {
		uint64_t v;
		memcpy(&v, p, 8);
		/* Unsigned values past INT64_MAX are out of every range we accept. */
		return fl->is_signed || v <= INT64_MAX ? (int64_t)v : -1;
	}
	}
}

/* A kernel address: as unsigned bytes of its own size (kernel pointers have the top bit set). */
static uint64_t read_addr(const uint8_t *raw, const struct exact_field *fl)
{
	if (!fl->present)
		return 0;
	if (fl->size == 8) {
		uint64_t v;
		memcpy(&v, raw + fl->offset, 8);
		return v;
	}
	if (fl->size == 4) {
		uint32_t v;
		memcpy(&v, raw + fl->offset, 4);
		return v;
	}
	return (uint64_t)read_int(raw, fl);
}

int exact_decode_raw(const struct exact_format *f, const uint8_t *raw, size_t len, struct obs *o,
		     uint64_t *sk)
{
	if (!raw || len < f->need)
		return -1;
	if (f->protocol.present && read_int(raw, &f->protocol) != IPPROTO_TCP)
		return 0;
	int64_t family = read_int(raw, &f->family);
	if (family != AF_INET && family != AF_INET6)
		return 0;
	int64_t from = read_int(raw, &f->oldstate), to = read_int(raw, &f->newstate);
	int64_t sport = read_int(raw, &f->sport), dport = read_int(raw, &f->dport);
	if (from < 0 || from > UINT8_MAX || to < 0 || to > UINT8_MAX)
		return -1;
	if (sport < 0 || sport > UINT16_MAX || dport < 0 || dport > UINT16_MAX)
		return -1;

	memset(&o->key, 0, sizeof(o->key));
	o->kind = OBS_CHANGE;
	o->key.family = (uint8_t)family;
	/* The tracepoint stores ports already in host byte order (ntohs in the kernel). */
	o->key.sport = (uint16_t)sport;
	o->key.dport = (uint16_t)dport;
	if (family == AF_INET) {
		memcpy(o->key.src, raw + f->saddr.offset, 4);
		memcpy(o->key.dst, raw + f->daddr.offset, 4);
	} else {
		memcpy(o->key.src, raw + f->saddr_v6.offset, 16);
		memcpy(o->key.dst, raw + f->daddr_v6.offset, 16);
	}
	o->from = (uint8_t)from;
	o->to = (uint8_t)to;
	if (sk)
		*sk = read_addr(raw, &f->skaddr);
	return 1;
}

int exact_decode_sample(const struct exact_format *f, const uint8_t *rec, size_t len,
			struct obs *o, uint64_t *sk)
{
	struct perf_event_header h;
	uint64_t time;
	uint32_t rawlen;
	const size_t fixed = sizeof(h) + sizeof(time) + sizeof(rawlen);

	if (!rec || len < fixed)
		return -1;
	memcpy(&h, rec, sizeof(h));
	if (h.type != PERF_RECORD_SAMPLE || h.size < fixed || h.size > len)
		return -1;
	memcpy(&time, rec + sizeof(h), sizeof(time));
	memcpy(&rawlen, rec + sizeof(h) + sizeof(time), sizeof(rawlen));
	if (rawlen > h.size - fixed || time > INT64_MAX)
		return -1;
	int r = exact_decode_raw(f, rec + fixed, rawlen, o, sk);
	if (r == 1)
		o->mono = (int64_t)time;
	return r;
}

int exact_ring_walk(const uint8_t *data, uint64_t size, uint64_t tail, uint64_t head,
		    uint8_t *scratch, exact_record_fn fn, void *ctx)
{
	int n = 0;

	/* More unread than the ring holds means the positions are not to be trusted. */
	if (size == 0 || (size & (size - 1)) || head - tail > size)
		return -1;
	for (uint64_t pos = tail; pos != head;) {
		struct perf_event_header h;
		uint64_t avail = head - pos;
		if (avail < sizeof(h))
			return -1;
		/* Byte by byte: the header itself may straddle the end. */
		for (size_t i = 0; i < sizeof(h); i++)
			((uint8_t *)&h)[i] = data[(pos + i) & (size - 1)];
		if (h.size < sizeof(h) || h.size > avail)
			return -1;
		uint64_t off = pos & (size - 1);
		if (off + h.size <= size) {
			fn(ctx, data + off, h.size);
		} else {
			size_t first = (size_t)(size - off);
			memcpy(scratch, data + off, first);
			memcpy(scratch + first, data, h.size - first);
			fn(ctx, scratch, h.size);
		}
		pos += h.size;
		n++;
	}
	return n;
}

uint64_t exact_lost(const uint8_t *rec, size_t len)
{
	struct perf_event_header h;
	uint64_t n;

	/* header, u64 id, u64 lost (no sample_id_all fields: we do not ask for them) */
	if (!rec || len < sizeof(h) + 2 * sizeof(n))
		return 0;
	memcpy(&h, rec, sizeof(h));
	if (h.type != PERF_RECORD_LOST || h.size < sizeof(h) + 2 * sizeof(n))
		return 0;
	memcpy(&n, rec + sizeof(h) + sizeof(n), sizeof(n));
	return n;
}

static int pending_cmp(const void *a, const void *b)
{
	const struct exact_pending *p = a, *q = b;
	if (p->o.mono != q->o.mono)
		return p->o.mono < q->o.mono ? -1 : 1;
	return p->seq < q->seq ? -1 : p->seq > q->seq;
}

static bool needs_port(const struct exact_pending *e)
{
	return e->sk && e->o.to == ST_SYN_SENT && e->o.key.sport == 0;
}

size_t exact_release(struct exact_pending *v, size_t n, int64_t settled, int64_t hold_until,
		     exact_obs_fn fn, void *ctx)
{
	static const uint8_t zero[16];
	size_t kept = 0;

	/* Nothing pending may come as NULL: qsort must not see it. */
	if (n)
		qsort(v, n, sizeof(*v), pending_cmp);
	for (size_t i = 0; i < n; i++) {
		struct exact_pending e = v[i];
		if (e.o.mono > settled) {
			v[kept++] = e;
			continue;
		}
		if (needs_port(&e)) {
			size_t j = i + 1;
			while (j < n && v[j].sk != e.sk)
				j++;
			if (j < n) {
				e.o.key.sport = v[j].o.key.sport;
				if (memcmp(e.o.key.src, zero, sizeof(zero)) == 0)
					memcpy(e.o.key.src, v[j].o.key.src, sizeof(e.o.key.src));
			} else if (e.o.mono > hold_until) {
				v[kept++] = e;
				continue;
			}
		}
		fn(ctx, &e.o);
	}
	return kept;
}

int exact_parse_cpus(const char *s, int *cpus, int max)
{
	int n = 0;
	const char *p = s;

	while (*p && *p != '\n') {
		char *stop;
		if (!isdigit((unsigned char)*p))
			return -1;
		long lo = strtol(p, &stop, 10), hi = lo;
		p = stop;
		if (*p == '-') {
			if (!isdigit((unsigned char)p[1]))
				return -1;
			hi = strtol(p + 1, &stop, 10);
			p = stop;
		}
		if (lo < 0 || hi < lo || hi > 65535)
			return -1;
		for (long c = lo; c <= hi; c++) {
			if (n >= max)
				return -1;
			cpus[n++] = (int)c;
		}
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return -1;
	}
	return n;
}
