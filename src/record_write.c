/* record_write.c - the recording writer: whole records only, key frames, deltas, the index. */
#include "config.h"
#include "record_fmt.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zstd.h>

#include "procmap.h"
#include "util.h"

/* Snapshots of different state masks (full and fast-lane dumps) each delta against their own. */
#define NBASES		    4
#define EPOCH_NS_DEFAULT    (120 * NS_PER_SEC)
#define EPOCH_COUNT_DEFAULT 1000
#define ZSTD_LEVEL_KEY	    9
#define ZSTD_LEVEL_DELTA    3
/* Payloads smaller than this gain nothing from a zstd frame. */
#define COMPRESS_MIN 96
/* Time a snapshot may spend looking in /proc for its sockets' owners; the rest waits. */
#define OWNER_SCAN_NS (20 * NS_PER_MS)

struct base {
	struct rsnap sn;
	bool used;
	uint64_t touched;
};

struct record_writer {
	int fd;
	uint64_t good; /* end of the last complete record: the file's length */
	int64_t shift; /* this segment's offset on the file's timeline */
	uint64_t seg_off;
	int64_t last_mono, last_wall; /* header times of the last record, unshifted */
	int64_t epoch_ns, epoch_start;
	unsigned epoch_count, epoch_snaps;
	bool need_epoch;
	uint64_t clock;
	struct base bases[NBASES];
	struct record_cmap map;
	struct rsnap conv; /* the snapshot being written, rows and tcp_info side by side */
	struct rbuf raw, out;
	ZSTD_CCtx *zc;
	struct record_epoch *epochs;
	size_t nepochs;
	const struct netns_tab *labels;
	struct procmap *pm;	   /* owners to record, or NULL */
	struct record_oset named;  /* owners recorded since the epoch began */
	struct record_owner *news; /* the next OWNER record's entries */
	size_t nnews, news_cap;
	char cut[480]; /* what a damaged tail cut before appending was; "" when none */
};

void record_writer_set_labels(struct record_writer *w, const struct netns_tab *labels)
{
	w->labels = labels;
}

const char *record_writer_cut(const struct record_writer *w)
{
	return w->cut[0] ? w->cut : NULL;
}

/* The namespaces snap covers, labelled, when tcpdwell watches chosen namespaces. */
static void fill_ns(struct record_writer *w, struct rsnap *r, const struct snapshot *snap)
{
	uint32_t n = snap->nns ? snap->nns : 1;

	r->nsflags = 0;
	r->nns = 0;
	if (!netns_tab_active(w->labels))
		return;
	if (n > r->ns_cap) {
		r->ns = xreallocarray(r->ns, n, sizeof(*r->ns));
		r->ns_cap = n;
	}
	for (uint32_t i = 0; i < n; i++) {
		r->ns[i].idx = snap->nns ? snap->ns[i] : 0;
		snprintf(r->ns[i].label, sizeof(r->ns[i].label), "%s",
			 netns_label(w->labels, r->ns[i].idx));
	}
	r->nns = n;
	r->nsflags = RNS_PRESENT | (netns_tab_multi(w->labels) ? RNS_MULTI : 0);
}

static void bases_clear(struct record_writer *w)
{
	for (size_t i = 0; i < NBASES; i++)
		w->bases[i].used = false;
}

/* Write all of buf at the end, or cut the file back to its last good record. */
static int write_whole(struct record_writer *w, const uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(w->fd, buf + done, len - done, (off_t)(w->good + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			while (ftruncate(w->fd, (off_t)w->good) < 0 && errno == EINTR)
				;
			/* What the reader rebuilds no longer matches our bases: start over. */
			bases_clear(w);
			w->need_epoch = true;
			return -e;
		}
		done += (size_t)n;
	}
	w->good += len;
	return 0;
}

/*
 * One record: u32 length of the whole record, u8 type, u8 flags, u16 zero,
 * i64 mono, i64 wall, the payload (w->raw, maybe compressed), u32 CRC-32 of
 * everything before it.
 */
