/* record_read.c - the recording reader: checks every record, stops at the first damage. */
#include "config.h"
#include "record_fmt.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "util.h"

/* More than the writer keeps, so that every base a delta names is still here. */
#define NSLOTS 8

struct slot {
	struct rsnap sn;
	bool used;
	uint64_t touched;
};

struct record_reader {
	int fd;
	char *name;
	uint64_t size, pos, good;
	int64_t last_at, last_wall; /* header times of the last good record */
	bool have_last;
	struct record_seg seg, first;
	struct slot slots[NSLOTS];
	uint64_t clock;
	struct rsnap cur;
	struct snapshot out; /* what the last KEY or DELTA gave, as sinks take it */
	uint8_t *buf, *zbuf;
	size_t cap, zcap;
	ZSTD_DCtx *zd;
	char note[RECORD_STR_MAX * 4 + 1];
	char lad_names[2][RECORD_ACTOR_MAX];
	struct record_owner *owners;
	size_t owners_cap;
	char err[512], what[400];
	bool indexed;
	struct record_epoch *epochs;
	size_t nepochs;
	int64_t end_mono, end_wall;
};

static int fail(struct record_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int fail(struct record_reader *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->what, sizeof(r->what), fmt, ap);
	va_end(ap);
	snprintf(r->err, sizeof(r->err), "recording '%s': %s", r->name, r->what);
	return -1;
}

static int read_at(struct record_reader *r, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(r->fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(r, "read error at offset %" PRIu64 ": %s", off + done,
				    strerror(errno));
		if (n == 0)
			return fail(r, "file ends at offset %" PRIu64, off + done);
		done += (size_t)n;
	}
	return 0;
}

static void slots_clear(struct record_reader *r)
{
	for (size_t i = 0; i < NSLOTS; i++)
		r->slots[i].used = false;
}

static struct slot *slot_for(struct record_reader *r, uint32_t states, bool take)
{
	struct slot *lru = &r->slots[0];

	for (size_t i = 0; i < NSLOTS; i++) {
		struct slot *s = &r->slots[i];
		if (s->used && s->sn.states == states)
			return s;
		if (!s->used || (lru->used && s->touched < lru->touched))
			lru = s;
	}
	return take ? lru : NULL;
}

/* The decoded snapshot becomes the base of its mask; the old base's memory is reused. */
static const struct snapshot *slot_swap(struct record_reader *r, struct slot *s)
{
	struct rsnap t = s->sn;

	s->sn = r->cur;
	r->cur = t;
	s->used = true;
	s->touched = ++r->clock;
	rsnap_to(&r->out, &s->sn);
	return &r->out;
}

static const char *type_name(unsigned t)
{
	static const char *const names[] = {"?",      "segment", "key frame", "delta",	"destroy",
					    "change", "note",	 "index",     "ladder", "owner"};
	return t < ARRAY_SIZE(names) ? names[t] : "unknown";
}

/* A time read from the file, shifted onto the timeline; false when out of range. */
static bool in_range(uint64_t raw, int64_t shift, int64_t *t)
{
	return raw <= (uint64_t)INT64_MAX && !__builtin_add_overflow((int64_t)raw, shift, t) &&
	       *t >= 0 && *t <= RECORD_TIME_MAX;
}

static int parse_segment(struct rcur *c, struct record_seg *sg, uint64_t off)
{
	memset(sg, 0, sizeof(*sg));
	uint64_t wall = rcur_u64(c), mono = rcur_u64(c);
	int64_t t;

	sg->shift = (int64_t)rcur_u64(c);
	sg->interval_ns = (int64_t)rcur_u64(c);
	/* A crafted start or shift would overflow every time of the segment. */
	if (!in_range(wall, 0, &sg->start_wall) || !in_range(mono, 0, &sg->start_mono) ||
	    !in_range(mono, sg->shift, &t) || sg->interval_ns < 0 ||
	    sg->interval_ns > RECORD_TIME_MAX)
		c->bad = true;
	rcur_str(c, sg->host, sizeof(sg->host));
	rcur_str(c, sg->kernel, sizeof(sg->kernel));
	rcur_str(c, sg->source, sizeof(sg->source));
	rcur_str(c, sg->version, sizeof(sg->version));
	sg->off = off;
	return c->bad ? -1 : 0;
}

