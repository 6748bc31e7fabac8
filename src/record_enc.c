/* record_enc.c - byte-level encoding of recordings: checksum, integers, sockets, deltas. */
#include "config.h"
#include "record_fmt.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* CRC-32 as zlib and PNG compute it (reflected polynomial 0xEDB88320). */
static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t record_crc32(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (!crc_table[1])
		crc_init();
	crc = ~crc;
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

void record_put_le(uint8_t *p, uint64_t v, unsigned width)
{
	for (unsigned i = 0; i < width; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint64_t record_get_le(const uint8_t *p, unsigned width)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < width; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void rbuf_put(struct rbuf *b, const void *p, size_t n)
{
	if (!n)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void rbuf_le(struct rbuf *b, uint64_t v, unsigned width)
{
	uint8_t tmp[8];

	record_put_le(tmp, v, width);
	rbuf_put(b, tmp, width);
}

void rbuf_u8(struct rbuf *b, uint8_t v)
{
	rbuf_put(b, &v, 1);
}

void rbuf_u16(struct rbuf *b, uint16_t v)
{
	rbuf_le(b, v, 2);
}

void rbuf_u32(struct rbuf *b, uint32_t v)
{
	rbuf_le(b, v, 4);
}

void rbuf_u64(struct rbuf *b, uint64_t v)
{
	rbuf_le(b, v, 8);
}

void rbuf_str(struct rbuf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n > RECORD_STR_MAX)
		n = RECORD_STR_MAX;
	rbuf_u16(b, (uint16_t)n);
	rbuf_put(b, s, n);
}

void rbuf_free(struct rbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

const uint8_t *rcur_bytes(struct rcur *c, size_t n)
{
	if (c->bad || n > c->len - c->pos) {
		c->bad = true;
		return NULL;
	}
	c->pos += n;
	return c->p + c->pos - n;
}

static uint64_t rcur_le(struct rcur *c, unsigned width)
{
	const uint8_t *p = rcur_bytes(c, width);

	return p ? record_get_le(p, width) : 0;
}

uint8_t rcur_u8(struct rcur *c)
{
	return (uint8_t)rcur_le(c, 1);
}

uint16_t rcur_u16(struct rcur *c)
{
	return (uint16_t)rcur_le(c, 2);
}

uint32_t rcur_u32(struct rcur *c)
{
	return (uint32_t)rcur_le(c, 4);
}

uint64_t rcur_u64(struct rcur *c)
{
	return rcur_le(c, 8);
}

void rcur_str(struct rcur *c, char *dst, size_t dstlen)
{
	uint16_t n = rcur_u16(c);
	const uint8_t *p;

	if (n > RECORD_STR_MAX)
		c->bad = true;
	p = rcur_bytes(c, n);
	sanitize(dst, dstlen, p ? (const char *)p : "", p ? n : 0);
}

/*
 * The fields of a row (struct sock, then its tcp_info) in the order they are stored. pred says how a
 * field moves by itself between two dumps: a timer counts down, the time
 * since the last data counts up.
 */
enum { PRED_NONE, PRED_DOWN, PRED_UP };
struct field {
	uint16_t off;
	uint8_t width;
	uint8_t pred;
};
#define F(m, p) {offsetof(struct rrow, s.m), sizeof(((struct rrow *)0)->s.m), p}
#define I(m, p) {offsetof(struct rrow, info.m), sizeof(((struct rrow *)0)->info.m), p}
static const struct field fields[] = {
	F(cookie, PRED_NONE),
	F(family, PRED_NONE),
	F(state, PRED_NONE),
	F(timer, PRED_NONE),
	F(retrans, PRED_NONE),
	F(has_info, PRED_NONE),
	F(sport, PRED_NONE),
	F(dport, PRED_NONE),
	F(src, PRED_NONE),
	F(dst, PRED_NONE),
	F(ifindex, PRED_NONE),
	F(expires_ms, PRED_DOWN),
	F(rqueue, PRED_NONE),
	F(wqueue, PRED_NONE),
	F(uid, PRED_NONE),
	F(inode, PRED_NONE),
	F(netns, PRED_NONE),
	I(rtt_us, PRED_NONE),
	I(rttvar_us, PRED_NONE),
	I(snd_cwnd, PRED_NONE),
	I(snd_mss, PRED_NONE),
	I(rcv_mss, PRED_NONE),
	I(unacked, PRED_NONE),
	I(lost, PRED_NONE),
	I(retrans, PRED_NONE),
	I(total_retrans, PRED_NONE),
	I(ca_state, PRED_NONE),
	I(backoff, PRED_NONE),
	I(probes, PRED_NONE),
	I(bytes_acked, PRED_NONE),
	I(bytes_received, PRED_NONE),
	I(bytes_sent, PRED_NONE),
	I(bytes_retrans, PRED_NONE),
	I(segs_out, PRED_NONE),
	I(segs_in, PRED_NONE),
	I(last_data_recv_ms, PRED_UP),
	I(last_data_sent_ms, PRED_UP),
};
#undef F
#undef I
#define NFIELDS ARRAY_SIZE(fields)
/* The arrays (addresses) are stored as bytes; every other field is an integer. */
#define IS_BYTES(f) ((f)->width > 8)
/* How far a predicted clock field may drift before it is recorded again. */
#define PRED_TOLERANCE_MS 100

static uint64_t field_get(const struct rrow *s, const struct field *f)
{
	const uint8_t *p = (const uint8_t *)s + f->off;

	switch (f->width) {
	case 1:
		return *p;
	case 2: {
		uint16_t v;
		memcpy(&v, p, 2);
		return v;
	}
	case 4: {
		uint32_t v;
		memcpy(&v, p, 4);
		return v;
	}
	default: {
		uint64_t v;
		memcpy(&v, p, 8);
		return v;
	}
	}
}

static void field_set(struct rrow *s, const struct field *f, uint64_t v)
{
	uint8_t *p = (uint8_t *)s + f->off;

	switch (f->width) {
	case 1:
		*p = (uint8_t)v;
		break;
	case 2: {
		uint16_t x = (uint16_t)v;
		memcpy(p, &x, 2);
		break;
	}
	case 4: {
		uint32_t x = (uint32_t)v;
		memcpy(p, &x, 4);
		break;
	}
	default:
		memcpy(p, &v, 8);
		break;
	}
}

static uint64_t width_mask(unsigned width)
{
	return width >= 8 ? UINT64_MAX : (1ull << (8 * width)) - 1;
}

/*
 * Columns: each field of every socket in turn, integers as the difference
 * from the socket before (mod 2^width), which turns runs of equal states,
 * addresses and nearby cookies into runs of zeros for the compressor.
 */
void record_put_socks(struct rbuf *b, const struct rrow *v, size_t n)
{
	for (size_t k = 0; k < NFIELDS; k++) {
		const struct field *f = &fields[k];
		uint64_t prev = 0;

		for (size_t i = 0; i < n; i++) {
			if (IS_BYTES(f)) {
				rbuf_put(b, (const uint8_t *)&v[i] + f->off, f->width);
				continue;
			}
			uint64_t x = field_get(&v[i], f);
			rbuf_le(b, (x - prev) & width_mask(f->width), f->width);
			prev = x;
		}
	}
}

int record_get_socks(struct rcur *c, struct rrow *v, size_t n)
{
	memset(v, 0, n * sizeof(*v));
	for (size_t k = 0; k < NFIELDS; k++) {
		const struct field *f = &fields[k];
		uint64_t prev = 0;

		if (n > rcur_left(c) / f->width) {
			c->bad = true;
			return -1;
		}
		for (size_t i = 0; i < n; i++) {
			const uint8_t *p = rcur_bytes(c, f->width);
			if (IS_BYTES(f)) {
				memcpy((uint8_t *)&v[i] + f->off, p, f->width);
				continue;
			}
			prev = (prev + record_get_le(p, f->width)) & width_mask(f->width);
			field_set(&v[i], f, prev);
		}
	}
	return c->bad ? -1 : 0;
}

void record_put_key(struct rbuf *b, const struct sock_key *k)
{
	rbuf_u8(b, k->family);
	rbuf_u16(b, k->sport);
	rbuf_u16(b, k->dport);
	rbuf_put(b, k->src, 16);
	rbuf_put(b, k->dst, 16);
	rbuf_u32(b, k->netns);
}

void record_get_key(struct rcur *c, struct sock_key *k)
{
	const uint8_t *p;

	memset(k, 0, sizeof(*k));
	k->family = rcur_u8(c);
	k->sport = rcur_u16(c);
	k->dport = rcur_u16(c);
	if ((p = rcur_bytes(c, 16)))
		memcpy(k->src, p, 16);
	if ((p = rcur_bytes(c, 16)))
		memcpy(k->dst, p, 16);
	k->netns = rcur_u32(c);
}

/* The value a field is expected to have elapsed_ms after base. */
static uint64_t field_pred(const struct rrow *base, const struct field *f, int64_t elapsed_ms)
{
	uint64_t v = field_get(base, f);

	switch (f->pred) {
	case PRED_DOWN:
		if (base->s.timer == TM_NONE)
			return v;
		return v > (uint64_t)elapsed_ms ? v - (uint64_t)elapsed_ms : 0;
	case PRED_UP:
		if (!base->s.has_info)
			return v;
		v += (uint64_t)elapsed_ms;
		return v > UINT32_MAX ? UINT32_MAX : v;
	default:
		return v;
	}
}

/* base advanced by the elapsed time: what a COPY reproduces. */
static void sock_predict(struct rrow *out, const struct rrow *base, int64_t elapsed_ms)
{
	*out = *base;
	for (size_t k = 0; k < NFIELDS; k++)
		if (fields[k].pred != PRED_NONE)
			field_set(out, &fields[k], field_pred(base, &fields[k], elapsed_ms));
}

static int64_t elapsed_ms(const struct rsnap *base, const struct rsnap *sn)
{
	int64_t d = (sn->mono - base->mono) / NS_PER_MS;

	return d < 0 ? 0 : d;
}

static bool field_eq(const struct rrow *a, const struct rrow *b, const struct field *f)
{
	return memcmp((const uint8_t *)a + f->off, (const uint8_t *)b + f->off, f->width) == 0;
}

/* Which fields of s differ from the prediction p; clock fields within the tolerance do not. */
static uint64_t sock_diff(const struct rrow *p, const struct rrow *s)
{
	bool exact = p->s.state != s->s.state || p->s.timer != s->s.timer ||
		     p->s.has_info != s->s.has_info;
	uint64_t mask = 0;

	for (size_t k = 0; k < NFIELDS; k++) {
		const struct field *f = &fields[k];
		if (field_eq(p, s, f))
			continue;
		if (f->pred != PRED_NONE && !exact) {
			int64_t d = (int64_t)field_get(s, f) - (int64_t)field_get(p, f);
			if (d >= -PRED_TOLERANCE_MS && d <= PRED_TOLERANCE_MS)
				continue;
		}
		mask |= 1ull << k;
	}
	return mask;
}

static void cmap_build(struct record_cmap *m, const struct rsnap *base)
{
	size_t cap = 16;

	while (cap < base->n * 2)
		cap *= 2;
	if (cap > m->cap) {
		m->keys = xreallocarray(m->keys, cap, sizeof(*m->keys));
		m->vals = xreallocarray(m->vals, cap, sizeof(*m->vals));
	}
	m->cap = cap;
	memset(m->keys, 0, cap * sizeof(*m->keys));
	for (size_t i = 0; i < base->n; i++) {
		uint64_t key = base->v[i].s.cookie;
		if (!key)
			continue;
		size_t h = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 17) & (cap - 1);
		while (m->keys[h] && m->keys[h] != key)
			h = (h + 1) & (cap - 1);
		if (!m->keys[h]) {
			m->keys[h] = key;
			m->vals[h] = (uint32_t)i;
		}
	}
}

static long cmap_find(const struct record_cmap *m, uint64_t key)
{
	if (!key || !m->cap)
		return -1;
	size_t h = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 17) & (m->cap - 1);
	while (m->keys[h]) {
		if (m->keys[h] == key)
			return m->vals[h];
		h = (h + 1) & (m->cap - 1);
	}
	return -1;
}

void record_cmap_free(struct record_cmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

enum { OP_COPY = 0, OP_MOD = 1, OP_ADD = 2 };

/*
 * A delta: u32 states, u32 count, u32 number of ops, the ops, then the
 * added sockets as one column block. The ops rebuild the new snapshot in
 * order: COPY (u32 base index, u32 run length) takes predicted base
 * sockets, MOD (u32 base index, u64 field mask, the fields) one changed
 * socket, ADD (u32 run length) the next sockets of the block.
 */
void record_put_delta(struct rbuf *b, struct rsnap *base, const struct rsnap *sn,
		      struct record_cmap *map)
{
	int64_t el = elapsed_ms(base, sn);
	struct rbuf ops = {0};
	struct rrow *adds = NULL, *out = xreallocarray(NULL, sn->n ? sn->n : 1, sizeof(*out));
	size_t nadd = 0, nops = 0, run_j = 0, run_n = 0, add_run = 0;

	cmap_build(map, base);
	for (size_t i = 0; i < sn->n; i++) {
		const struct rrow *s = &sn->v[i];
		long j = cmap_find(map, s->s.cookie);
		uint64_t mask = 0;
		struct rrow p;

		if (j >= 0) {
			sock_predict(&p, &base->v[j], el);
			mask = sock_diff(&p, s);
		}
		if (j < 0 || mask) {
			if (run_n) {
				rbuf_u8(&ops, OP_COPY), rbuf_u32(&ops, (uint32_t)run_j);
				rbuf_u32(&ops, (uint32_t)run_n), nops++, run_n = 0;
			}
		}
		if (j < 0) {
			adds = xreallocarray(adds, nadd + 1, sizeof(*adds));
			adds[nadd++] = *s;
			out[i] = *s;
			add_run++;
			continue;
		}
		if (add_run) {
			rbuf_u8(&ops, OP_ADD), rbuf_u32(&ops, (uint32_t)add_run), nops++;
			add_run = 0;
		}
		if (mask) {
			rbuf_u8(&ops, OP_MOD), rbuf_u32(&ops, (uint32_t)j), rbuf_u64(&ops, mask);
			for (size_t k = 0; k < NFIELDS; k++) {
				const struct field *f = &fields[k];
				if (!(mask & (1ull << k)))
					continue;
				if (IS_BYTES(f)) {
					rbuf_put(&ops, (const uint8_t *)s + f->off, f->width);
					memcpy((uint8_t *)&p + f->off, (const uint8_t *)s + f->off,
					       f->width);
					continue;
				}
				uint64_t d = field_get(s, f) - field_get(&p, f);
				rbuf_le(&ops, d & width_mask(f->width), f->width);
				field_set(&p, f, field_get(s, f));
			}
			nops++;
			out[i] = p;
			continue;
		}
		if (run_n && (size_t)j == run_j + run_n) {
			run_n++;
		} else {
			if (run_n) {
				rbuf_u8(&ops, OP_COPY), rbuf_u32(&ops, (uint32_t)run_j);
				rbuf_u32(&ops, (uint32_t)run_n), nops++;
			}
			run_j = (size_t)j, run_n = 1;
		}
		out[i] = p;
	}
	if (run_n)
		rbuf_u8(&ops, OP_COPY), rbuf_u32(&ops, (uint32_t)run_j), rbuf_u32(&ops, (uint32_t)run_n),
			nops++;
	if (add_run)
		rbuf_u8(&ops, OP_ADD), rbuf_u32(&ops, (uint32_t)add_run), nops++;

	rbuf_u32(b, sn->states);
	rbuf_u32(b, (uint32_t)sn->n);
	rbuf_u32(b, (uint32_t)nops);
	rbuf_put(b, ops.p, ops.len);
	rbuf_u32(b, (uint32_t)nadd);
	record_put_socks(b, adds, nadd);
	rbuf_free(&ops);
	free(adds);

	/* The base becomes what the reader will rebuild, predictions included. */
	free(base->v);
	base->v = out;
	base->n = sn->n;
	base->cap = sn->n ? sn->n : 1;
	base->mono = sn->mono;
	base->wall = sn->wall;
	base->states = sn->states;
}

static void snap_reserve(struct rsnap *sn, size_t n)
{
	if (n > sn->cap) {
		sn->v = xreallocarray(sn->v, n, sizeof(*sn->v));
		sn->cap = n;
	}
}

int record_get_delta(struct rcur *c, const struct rsnap *base, struct rsnap *out,
		     const char **why)
{
	uint32_t n, nops, nadd;
	size_t i = 0, ai = 0, opstart;
	struct rrow *adds = NULL;
	int64_t el = elapsed_ms(base, out);
	int ret = -1;

	out->states = rcur_u32(c);
	n = rcur_u32(c);
	nops = rcur_u32(c);
	*why = "delta header";
	/* Bounds before allocating: a COPY yields at most the base, anything else needs bytes. */
	if (c->bad || n > base->n + rcur_left(c) || nops > rcur_left(c) / 5)
		return -1;
	snap_reserve(out, n ? n : 1);
	out->n = n;

	/* The added block follows the ops: find it first, ops refer to it in order. */
	opstart = c->pos;
	for (uint32_t k = 0; k < nops && !c->bad; k++) {
		uint8_t op = rcur_u8(c);
		if (op == OP_COPY) {
			rcur_bytes(c, 8);
		} else if (op == OP_ADD) {
			rcur_bytes(c, 4);
		} else if (op == OP_MOD) {
			rcur_u32(c);
			uint64_t mask = rcur_u64(c);
			for (size_t f = 0; f < NFIELDS; f++)
				if (mask & (1ull << f))
					rcur_bytes(c, fields[f].width);
			if (mask >> NFIELDS)
				c->bad = true;
		} else {
			c->bad = true;
		}
	}
	nadd = rcur_u32(c);
	*why = "delta ops";
	if (c->bad || nadd > n || nadd > rcur_left(c) / RECORD_SOCK_MIN)
		return -1;
	adds = xreallocarray(NULL, nadd ? nadd : 1, sizeof(*adds));
	*why = "delta sockets";
	if (record_get_socks(c, adds, nadd) < 0)
		goto out;

	struct rcur oc = {c->p, c->pos, opstart, false};
	*why = "delta op";
	for (uint32_t k = 0; k < nops; k++) {
		uint8_t op = rcur_u8(&oc);
		if (op == OP_COPY) {
			uint32_t j = rcur_u32(&oc), cnt = rcur_u32(&oc);
			if (j > base->n || cnt > base->n - j || cnt > n - i)
				goto out;
			for (uint32_t m = 0; m < cnt; m++)
				sock_predict(&out->v[i++], &base->v[j + m], el);
		} else if (op == OP_ADD) {
			uint32_t cnt = rcur_u32(&oc);
			if (cnt > nadd - ai || cnt > n - i)
				goto out;
			memcpy(&out->v[i], &adds[ai], cnt * sizeof(*adds));
			i += cnt, ai += cnt;
		} else {
			uint32_t j = rcur_u32(&oc);
			uint64_t mask = rcur_u64(&oc);
			if (j >= base->n || i >= n)
				goto out;
			struct rrow *s = &out->v[i++];
			sock_predict(s, &base->v[j], el);
			for (size_t f = 0; f < NFIELDS; f++) {
				const struct field *fd = &fields[f];
				if (!(mask & (1ull << f)))
					continue;
				const uint8_t *p = rcur_bytes(&oc, fd->width);
				if (!p)
					goto out;
				if (IS_BYTES(fd))
					memcpy((uint8_t *)s + fd->off, p, fd->width);
				else
					field_set(s, fd, field_get(s, fd) + record_get_le(p, fd->width));
			}
		}
		if (oc.bad)
			goto out;
	}
	*why = "delta count";
	if (i != n || ai != nadd)
		goto out;
	ret = 0;
out:
	free(adds);
	return ret;
}

void rsnap_reserve(struct rsnap *r, size_t n)
{
	if (n > r->cap || !r->v) {
		r->v = xreallocarray(r->v, n ? n : 1, sizeof(*r->v));
		r->cap = n ? n : 1;
	}
}

void rsnap_from(struct rsnap *r, const struct snapshot *sn)
{
	rsnap_reserve(r, sn->n);
	r->n = sn->n;
	r->mono = sn->mono;
	r->wall = sn->wall;
	r->states = sn->states;
	for (size_t i = 0; i < sn->n; i++) {
		const struct sock_info *in = snapshot_info(sn, i);

		r->v[i].s = sn->v[i];
		r->v[i].s.has_info = in != NULL;
		if (in)
			r->v[i].info = *in;
		else
			memset(&r->v[i].info, 0, sizeof(r->v[i].info));
	}
}

void rsnap_to(struct snapshot *sn, const struct rsnap *r)
{
	sn->with_info = true;
	snapshot_clear(sn);
	snapshot_grow(sn, r->n);
	for (size_t i = 0; i < r->n; i++) {
		sn->v[i] = r->v[i].s;
		sn->info[i] = r->v[i].info;
	}
	sn->n = r->n;
	sn->mono = r->mono;
	sn->wall = r->wall;
	sn->states = r->states;
	sn->complete = true;
	for (uint32_t i = 0; (r->nsflags & RNS_PRESENT) && i < r->nns; i++)
		snapshot_cover(sn, r->ns[i].idx);
}

void rsnap_free(struct rsnap *r)
{
	free(r->v);
	free(r->ns);
	memset(r, 0, sizeof(*r));
}