static int put_record(struct record_writer *w, uint8_t type, uint8_t flags, int64_t mono,
		      int64_t wall, int level)
{
	struct rbuf *o = &w->out;
	size_t plen = w->raw.len;
	const void *payload = w->raw.p;
	uint8_t hdr[RECORD_HDR];
	int ret;

	o->len = 0;
	if (level && plen >= COMPRESS_MIN) {
		size_t bound = ZSTD_compressBound(plen);
		if (o->cap < RECORD_HDR + bound + 4) {
			o->p = xrealloc(o->p, RECORD_HDR + bound + 4);
			o->cap = RECORD_HDR + bound + 4;
		}
		size_t z = ZSTD_compressCCtx(w->zc, o->p + RECORD_HDR, bound, payload, plen, level);
		/* A reader refuses a frame that expands beyond RECORD_RATIO_MAX: kept raw. */
		if (!ZSTD_isError(z) && z < plen && plen / RECORD_RATIO_MAX <= z) {
			flags |= RECF_ZSTD;
			plen = z;
			payload = NULL;
		}
	}
	if (RECORD_HDR + plen + 4 > RECORD_MAX)
		return -EFBIG;
	record_put_le(hdr, RECORD_HDR + plen + 4, 4);
	hdr[4] = type;
	hdr[5] = flags;
	record_put_le(hdr + 6, 0, 2);
	record_put_le(hdr + 8, (uint64_t)mono, 8);
	record_put_le(hdr + 16, (uint64_t)wall, 8);
	if (payload) {
		rbuf_put(o, hdr, RECORD_HDR);
		rbuf_put(o, payload, plen);
	} else {
		memcpy(o->p, hdr, RECORD_HDR);
		o->len = RECORD_HDR + plen;
	}
	rbuf_u32(o, record_crc32(0, o->p, o->len));
	ret = write_whole(w, o->p, o->len);
	if (!ret) {
		w->last_mono = mono;
		w->last_wall = wall;
	}
	return ret;
}

static int put_segment(struct record_writer *w, const struct record_meta *m, int64_t mono,
		       int64_t wall)
{
	struct utsname u;
	char iv[64];

	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	w->raw.len = 0;
	rbuf_u64(&w->raw, (uint64_t)wall);
	rbuf_u64(&w->raw, (uint64_t)mono);
	rbuf_u64(&w->raw, (uint64_t)w->shift);
	rbuf_u64(&w->raw, (uint64_t)m->interval_ns);
	rbuf_str(&w->raw, u.nodename);
	rbuf_str(&w->raw, u.release);
	rbuf_str(&w->raw, m->source ? m->source : "");
	snprintf(iv, sizeof(iv), "%s %s", PACKAGE_NAME, PACKAGE_VERSION);
	rbuf_str(&w->raw, iv);
	w->seg_off = w->good;
	return put_record(w, REC_SEGMENT, 0, mono, wall, 0);
}

static int put_file_header(struct record_writer *w)
{
	uint8_t h[RECORD_FILE_HDR];

	memcpy(h, RECORD_MAGIC, 8);
	record_put_le(h + 8, RECORD_VERSION, 2);
	record_put_le(h + 10, RECORD_FILE_HDR, 2);
	record_put_le(h + 12, record_crc32(0, h, 12), 4);
	return write_whole(w, h, sizeof(h));
}