/* Read and check the record at r->pos: its bytes land in r->buf; 0 at the clean end. */
static int load(struct record_reader *r, uint32_t *lenp)
{
	uint8_t h[RECORD_HDR];
	uint32_t len;
	struct stat st;

	/* A recording still being written grows: look again before calling it the end. */
	if (r->size - r->pos < RECORD_MIN && fstat(r->fd, &st) == 0 &&
	    (uint64_t)st.st_size > r->size)
		r->size = (uint64_t)st.st_size;
	if (r->pos == r->size)
		return 0;
	if (r->size - r->pos < RECORD_HDR)
		return fail(r, "truncated record at offset %" PRIu64 " (%" PRIu64 " bytes left)",
			    r->pos, r->size - r->pos);
	if (read_at(r, h, sizeof(h), r->pos) < 0)
		return -1;
	len = (uint32_t)record_get_le(h, 4);
	if (len < RECORD_MIN || len > RECORD_MAX)
		return fail(r, "bad record length %" PRIu32 " at offset %" PRIu64, len, r->pos);
	if (len > r->size - r->pos)
		return fail(r,
			    "truncated record at offset %" PRIu64 " (needs %" PRIu32
			    " bytes, %" PRIu64 " left)",
			    r->pos, len, r->size - r->pos);
	if (len > r->cap) {
		r->buf = xrealloc(r->buf, len);
		r->cap = len;
	}
	if (read_at(r, r->buf, len, r->pos) < 0)
		return -1;
	if (record_crc32(0, r->buf, len - 4) != (uint32_t)record_get_le(r->buf + len - 4, 4))
		return fail(r, "bad checksum in the record at offset %" PRIu64, r->pos);
	*lenp = len;
	return 1;
}

/* The payload, decompressed when it is a zstd frame, into c. */
static int payload(struct record_reader *r, uint32_t len, struct rcur *c)
{
	const uint8_t *p = r->buf + RECORD_HDR;
	size_t plen = len - RECORD_MIN;
	unsigned long long raw;

	if (!(r->buf[5] & RECF_ZSTD)) {
		*c = (struct rcur){p, plen, 0, false};
		return 0;
	}
	raw = ZSTD_getFrameContentSize(p, plen);
	if (raw == ZSTD_CONTENTSIZE_UNKNOWN || raw == ZSTD_CONTENTSIZE_ERROR)
		return fail(r, "bad compressed payload in the record at offset %" PRIu64, r->pos);
	/*
	 * The frame says what it expands to; a few KB of crafted file must not
	 * take gigabytes. What the writer makes stays far below both bounds.
	 */
	if (raw > RECORD_RAW_MAX || raw / RECORD_RATIO_MAX > plen)
		return fail(r,
			    "compressed payload in the record at offset %" PRIu64
			    " claims %llu bytes from %zu, more than tcpdwell ever writes",
			    r->pos, raw, plen);
	if (raw > r->zcap || !r->zbuf) {
		r->zbuf = xrealloc(r->zbuf, raw ? raw : 1);
		r->zcap = raw;
	}
	if (!r->zd && !(r->zd = ZSTD_createDCtx()))
		return fail(r, "out of memory for zstd");
	size_t n = ZSTD_decompressDCtx(r->zd, r->zbuf, raw, p, plen);
	if (ZSTD_isError(n) || n != raw)
		return fail(r, "bad compressed payload in the record at offset %" PRIu64, r->pos);
	*c = (struct rcur){r->zbuf, raw, 0, false};
	return 0;
}

static int decode(struct record_reader *r, struct record_item *it, struct rcur *c)
{
	const char *why = "short payload";
	struct slot *s;
	uint32_t n;

	/*
	 * Neither starts with an observation's times: an index of no epochs
	 * would read as times out of range (the frame's own are checked).
	 */
	if (it->type == REC_SEGMENT || it->type == REC_INDEX)
		return 0;
	if (!in_range(rcur_u64(c), r->seg.shift, &it->mono) || !in_range(rcur_u64(c), 0, &it->wall))
		return fail(r, "time out of range in the %s record at offset %" PRIu64,
			    type_name(it->type), r->pos);
	switch (it->type) {
	case REC_KEY:
		r->cur.mono = it->mono;
		r->cur.wall = it->wall;
		r->cur.states = rcur_u32(c);
		n = rcur_u32(c);
		if (c->bad || n > rcur_left(c) / RECORD_SOCK_MIN)
			break;
		if (it->flags & RECF_EPOCH)
			slots_clear(r);
		rsnap_reserve(&r->cur, n);
		r->cur.n = n;
		if (record_get_socks(c, r->cur.v, n) < 0)
			break;
		why = "namespace block";
		if (record_get_ns(c, &r->cur, NULL) < 0)
			break;
		s = slot_for(r, r->cur.states, true);
		it->snap = slot_swap(r, s);
		it->ns = &s->sn;
		return 0;
	case REC_DELTA: {
		struct rcur peek = *c;
		uint32_t states = rcur_u32(&peek);
		if (peek.bad)
			break;
		if (!(s = slot_for(r, states, false))) {
			why = "a delta without its key frame";
			break;
		}
		r->cur.mono = it->mono;
		r->cur.wall = it->wall;
		if (record_get_delta(c, &s->sn, &r->cur, &why) < 0)
			break;
		why = "namespace block";
		if (record_get_ns(c, &r->cur, &s->sn) < 0)
			break;
		it->snap = slot_swap(r, s);
		it->ns = &s->sn;
		return 0;
	}
	case REC_DESTROY: {
		struct rrow row;

		if (record_get_socks(c, &row, 1) < 0)
			break;
		it->sock = row.s;
		it->info = row.info;
		return 0;
	}
	case REC_CHANGE:
		record_get_key(c, &it->key);
		it->from = rcur_u8(c);
		it->to = rcur_u8(c);
		/* The cookie came later: a record without one ends here. */
		it->cookie = c->len - c->pos >= 8 && !c->bad ? rcur_u64(c) : 0;
		if (c->bad)
			break;
		return 0;
	case REC_NOTE:
		rcur_str(c, r->note, sizeof(r->note));
		if (c->bad)
			break;
		it->note = r->note;
		return 0;
	case REC_LADDER:
		it->lad.mono = it->mono;
		switch (record_get_ladder(c, &it->lad, r->lad_names, &why)) {
		case 0:
			for (int k = 0; k < 2; k++)
				it->lad_names[k] = r->lad_names[k][0] ? r->lad_names[k] : NULL;
			return 0;
		case 1:
			/* A kind of entry from a later version: its readers skip it. */
			it->lad.type = UINT8_MAX;
			return 0;
		}
		break;
	case REC_OWNER:
		if (record_get_owners(c, &r->owners, &r->owners_cap, &it->nowners, &why) < 0)
			break;
		it->owners = r->owners;
		return 0;
	default:
		return 0;
	}
	return fail(r, "malformed %s record at offset %" PRIu64 " (%s)", type_name(it->type),
		    r->pos, why);
}