/* Continue a recording: keep what reads well, drop a damaged tail, go on on its timeline. */
static int prepare_append(struct record_writer *w, const char *path, int64_t now_wall,
			  int64_t now_mono, char *err, size_t errlen)
{
	struct record_reader *r;
	uint64_t good, next;
	int64_t lm, lw, gap;
	char rerr[512];
	int fd = dup(w->fd);

	if (fd < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (!(r = record_reader_fdopen(fd, path, rerr, sizeof(rerr)))) {
		/* The reader's message without its "cannot open recording 'path': ". */
		const char *what = strstr(rerr, "': ");
		snprintf(err, errlen, "%s", what ? what + 3 : rerr);
		return -1;
	}
	/* A damaged tail may be cut; damage with good records after it may not. */
	if (record_reader_scan(r, &good, &lm, &lw, &w->epochs, &w->nepochs) < 0) {
		const char *what = strstr(record_reader_error(r), "': ");
		struct stat st;

		what = what ? what + 3 : record_reader_error(r);
		if ((next = record_reader_valid_after(r, good + 1))) {
			snprintf(err, errlen,
				 "it is damaged (%s) but valid records follow at offset %" PRIu64
				 ", which appending would cut off",
				 what, next);
			record_reader_close(r);
			return -1;
		}
		/* Said, since bytes go: nothing recorded is lost without a word. */
		if (fstat(w->fd, &st) == 0 && (uint64_t)st.st_size > good)
			snprintf(w->cut, sizeof(w->cut),
				 "cut %" PRIu64 " bytes of a damaged tail at offset %" PRIu64
				 " (%s) before appending",
				 (uint64_t)st.st_size - good, good, what);
	}
	record_reader_close(r);
	if (ftruncate(w->fd, (off_t)good) < 0) {
		snprintf(err, errlen, "cannot cut '%s' back to its last good record: %s", path,
			 strerror(errno));
		return -1;
	}
	w->good = good;
	gap = now_wall - lw;
	if (gap < NS_PER_MS)
		gap = NS_PER_MS;
	w->shift = lm + gap - now_mono;
	return 0;
}

struct record_writer *record_writer_open(const char *path, const struct record_meta *m, char *err,
					 size_t errlen)
{
	struct record_writer *w = xcalloc(1, sizeof(*w));
	int nofollow = geteuid() == 0 ? O_NOFOLLOW : 0;
	int64_t mono = mono_ns(), wall = wall_ns();
	struct stat st;

	w->fd = open(path, O_RDWR | O_CLOEXEC | nofollow);
	if (w->fd < 0 && errno == ENOENT)
		w->fd = open(path, O_RDWR | O_CLOEXEC | O_CREAT | O_EXCL | nofollow, 0644);
	if (w->fd < 0) {
		if (errno == ELOOP && nofollow)
			snprintf(
			    err, errlen,
			    "cannot record to '%s': it is a symbolic link, not followed as root",
			    path);
		else
			snprintf(err, errlen, "cannot record to '%s': %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(w->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "cannot record to '%s': not a regular file", path);
		goto fail;
	}
	if (flock(w->fd, LOCK_EX | LOCK_NB) < 0) {
		snprintf(err, errlen, "cannot record to '%s': another tcpdwell is writing it",
			 path);
		goto fail;
	}
	if (st.st_size > 0) {
		char why[512];
		if (prepare_append(w, path, wall, mono, why, sizeof(why)) < 0) {
			snprintf(err, errlen,
				 "cannot record to '%s': %s; refusing to overwrite or append to it",
				 path, why);
			goto fail;
		}
	} else if (put_file_header(w) < 0) {
		snprintf(err, errlen, "cannot write to '%s': %s", path, strerror(errno));
		goto fail;
	}
	w->zc = ZSTD_createCCtx();
	if (!w->zc) {
		snprintf(err, errlen, "cannot record to '%s': zstd context", path);
		goto fail;
	}
	w->epoch_ns = EPOCH_NS_DEFAULT;
	w->epoch_count = EPOCH_COUNT_DEFAULT;
	w->need_epoch = true;
	if (put_segment(w, m, mono, wall) < 0) {
		snprintf(err, errlen, "cannot write to '%s': %s", path, strerror(errno));
		goto fail;
	}
	return w;
fail:
	if (w->fd >= 0)
		close(w->fd);
	if (w->zc)
		ZSTD_freeCCtx(w->zc);
	free(w->epochs);
	record_oset_free(&w->named);
	free(w->news);
	free(w);
	return NULL;
}

void record_writer_set_epoch(struct record_writer *w, int64_t ns, unsigned count)
{
	w->epoch_ns = ns;
	w->epoch_count = count ? count : 1;
}

uint64_t record_writer_size(const struct record_writer *w)
{
	return w->good;
}

static struct base *base_for(struct record_writer *w, uint32_t states, bool take)
{
	struct base *lru = &w->bases[0];

	for (size_t i = 0; i < NBASES; i++) {
		struct base *b = &w->bases[i];
		if (b->used && b->sn.states == states)
			return b;
		if (!b->used || (lru->used && b->touched < lru->touched))
			lru = b;
	}
	return take ? lru : NULL;
}

static void base_set(struct base *b, const struct rsnap *sn)
{
	rsnap_reserve(&b->sn, sn->n);
	if (sn->n)
		memcpy(b->sn.v, sn->v, sn->n * sizeof(*sn->v));
	b->sn.n = sn->n;
	b->sn.mono = sn->mono;
	b->sn.wall = sn->wall;
	b->sn.states = sn->states;
	rsnap_copy_ns(&b->sn, sn);
	b->used = true;
}

/* Whether the snapshot at mono starts an epoch. */
static bool epoch_due(const struct record_writer *w, int64_t mono)
{
	return w->need_epoch || mono - w->epoch_start >= w->epoch_ns ||
	       w->epoch_snaps >= w->epoch_count;
}

void record_writer_set_owners(struct record_writer *w, struct procmap *pm)
{
	w->pm = pm;
}

/*
 * Owners of snap's sockets in one OWNER record. Ahead of the snapshot, the
 * ones not recorded yet (looked for here, within a budget: the sinks look
 * only for what they show): a replay knows them when it shows the
 * snapshot, as the live sinks did. With all, after an epoch's key frame,
 * every one known again, so that a reader starting at the epoch has them.
 */
static int put_owners(struct record_writer *w, const struct snapshot *snap, int64_t mono,
		      int64_t wall, bool all)
{
	if (!w->pm)
		return 0;
	if (all) {
		record_oset_clear(&w->named);
	} else {
		for (size_t i = 0; i < snap->n; i++)
			if (snap->v[i].inode)
				procmap_want(w->pm, snap->v[i].inode);
		procmap_scan(w->pm, mono_ns(), OWNER_SCAN_NS);
	}
	w->nnews = 0;
	for (size_t i = 0; i < snap->n; i++) {
		uint32_t inode = snap->v[i].inode;
		const struct owner *ow = inode ? procmap_lookup(w->pm, inode) : NULL;
		struct record_owner *ro;

		if (!ow || record_oset_get(&w->named, inode) == ow->pid)
			continue;
		record_oset_put(&w->named, inode, ow->pid);
		if (w->nnews == w->news_cap) {
			w->news_cap = w->news_cap ? 2 * w->news_cap : 64;
			w->news = xreallocarray(w->news, w->news_cap, sizeof(*w->news));
		}
		ro = &w->news[w->nnews++];
		ro->inode = inode;
		ro->pid = ow->pid;
		snprintf(ro->comm, sizeof(ro->comm), "%s", ow->comm);
	}
	if (!w->nnews)
		return 0;
	w->raw.len = 0;
	rbuf_u64(&w->raw, (uint64_t)mono);
	rbuf_u64(&w->raw, (uint64_t)wall);
	record_put_owners(&w->raw, w->news, w->nnews);
	return put_record(w, REC_OWNER, 0, mono, wall, ZSTD_LEVEL_DELTA);
}

static int put_snapshot(struct record_writer *w, const struct snapshot *snap, int64_t mono,
			int64_t wall)
{
	const struct rsnap *sn = &w->conv;
	bool epoch = epoch_due(w, mono);
	struct base *b;
	uint64_t off = w->good;
	int ret;

	rsnap_from(&w->conv, snap);
	fill_ns(w, &w->conv, snap);
	if (epoch)
		bases_clear(w);
	b = base_for(w, sn->states, false);
	w->raw.len = 0;
	rbuf_u64(&w->raw, (uint64_t)sn->mono);
	rbuf_u64(&w->raw, (uint64_t)sn->wall);
	if (b) {
		record_put_delta(&w->raw, &b->sn, sn, &w->map);
		record_put_ns(&w->raw, sn, &b->sn);
		rsnap_copy_ns(&b->sn, sn);
		b->touched = ++w->clock;
		ret = put_record(w, REC_DELTA, 0, mono, wall, ZSTD_LEVEL_DELTA);
	} else {
		b = base_for(w, sn->states, true);
		rbuf_u32(&w->raw, sn->states);
		rbuf_u32(&w->raw, (uint32_t)sn->n);
		record_put_socks(&w->raw, sn->v, sn->n);
		record_put_ns(&w->raw, sn, NULL);
		base_set(b, sn);
		b->touched = ++w->clock;
		ret = put_record(w, REC_KEY, epoch ? RECF_EPOCH : 0, mono, wall, ZSTD_LEVEL_KEY);
	}
	if (ret < 0)
		return ret;
	w->epoch_snaps++;
	if (epoch) {
		w->need_epoch = false;
		w->epoch_start = mono;
		w->epoch_snaps = 1;
		w->epochs = xreallocarray(w->epochs, w->nepochs + 1, sizeof(*w->epochs));
		w->epochs[w->nepochs++] =
		    (struct record_epoch){off, w->seg_off, mono + w->shift, wall};
	}
	return 0;
}

int record_writer_obs(struct record_writer *w, const struct obs *o)
{
	/* Records go in time order even when sources' clocks interleave: the exact times are
	 * inside. */
	int64_t mono = o->mono > w->last_mono ? o->mono : w->last_mono;
	int64_t wall = o->wall;
	struct stat st;
	bool epoch, fresh;
	int ret;

	switch (o->kind) {
	case OBS_SNAPSHOT:
		if (!o->snap || !o->snap->complete)
			return 0;
		mono = o->snap->mono > w->last_mono ? o->snap->mono : w->last_mono;
		epoch = epoch_due(w, mono);
		/* Nothing named yet (a new segment): the record ahead names them all. */
		fresh = w->named.n == 0;
		ret = put_owners(w, o->snap, mono, o->snap->wall, false);
		if (!ret)
			ret = put_snapshot(w, o->snap, mono, o->snap->wall);
		if (!ret && epoch && !fresh)
			ret = put_owners(w, o->snap, mono, o->snap->wall, true);
		if (!ret && fstat(w->fd, &st) == 0 && st.st_nlink == 0)
			ret = -ENOENT;
		return ret;
	case OBS_DESTROY:
		w->raw.len = 0;
		rbuf_u64(&w->raw, (uint64_t)o->mono);
		rbuf_u64(&w->raw, (uint64_t)o->wall);
		{
			struct rrow row = {.s = o->sock};

			row.s.has_info = o->info != NULL;
			if (o->info)
				row.info = *o->info;
			record_put_socks(&w->raw, &row, 1);
		}
		return put_record(w, REC_DESTROY, 0, mono, wall, 0);
	case OBS_CHANGE:
		w->raw.len = 0;
		rbuf_u64(&w->raw, (uint64_t)o->mono);
		rbuf_u64(&w->raw, (uint64_t)o->wall);
		record_put_key(&w->raw, &o->key);
		rbuf_u8(&w->raw, o->from);
		rbuf_u8(&w->raw, o->to);
		/* Optional, last: a reader that does not know it stops before it. */
		if (o->cookie)
			rbuf_u64(&w->raw, o->cookie);
		return put_record(w, REC_CHANGE, 0, mono, wall, 0);
	case OBS_NOTE:
		w->raw.len = 0;
		rbuf_u64(&w->raw, (uint64_t)o->mono);
		rbuf_u64(&w->raw, (uint64_t)o->wall);
		rbuf_str(&w->raw, o->note ? o->note : "");
		return put_record(w, REC_NOTE, 0, mono, wall, 0);
	case OBS_SEGMENT:
		if (!o->seg)
			return 0;
		w->raw.len = 0;
		rbuf_u64(&w->raw, (uint64_t)o->mono);
		rbuf_u64(&w->raw, (uint64_t)o->wall);
		record_put_ladder(&w->raw, o);
		return put_record(w, REC_LADDER, 0, mono, wall, 0);
	}
	return 0;
}

/*
 * The index: u32 count, per epoch u64 offset, u64 segment offset, i64 mono
 * (on the file's timeline), i64 wall; i64 mono and wall of the last record;
 * u64 offset of this record and the tag, so that the last 20 bytes of a
 * cleanly closed file lead to it.
 */
int record_writer_close(struct record_writer *w)
{
	int ret;

	if (!w)
		return 0;
	w->raw.len = 0;
	rbuf_u32(&w->raw, (uint32_t)w->nepochs);
	for (size_t i = 0; i < w->nepochs; i++) {
		rbuf_u64(&w->raw, w->epochs[i].off);
		rbuf_u64(&w->raw, w->epochs[i].seg_off);
		rbuf_u64(&w->raw, (uint64_t)w->epochs[i].mono);
		rbuf_u64(&w->raw, (uint64_t)w->epochs[i].wall);
	}
	rbuf_u64(&w->raw, (uint64_t)(w->last_mono + w->shift));
	rbuf_u64(&w->raw, (uint64_t)w->last_wall);
	rbuf_u64(&w->raw, w->good);
	rbuf_put(&w->raw, RECORD_INDEX_TAG, 8);
	ret = put_record(w, REC_INDEX, 0, w->last_mono, w->last_wall, 0);
	if (close(w->fd) < 0 && !ret)
		ret = -errno;
	for (size_t i = 0; i < NBASES; i++)
		rsnap_free(&w->bases[i].sn);
	rsnap_free(&w->conv);
	record_cmap_free(&w->map);
	rbuf_free(&w->raw);
	rbuf_free(&w->out);
	ZSTD_freeCCtx(w->zc);
	free(w->epochs);
	record_oset_free(&w->named);
	free(w->news);
	free(w);
	return ret;
}