int record_reader_next(struct record_reader *r, struct record_item *it)
{
	for (;;) {
		uint32_t len;
		struct rcur c;
		int ret;

		if (r->err[0])
			return -1;
		if ((ret = load(r, &len)) <= 0)
			return ret;
		memset(it, 0, sizeof(*it));
		it->type = r->buf[4];
		it->flags = r->buf[5];
		it->off = r->pos;
		if (payload(r, len, &c) < 0)
			return -1;
		if (it->type == REC_SEGMENT) {
			struct record_seg sg;
			if (parse_segment(&c, &sg, r->pos) < 0)
				return fail(r, "malformed segment record at offset %" PRIu64,
					    r->pos);
			r->seg = sg;
			slots_clear(r);
			it->seg = &r->seg;
		}
		if (!in_range(record_get_le(r->buf + 8, 8), r->seg.shift, &it->at) ||
		    !in_range(record_get_le(r->buf + 16, 8), 0, &it->wall))
			return fail(r, "time out of range in the record at offset %" PRIu64,
				    r->pos);
		if (r->have_last && it->at < r->last_at)
			return fail(r, "time goes backwards at offset %" PRIu64, r->pos);
		it->mono = it->at;
		if (decode(r, it, &c) < 0)
			return -1;
		r->last_at = it->at;
		r->last_wall = it->wall;
		r->have_last = true;
		r->pos += len;
		r->good = r->pos;
		/* The index is for seeking, unknown types are for newer readers: both skipped. */
		if (it->type == REC_INDEX || it->type < REC_SEGMENT || it->type > REC_LAST)
			continue;
		return 1;
	}
}

static struct record_reader *open_fail(struct record_reader *r, char *err, size_t errlen,
				       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static struct record_reader *open_fail(struct record_reader *r, char *err, size_t errlen,
				       const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "cannot open recording '%s': %s", r->name, what);
	record_reader_close(r);
	return NULL;
}

struct record_reader *record_reader_fdopen(int fd, const char *name, char *err, size_t errlen)
{
	struct record_reader *r = xcalloc(1, sizeof(*r));
	uint8_t h[RECORD_FILE_HDR];
	struct record_item it;
	struct stat st;
	unsigned ver;
	size_t have;

	r->fd = fd;
	r->name = xstrdup(name);
	if (fstat(fd, &st) < 0)
		return open_fail(r, err, errlen, "%s", strerror(errno));
	if (S_ISDIR(st.st_mode))
		return open_fail(r, err, errlen, "is a directory (offset 0)");
	if (!S_ISREG(st.st_mode))
		return open_fail(r, err, errlen, "not a regular file (%s) at offset 0",
				 S_ISFIFO(st.st_mode)  ? "a pipe"
				 : S_ISCHR(st.st_mode) ? "a device"
						       : "special");
	r->size = (uint64_t)st.st_size;
	if (r->size == 0)
		return open_fail(r, err, errlen, "empty file (offset 0)");
	have = r->size < sizeof(h) ? (size_t)r->size : sizeof(h);
	if (read_at(r, h, have, 0) < 0)
		return open_fail(r, err, errlen, "%s", r->what);
	if (memcmp(h, RECORD_MAGIC, have < 8 ? have : 8) != 0)
		return open_fail(r, err, errlen,
				 "not a tcpdwell recording (bad magic at offset 0)");
	if (have < sizeof(h))
		return open_fail(r, err, errlen, "truncated header at offset %zu", have);
	ver = (unsigned)record_get_le(h + 8, 2);
	if (ver > RECORD_VERSION)
		return open_fail(
		    r, err, errlen,
		    "format version %u at offset 8 is newer than this tcpdwell reads (%d)", ver,
		    RECORD_VERSION);
	if (ver == 0 || record_get_le(h + 10, 2) != RECORD_FILE_HDR)
		return open_fail(r, err, errlen, "bad header at offset 8");
	if (record_crc32(0, h, 12) != record_get_le(h + 12, 4))
		return open_fail(r, err, errlen, "bad header checksum at offset 12");
	r->pos = r->good = RECORD_FILE_HDR;
	switch (record_reader_next(r, &it)) {
	case 1:
		if (it.type == REC_SEGMENT)
			break;
		return open_fail(r, err, errlen, "no segment record at offset %d", RECORD_FILE_HDR);
	case 0:
		return open_fail(r, err, errlen, "truncated header: no segment record at offset %d",
				 RECORD_FILE_HDR);
	default:
		return open_fail(r, err, errlen, "%s", r->what);
	}
	r->first = r->seg;
	return r;
}

struct record_reader *record_reader_open(const char *path, char *err, size_t errlen)
{
	/* Non-blocking, so that a FIFO is refused rather than waited on. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		snprintf(err, errlen, "cannot open recording '%s': %s", path, strerror(errno));
		return NULL;
	}
	return record_reader_fdopen(fd, path, err, errlen);
}

void record_reader_close(struct record_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	for (size_t i = 0; i < NSLOTS; i++)
		rsnap_free(&r->slots[i].sn);
	rsnap_free(&r->cur);
	snapshot_free(&r->out);
	free(r->buf);
	free(r->zbuf);
	ZSTD_freeDCtx(r->zd);
	free(r->epochs);
	free(r->owners);
	free(r->name);
	free(r);
}

const char *record_reader_error(const struct record_reader *r)
{
	return r->err;
}

uint64_t record_reader_good(const struct record_reader *r)
{
	return r->good;
}

const struct record_seg *record_reader_first_seg(const struct record_reader *r)
{
	return &r->first;
}

static void add_epoch(struct record_reader *r, const struct record_epoch *e)
{
	r->epochs = xreallocarray(r->epochs, r->nepochs + 1, sizeof(*r->epochs));
	r->epochs[r->nepochs++] = *e;
}

/* The index a clean close left at the end, if the last 20 bytes lead to a good one. */
static bool load_index(struct record_reader *r)
{
	uint8_t tail[20];
	uint64_t off, save_pos = r->pos;
	uint32_t len, count;
	char save_err = r->err[0];
	struct rcur c;
	bool ok = false;

	if (r->size < RECORD_FILE_HDR + RECORD_MIN + 20 || read_at(r, tail, 20, r->size - 20) < 0)
		goto out;
	off = record_get_le(tail, 8);
	if (memcmp(tail + 8, RECORD_INDEX_TAG, 8) != 0 || off < RECORD_FILE_HDR || off >= r->size)
		goto out;
	r->pos = off;
	if (load(r, &len) != 1 || r->buf[4] != REC_INDEX || off + len != r->size ||
	    payload(r, len, &c) < 0)
		goto out;
	count = rcur_u32(&c);
	if (count > rcur_left(&c) / 32)
		goto out;
	for (uint32_t i = 0; i < count; i++) {
		struct record_epoch e;
		e.off = rcur_u64(&c);
		e.seg_off = rcur_u64(&c);
		e.mono = (int64_t)rcur_u64(&c);
		e.wall = (int64_t)rcur_u64(&c);
		if (e.off >= off || e.seg_off >= e.off ||
		    (r->nepochs && e.mono < r->epochs[r->nepochs - 1].mono))
			goto out;
		add_epoch(r, &e);
	}
	r->end_mono = (int64_t)rcur_u64(&c);
	r->end_wall = (int64_t)rcur_u64(&c);
	ok = !c.bad && r->nepochs;
out:
	if (!ok)
		r->nepochs = 0;
	r->pos = save_pos;
	if (!save_err)
		r->err[0] = 0;
	return ok;
}

/* Without an index: walk the record headers, reading only segment records whole. */
static void quick_scan(struct record_reader *r)
{
	uint64_t pos = RECORD_FILE_HDR, save_pos = r->pos;
	int64_t shift = 0, last = INT64_MIN;
	uint64_t seg_off = RECORD_FILE_HDR;
	char save_err = r->err[0];
	struct stat st;

	if (fstat(r->fd, &st) == 0 && (uint64_t)st.st_size > r->size)
		r->size = (uint64_t)st.st_size;
	while (r->size - pos >= RECORD_MIN) {
		uint8_t h[RECORD_HDR];
		uint32_t len;
		int64_t at, wall;

		if (read_at(r, h, sizeof(h), pos) < 0)
			break;
		len = (uint32_t)record_get_le(h, 4);
		if (len < RECORD_MIN || len > RECORD_MAX || len > r->size - pos)
			break;
		if (h[4] == REC_SEGMENT) {
			struct record_seg sg;
			struct rcur c;
			uint32_t l2;
			r->pos = pos;
			if (load(r, &l2) != 1 || payload(r, l2, &c) < 0 ||
			    parse_segment(&c, &sg, pos) < 0)
				break;
			shift = sg.shift;
			seg_off = pos;
		}
		if (!in_range(record_get_le(h + 8, 8), shift, &at) ||
		    !in_range(record_get_le(h + 16, 8), 0, &wall) || at < last)
			break;
		last = at;
		if (h[4] == REC_KEY && (h[5] & RECF_EPOCH))
			add_epoch(r, &(struct record_epoch){pos, seg_off, at, wall});
		r->end_mono = at;
		r->end_wall = wall;
		pos += len;
	}
	r->pos = save_pos;
	if (!save_err)
		r->err[0] = 0;
}

size_t record_reader_epochs(struct record_reader *r, const struct record_epoch **v,
			    int64_t *end_mono, int64_t *end_wall)
{
	if (!r->indexed) {
		r->end_mono = r->first.start_mono + r->first.shift;
		r->end_wall = r->first.start_wall;
		if (!load_index(r))
			quick_scan(r);
		r->indexed = true;
	}
	*v = r->epochs;
	if (end_mono)
		*end_mono = r->end_mono;
	if (end_wall)
		*end_wall = r->end_wall;
	return r->nepochs;
}

int record_reader_goto(struct record_reader *r, const struct record_epoch *e)
{
	struct record_item it;

	r->err[0] = 0;
	r->pos = e->seg_off;
	r->have_last = false;
	if (record_reader_next(r, &it) != 1 || it.type != REC_SEGMENT) {
		if (!r->err[0])
			fail(r, "no segment record at offset %" PRIu64, e->seg_off);
		return -1;
	}
	slots_clear(r);
	r->pos = e->off;
	r->have_last = false;
	return 0;
}

int record_reader_scan(struct record_reader *r, uint64_t *good_end, int64_t *last_mono,
		       int64_t *last_wall, struct record_epoch **epochs, size_t *nepochs)
{
	struct record_item it;
	int ret;

	*epochs = NULL;
	*nepochs = 0;
	while ((ret = record_reader_next(r, &it)) == 1)
		if (it.type == REC_KEY && (it.flags & RECF_EPOCH)) {
			*epochs = xreallocarray(*epochs, *nepochs + 1, sizeof(**epochs));
			(*epochs)[(*nepochs)++] =
			    (struct record_epoch){it.off, r->seg.off, it.at, it.wall};
		}
	*good_end = r->good;
	*last_mono = r->last_at;
	*last_wall = r->last_wall;
	return ret;
}

/*
 * The offset of the first whole record (its length fits, its checksum
 * holds) that starts after from, or 0 if there is none. After damage, such
 * a record means the damage is not a tail: cutting the file there would
 * delete records that read well.
 */
uint64_t record_reader_valid_after(struct record_reader *r, uint64_t from)
{
	enum { WIN = 64 * 1024 };
	uint8_t *win = xmalloc(WIN);
	uint64_t size, base, found = 0;
	struct stat st;

	size = fstat(r->fd, &st) == 0 ? (uint64_t)st.st_size : r->size;
	for (base = from; !found && base + RECORD_MIN <= size; base += WIN - RECORD_HDR) {
		size_t n = size - base < WIN ? (size_t)(size - base) : WIN;

		if (read_at(r, win, n, base) < 0)
			break;
		for (size_t i = 0; i + RECORD_HDR <= n && i < WIN - RECORD_HDR; i++) {
			uint64_t at = base + i;
			uint32_t len = (uint32_t)record_get_le(win + i, 4);
			unsigned type = win[i + 4];

			if (len < RECORD_MIN || len > RECORD_MAX || len > size - at ||
			    type < REC_SEGMENT || type > REC_LAST)
				continue;
			if (len > r->cap) {
				r->buf = xrealloc(r->buf, len);
				r->cap = len;
			}
			if (read_at(r, r->buf, len, at) == 0 &&
			    record_crc32(0, r->buf, len - 4) ==
				(uint32_t)record_get_le(r->buf + len - 4, 4)) {
				found = at;
				break;
			}
		}
		if (n < WIN)
			break;
	}
	free(win);
	return found;
}
