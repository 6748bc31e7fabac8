/* unit_record.c - the recording format on crafted snapshots: round trip, seek, append, damage. */
#include "config.h"
#include "record_fmt.h"
#include "replay.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "netns.h"
#include "unit.h"
#include "procmap.h"
#include "util.h"

static char dir[64], path[128];

/* A deterministic population that churns: sockets appear, change, go, and their clocks run. */
static void make_snap(struct snapshot *sn, int step, uint32_t states, size_t pop)
{
	snapshot_clear(sn);
	sn->mono = 1000 * NS_PER_SEC + (int64_t)step * NS_PER_SEC + (step % 3) * 1000;
	sn->wall = 1795000000LL * NS_PER_SEC + (int64_t)step * NS_PER_SEC;
	sn->states = states;
	sn->complete = true;
	sn->with_info = true;
	for (size_t i = 0; i < pop; i++) {
		size_t id = i + (size_t)step / 4 * 3; /* three go and three come every 4 steps */
		struct sock *s = snapshot_push(sn);
		struct sock_info *in = &sn->info[sn->n - 1];
		memset(s, 0, sizeof(*s));
		memset(in, 0, sizeof(*in));
		s->cookie = 0x1000 + id;
		s->family = id % 5 ? AF_INET : AF_INET6;
		s->state = id % 7 == 0 ? ST_LISTEN : ST_ESTABLISHED;
		if (id % 11 == 0 && step % 6 >= 3)
			s->state = ST_CLOSE_WAIT;
		s->sport = (uint16_t)(40000 + id);
		s->dport = 443;
		s->src[0] = 10, s->src[3] = (uint8_t)id;
		s->dst[0] = 192, s->dst[3] = 1;
		s->uid = 1000;
		s->inode = (uint32_t)(5000 + id);
		s->rqueue = id % 13 == 0 ? (uint32_t)step * 10 : 0;
		if (id % 3 == 0) {
			s->timer = TM_KEEPALIVE;
			s->expires_ms = 7200000 - (uint32_t)step * 1000 - (uint32_t)(id % 5);
		}
		s->has_info = 1;
		in->rtt_us = 120 + (uint32_t)(id % 9);
		in->bytes_acked = 1000000ull * id + (id % 17 == 0 ? (uint64_t)step * 777 : 0);
		in->last_data_recv_ms = (uint32_t)(step * 1000 + (step * 7 + id) % 9);
		in->last_data_sent_ms = (uint32_t)(step * 1000);
	}
}

/* Equal but for the clock fields a recording predicts (within its tolerance). */
static bool sock_match(const struct sock *a, const struct sock_info *ai, const struct sock *b,
		       const struct sock_info *bi)
{
	struct sock x = *a, y = *b;
	struct sock_info xi = { 0 }, yi = { 0 };
	long d1 = (long)x.expires_ms - (long)y.expires_ms;

	if (!ai != !bi)
		return false;
	if (ai) {
		xi = *ai, yi = *bi;
		long d2 = (long)xi.last_data_recv_ms - (long)yi.last_data_recv_ms;
		long d3 = (long)xi.last_data_sent_ms - (long)yi.last_data_sent_ms;
		if (labs(d2) > 100 || labs(d3) > 100)
			return false;
		xi.last_data_recv_ms = yi.last_data_recv_ms;
		xi.last_data_sent_ms = yi.last_data_sent_ms;
	}
	if (labs(d1) > 100)
		return false;
	x.expires_ms = y.expires_ms;
	return memcmp(&x, &y, sizeof(x)) == 0 && memcmp(&xi, &yi, sizeof(xi)) == 0;
}

static bool snap_match(const struct snapshot *a, const struct snapshot *b)
{
	if (a->n != b->n || a->mono != b->mono || a->wall != b->wall || a->states != b->states)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!sock_match(&a->v[i], snapshot_info(a, i), &b->v[i], snapshot_info(b, i)))
			return false;
	return true;
}

#define NSTEPS 40
static struct snapshot ref[NSTEPS];
static const struct record_meta meta = {NS_PER_SEC, "poll", NULL};

/* Full dumps every step, a fast-lane dump of another mask every other step, and events. */
static void write_sample(const char *p, int epoch_count, int steps, size_t pop, bool append)
{
	char err[512];
	struct record_writer *w;

	if (!append)
		unlink(p);
	w = record_writer_open(p, &meta, err, sizeof(err));

	CHECK(w != NULL);
	if (!w) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	record_writer_set_epoch(w, 3600 * NS_PER_SEC, (unsigned)epoch_count);
	for (int i = 0; i < steps; i++) {
		struct obs o = {.kind = OBS_SNAPSHOT, .snap = &ref[i]};
		snapshot_free(&ref[i]);
		snapshot_init(&ref[i]);
		make_snap(&ref[i], i, ST_ALL_MASK, pop);
		o.mono = ref[i].mono, o.wall = ref[i].wall;
		CHECK(record_writer_obs(w, &o) == 0);
		if (i % 2) {
			struct snapshot fast;
			snapshot_init(&fast);
			make_snap(&fast, i, ST_RARE_MASK, pop / 10);
			fast.mono += 500 * NS_PER_MS;
			o.snap = &fast, o.mono = fast.mono;
			CHECK(record_writer_obs(w, &o) == 0);
			snapshot_free(&fast);
		}
		if (i % 5 == 4) {
			struct obs d = {.kind = OBS_DESTROY, .mono = ref[i].mono + 1,
				       .wall = ref[i].wall + 7};
			d.sock = ref[i].v[0];
			d.info = snapshot_info(&ref[i], 0);
			CHECK(record_writer_obs(w, &d) == 0);
			struct obs c = {.kind = OBS_CHANGE, .mono = ref[i].mono + 2,
				       .wall = ref[i].wall, .from = 4, .to = 5};
			sock_key(&ref[i].v[1], &c.key);
			CHECK(record_writer_obs(w, &c) == 0);
			struct obs n = {.kind = OBS_NOTE, .mono = ref[i].mono + 3,
				       .wall = ref[i].wall, .note = "a\x1b[2Jnote"};
			CHECK(record_writer_obs(w, &n) == 0);
		}
	}
	CHECK(record_writer_close(w) == 0);
}

/* Every snapshot, destroy, change and note comes back, in order and equal. */
static void test_round_trip(void)
{
	char err[512];
	struct record_item it;
	struct record_reader *r;
	int full = 0, fast = 0, destroys = 0, changes = 0, notes = 0, ret;
	int64_t last = INT64_MIN;

	write_sample(path, 10, NSTEPS, 200, false);
	r = record_reader_open(path, err, sizeof(err));
	CHECK(r != NULL);
	if (!r)
		return;
	CHECK_STR(record_reader_first_seg(r)->source, "poll");
	CHECK(record_reader_first_seg(r)->interval_ns == NS_PER_SEC);
	while ((ret = record_reader_next(r, &it)) == 1) {
		CHECK(it.at >= last);
		last = it.at;
		if ((it.type == REC_KEY || it.type == REC_DELTA) && it.snap->states == ST_ALL_MASK) {
			CHECK(full < NSTEPS && snap_match(it.snap, &ref[full]));
			full++;
		} else if (it.type == REC_KEY || it.type == REC_DELTA) {
			CHECK(it.snap->n == 20);
			fast++;
		} else if (it.type == REC_DESTROY) {
			CHECK(it.sock.cookie == ref[full - 1].v[0].cookie &&
			      it.wall == ref[full - 1].wall + 7);
			CHECK(it.sock.has_info &&
			      it.info.bytes_acked == ref[full - 1].info[0].bytes_acked);
			destroys++;
		} else if (it.type == REC_CHANGE) {
			CHECK(it.from == 4 && it.to == 5 && it.key.sport == ref[full - 1].v[1].sport);
			changes++;
		} else if (it.type == REC_NOTE) {
			CHECK_STR(it.note, "a\\e[2Jnote");
			notes++;
		}
	}
	CHECK(ret == 0);
	CHECK(full == NSTEPS && fast == NSTEPS / 2);
	CHECK(destroys == NSTEPS / 5 && changes == destroys && notes == destroys);
	record_reader_close(r);
}

/* Reading from any epoch gives the same snapshots as reading straight through, index or not. */
static void test_seek(void)
{
	char err[512];
	struct record_item it;
	const struct record_epoch *ev;
	struct record_reader *r;
	int64_t end_mono, end_wall;
	size_t n, n2;
	struct stat st;

	write_sample(path, 7, NSTEPS, 100, false);
	r = record_reader_open(path, err, sizeof(err));
	CHECK(r != NULL);
	if (!r)
		return;
	n = record_reader_epochs(r, &ev, &end_mono, &end_wall);
	CHECK(n >= NSTEPS / 7);
	CHECK(end_wall >= ref[NSTEPS - 1].wall);
	for (size_t e = 0; e < n; e++) {
		int k = -1, seen = 0;
		CHECK(record_reader_goto(r, &ev[e]) == 0);
		while (record_reader_next(r, &it) == 1) {
			if (it.type != REC_KEY && it.type != REC_DELTA)
				continue;
			if (it.snap->states != ST_ALL_MASK)
				continue;
			if (k < 0)
				for (k = 0; k < NSTEPS && ref[k].mono != it.snap->mono; k++)
					;
			CHECK(k < NSTEPS && snap_match(it.snap, &ref[k]));
			k++, seen++;
		}
		CHECK(seen > 0 && k == NSTEPS);
	}
	struct record_epoch first = ev[0];
	record_reader_close(r);

	/* Without the index (cut off, as after a crash) a quick scan finds the same epochs. */
	CHECK(stat(path, &st) == 0);
	r = record_reader_open(path, err, sizeof(err));
	n = record_reader_epochs(r, &ev, NULL, NULL);
	struct record_epoch last = ev[n - 1];
	record_reader_close(r);
	CHECK(truncate(path, st.st_size - RECORD_MIN - 4 - 32 * (off_t)n - 32) == 0);
	r = record_reader_open(path, err, sizeof(err));
	CHECK(r != NULL);
	n2 = record_reader_epochs(r, &ev, &end_mono, NULL);
	if (n2 != n)
		fprintf(stderr, "epochs %zu then %zu\n", n, n2);
	CHECK(n2 == n && ev[0].off == first.off && ev[n2 - 1].off == last.off &&
	      ev[n2 - 1].mono == last.mono);
	CHECK(end_mono >= ref[NSTEPS - 1].mono);
	record_reader_close(r);
}

/* A second session appends after the first, on one timeline that never goes back. */
static void test_append(void)
{
	char err[512];
	struct record_item it;
	struct record_reader *r;
	int segs = 0, snaps = 0, ret;
	int64_t last = INT64_MIN;

	write_sample(path, 100, 10, 50, false);
	write_sample(path, 100, 10, 50, true); /* ref's times repeat: the writer shifts them */
	r = record_reader_open(path, err, sizeof(err));
	CHECK(r != NULL);
	if (!r)
		return;
	while ((ret = record_reader_next(r, &it)) == 1) {
		CHECK(it.at >= last);
		last = it.at;
		segs += it.type == REC_SEGMENT;
		snaps += (it.type == REC_KEY || it.type == REC_DELTA) && it.snap->states == ST_ALL_MASK;
	}
	CHECK(ret == 0 && segs == 1 && snaps == 20);
	const struct record_epoch *ev;
	CHECK(record_reader_epochs(r, &ev, NULL, NULL) == 2);
	record_reader_close(r);
}

static int read_all(const char *p, int *records, char *err, size_t errlen)
{
	struct record_reader *r = record_reader_open(p, err, errlen);
	struct record_item it;
	int ret;

	*records = 0;
	if (!r)
		return -2;
	while ((ret = record_reader_next(r, &it)) == 1)
		(*records)++;
	if (ret < 0)
		snprintf(err, errlen, "%s", record_reader_error(r));
	record_reader_close(r);
	return ret;
}

static void write_file(const char *p, const void *buf, size_t len)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	CHECK(fd >= 0 && write(fd, buf, len) == (ssize_t)len);
	close(fd);
}

static uint8_t *slurp(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	uint8_t *buf = xmalloc(1 << 20);

	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

/* Record boundaries of a file, by walking the length fields. */
static size_t boundaries(const uint8_t *buf, size_t len, size_t *ends, size_t max)
{
	size_t n = 0, pos = RECORD_FILE_HDR;

	while (pos + 4 <= len && n < max) {
		pos += record_get_le(buf + pos, 4);
		ends[n++] = pos;
	}
	return n;
}

/* Cut at every byte: refused cleanly before the first record, else every whole record read. */
static void test_truncation(void)
{
	char err[512], cut[160];
	size_t len, ends[256], nb;
	uint8_t *buf;
	int records, ret, bad = 0;

	write_sample(path, 4, 6, 3, false);
	buf = slurp(path, &len);
	nb = boundaries(buf, len, ends, 256);
	CHECK(nb > 5 && ends[nb - 1] == len);
	snprintf(cut, sizeof(cut), "%s/cut", dir);
	for (size_t l = 0; l < len; l++) {
		size_t whole = 0;
		write_file(cut, buf, l);
		ret = read_all(cut, &records, err, sizeof(err));
		while (whole < nb && ends[whole] <= l)
			whole++;
		if (whole == 0) {
			bad += ret != -2 || !strstr(err, "offset");
			continue;
		}
		/* The segment record is not an item; index records are skipped. */
		int expect = (int)whole - 1 - (whole == nb);
		if (ends[whole - 1] == l)
			bad += ret != 0 || records != expect;
		else
			bad += ret != -1 || records != expect || !strstr(err, "truncated record at offset");
		if (bad == 1) {
			fprintf(stderr, "cut at %zu: ret %d records %d (%d) %s\n", l, ret, records,
				expect, err);
			bad++;
		}
	}
	CHECK(bad == 0);
	free(buf);
}

/* A flipped bit anywhere: the records before it read, then a clean stop or refusal. */
static void test_bit_flips(void)
{
	char err[512], flip[160];
	size_t len, ends[256], nb;
	uint8_t *buf;
	int records, ret, bad = 0;

	write_sample(path, 4, 6, 3, false);
	buf = slurp(path, &len);
	nb = boundaries(buf, len, ends, 256);
	snprintf(flip, sizeof(flip), "%s/flip", dir);
	for (size_t i = 0; i < len; i++) {
		size_t before = 0;
		buf[i] ^= (uint8_t)(1u << (i % 8));
		write_file(flip, buf, len);
		buf[i] ^= (uint8_t)(1u << (i % 8));
		ret = read_all(flip, &records, err, sizeof(err));
		while (before < nb && ends[before] <= i)
			before++;
		if (before == 0) {
			bad += ret != -2 || !strstr(err, "offset");
		} else {
			bad += ret != -1 || records != (int)before - 1 || !strstr(err, "offset");
		}
	}
	CHECK(bad == 0);
	free(buf);
}

/* Files that are not recordings are refused with what is wrong and where. */
static void test_refusals(void)
{
	char err[512], p[160], p2[160];
	int records;
	uint8_t h[RECORD_FILE_HDR];
	size_t len;
	uint8_t *buf;

	snprintf(p, sizeof(p), "%s/odd", dir);
	write_file(p, "", 0);
	CHECK(read_all(p, &records, err, sizeof(err)) == -2 && strstr(err, "empty file (offset 0)"));
	write_file(p, "hello, world, this is text\n", 27);
	CHECK(read_all(p, &records, err, sizeof(err)) == -2);
	CHECK(strstr(err, "not a tcpdwell recording (bad magic at offset 0)") && strstr(err, p));
	write_file(p, "TCPDW", 5);
	CHECK(read_all(p, &records, err, sizeof(err)) == -2 && strstr(err, "truncated header at offset 5"));
	CHECK(read_all(dir, &records, err, sizeof(err)) == -2 && strstr(err, "is a directory"));
	CHECK(read_all("/dev/zero", &records, err, sizeof(err)) == -2 &&
	      strstr(err, "not a regular file"));
	snprintf(p2, sizeof(p2), "%s/fifo", dir);
	CHECK(mkfifo(p2, 0600) == 0);
	CHECK(read_all(p2, &records, err, sizeof(err)) == -2 && strstr(err, "a pipe"));

	/* A newer version, its header checksum right. */
	write_sample(path, 4, 3, 3, false);
	buf = slurp(path, &len);
	memcpy(h, buf, sizeof(h));
	record_put_le(buf + 8, 9, 2);
	record_put_le(buf + 12, record_crc32(0, buf, 12), 4);
	write_file(p, buf, len);
	CHECK(read_all(p, &records, err, sizeof(err)) == -2 &&
	      strstr(err, "format version 9 at offset 8 is newer"));
	/* A zeroed file of the same length. */
	memset(buf, 0, len);
	write_file(p, buf, len);
	CHECK(read_all(p, &records, err, sizeof(err)) == -2 && strstr(err, "bad magic at offset 0"));
	/* Trailing garbage after a good file. */
	free(buf);
	buf = slurp(path, &len);
	memcpy(buf + len, "garbage!garbage!garbage!garbage!", 32);
	write_file(p, buf, len + 32);
	CHECK(read_all(p, &records, err, sizeof(err)) == -1 && strstr(err, "at offset"));
	CHECK(records == 4);
	free(buf);

	/* The writer will not append to, or overwrite, what is not a recording. */
	struct record_writer *w;
	write_file(p, "precious data\n", 14);
	w = record_writer_open(p, &meta, err, sizeof(err));
	CHECK(!w && strstr(err, "not a tcpdwell recording (bad magic at offset 0)"));
	buf = slurp(p, &len);
	CHECK(len == 14 && !memcmp(buf, "precious data\n", 14));
	free(buf);
	w = record_writer_open(dir, &meta, err, sizeof(err));
	CHECK(!w && strstr(err, "directory"));
	if (geteuid() == 0) {
		snprintf(p2, sizeof(p2), "%s/link", dir);
		CHECK(symlink(path, p2) == 0);
		w = record_writer_open(p2, &meta, err, sizeof(err));
		CHECK(!w && strstr(err, "symbolic link"));
	}
}

/* Backwards time in an otherwise good record stops the reader there. */
static void test_backwards(void)
{
	char err[512], p[160];
	size_t len, ends[256], nb;
	uint8_t *buf;
	int records;

	write_sample(path, 4, 6, 3, false);
	buf = slurp(path, &len);
	nb = boundaries(buf, len, ends, 256);
	CHECK(nb > 4);
	/* Record 3 (after the segment and two more) gets the time of long ago. */
	uint8_t *rec = buf + ends[2];
	uint32_t rl = (uint32_t)record_get_le(rec, 4);
	record_put_le(rec + 8, 5, 8);
	record_put_le(rec + rl - 4, record_crc32(0, rec, rl - 4), 4);
	snprintf(p, sizeof(p), "%s/back", dir);
	write_file(p, buf, len);
	CHECK(read_all(p, &records, err, sizeof(err)) == -1 && strstr(err, "time goes backwards"));
	CHECK(records == 2);
	free(buf);
}

/* A file size limit mid-recording: the error is returned, the file stays whole, writing resumes. */
static void test_write_error(void)
{
	char err[512];
	struct record_writer *w;
	struct rlimit old, lim;
	struct snapshot sn;
	int fails = 0, records, ret;
	struct stat st;

	signal(SIGXFSZ, SIG_IGN);
	unlink(path);
	w = record_writer_open(path, &meta, err, sizeof(err));
	CHECK(w != NULL);
	snapshot_init(&sn);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = record_writer_size(w) + 1500;
	CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	for (int i = 0; i < 30; i++) {
		make_snap(&sn, i, ST_ALL_MASK, 40);
		struct obs o = {.kind = OBS_SNAPSHOT, .snap = &sn, .mono = sn.mono, .wall = sn.wall};
		if (i == 20)
			setrlimit(RLIMIT_FSIZE, &old);
		ret = record_writer_obs(w, &o);
		if (ret == -EFBIG)
			fails++;
		else
			CHECK(ret == 0);
		CHECK(stat(path, &st) == 0 && (uint64_t)st.st_size == record_writer_size(w));
	}
	CHECK(fails > 0);
	record_writer_close(w);
	snapshot_free(&sn);
	CHECK(read_all(path, &records, err, sizeof(err)) == 0);
	CHECK(records == 30 - fails);
}

/* --begin and --end accept offsets, durations, clock times and dates. */
static void test_times(void)
{
	int64_t off, start;
	struct tm tm = {.tm_year = 126, .tm_mon = 10, .tm_mday = 23, .tm_hour = 10, .tm_min = 3,
			.tm_sec = 4, .tm_isdst = -1};

	start = (int64_t)mktime(&tm) * NS_PER_SEC + 250 * NS_PER_MS;
	CHECK(replay_parse_time("90", start, &off) == 0 && off == 90 * NS_PER_SEC);
	CHECK(replay_parse_time("1m30s", start, &off) == 0 && off == 90 * NS_PER_SEC);
	CHECK(replay_parse_time("1h2m3.5s", start, &off) == 0 && off == 3723500 * NS_PER_MS);
	CHECK(replay_parse_time("250ms", start, &off) == 0 && off == 250 * NS_PER_MS);
	CHECK(replay_parse_time("10:04:04", start, &off) == 0 && off == 59750 * NS_PER_MS);
	CHECK(replay_parse_time("10:05", start, &off) == 0 && off == 115750 * NS_PER_MS);
	CHECK(replay_parse_time("2026-11-23T10:04:04", start, &off) == 0 &&
	      off == 59750 * NS_PER_MS);
	CHECK(replay_parse_time("2026-11-23 10:03:04", start, &off) == 0 &&
	      off == -250 * NS_PER_MS);
	/* Past midnight: 09:00 is the next morning. */
	CHECK(replay_parse_time("09:00", start, &off) == 0 && off > 22 * 3600 * NS_PER_SEC);
	CHECK(replay_parse_time("soon", start, &off) == -1);
	CHECK(replay_parse_time("1x", start, &off) == -1);
	CHECK(replay_parse_time("25:00", start, &off) == -1);
	CHECK(replay_parse_time("", start, &off) == -1);
}

static void test_crc(void)
{
	CHECK(record_crc32(0, "123456789", 9) == 0xCBF43926u);
}

/* A snapshot of namespaces cov[0..ncov), one listener in each. */
static void ns_snap(struct snapshot *sn, int step, const uint32_t *cov, uint32_t ncov)
{
	snapshot_clear(sn);
	sn->mono = (100 + step) * NS_PER_SEC;
	sn->wall = 1795000000LL * NS_PER_SEC + sn->mono;
	sn->states = ST_ALL_MASK;
	sn->complete = true;
	for (uint32_t i = 0; i < ncov; i++) {
		struct sock *s = snapshot_push(sn);

		s->cookie = 7; /* one cookie in every namespace: old kernels count per namespace */
		s->family = AF_INET;
		s->state = ST_LISTEN;
		s->sport = 80;
		s->netns = cov[i];
		snapshot_cover(sn, cov[i]);
	}
}

/*
 * Snapshots of several namespaces keep which namespaces they covered and
 * their labels, in key frames and deltas (a delta's unchanged labels come
 * from its base), also when read from an epoch; a run without --netns
 * writes no namespace block, and reads back as namespace 0 alone.
 */
static void test_netns_block(void)
{
	static const uint32_t c012[] = { 0, 1, 2 }, c01[] = { 0, 1 }, c0123[] = { 0, 1, 2, 3 };
	struct netns_tab *labels = netns_tab_new();
	struct snapshot sn;
	struct record_writer *w;
	struct record_reader *r;
	struct record_item it;
	char err[512];
	int k = 0;

	netns_tab_set(labels, 0, "host");
	netns_tab_set(labels, 1, "web");
	netns_tab_set(labels, 2, "pid 77 (db)");
	netns_tab_watch(labels, true, 3);
	snapshot_init(&sn);
	unlink(path);
	w = record_writer_open(path, &meta, err, sizeof(err));
	CHECK(w != NULL);
	if (!w)
		return;
	record_writer_set_labels(w, labels);
	for (int i = 0; i < 4; i++) {
		struct obs o = { .kind = OBS_SNAPSHOT, .snap = &sn };

		if (i == 3)
			netns_tab_set(labels, 3, "pid 88 (late)");
		/* Step 2: namespace 2's dump failed; step 3: a fourth namespace joins. */
		ns_snap(&sn, i, i == 2 ? c01 : i == 3 ? c0123 : c012, i == 2 ? 2 : i == 3 ? 4 : 3);
		o.mono = sn.mono, o.wall = sn.wall;
		CHECK(record_writer_obs(w, &o) == 0);
	}
	CHECK(record_writer_close(w) == 0);

	r = record_reader_open(path, err, sizeof(err));
	CHECK(r != NULL);
	while (r && record_reader_next(r, &it) == 1) {
		const uint32_t want_n = k == 2 ? 2 : k == 3 ? 4 : 3;

		if (it.type != REC_KEY && it.type != REC_DELTA)
			continue;
		CHECK(k > 0 || it.type == REC_KEY);
		CHECK(k == 0 || it.type == REC_DELTA);
		CHECK(it.ns && (it.ns->nsflags & RNS_PRESENT) && (it.ns->nsflags & RNS_MULTI));
		CHECK(it.snap->nns == want_n && it.snap->n == want_n && it.ns->nns == want_n);
		for (uint32_t i = 0; i < want_n && i < it.ns->nns; i++) {
			CHECK(it.snap->ns[i] == i && it.snap->v[i].netns == i);
			CHECK_STR(it.ns->ns[i].label, netns_label(labels, i));
		}
		CHECK(snapshot_covers(it.snap, 1) && snapshot_covers(it.snap, 2) == (k != 2));
		k++;
	}
	CHECK(k == 4);
	record_reader_close(r);

	/* Without labels in use: no block, and a reader sees namespace 0 alone. */
	unlink(path);
	w = record_writer_open(path, &meta, err, sizeof(err));
	CHECK(w != NULL);
	if (w) {
		struct obs o = { .kind = OBS_SNAPSHOT, .snap = &sn };

		ns_snap(&sn, 0, c0123, 1);
		o.mono = sn.mono, o.wall = sn.wall;
		CHECK(record_writer_obs(w, &o) == 0);
		CHECK(record_writer_close(w) == 0);
	}
	r = record_reader_open(path, err, sizeof(err));
	k = 0;
	while (r && record_reader_next(r, &it) == 1)
		if (it.type == REC_KEY) {
			CHECK(it.ns && it.ns->nsflags == 0 && it.snap->nns == 0);
			CHECK(snapshot_covers(it.snap, 0) && !snapshot_covers(it.snap, 1));
			k++;
		}
	CHECK(k == 1);
	record_reader_close(r);
	snapshot_free(&sn);
	netns_tab_free(labels);
}

/* Append one record, framed and checksummed as the writer would, with any payload. */
static void append_raw(const char *p, uint8_t type, int64_t mono, int64_t wall, const void *pl,
		       size_t n)
{
	uint8_t rec[256];
	size_t len = RECORD_MIN + n;
	int fd = open(p, O_WRONLY | O_APPEND);

	CHECK(fd >= 0 && len <= sizeof(rec));
	if (fd < 0 || len > sizeof(rec))
		return;
	memset(rec, 0, sizeof(rec));
	record_put_le(rec, len, 4);
	rec[4] = type;
	record_put_le(rec + 8, (uint64_t)mono, 8);
	record_put_le(rec + 16, (uint64_t)wall, 8);
	memcpy(rec + RECORD_HDR, pl, n);
	record_put_le(rec + RECORD_HDR + n, record_crc32(0, rec, RECORD_HDR + n), 4);
	CHECK(write(fd, rec, len) == (ssize_t)len);
	close(fd);
}

/*
 * Ladder entries (a scenario's segments and states) come back equal, named;
 * a short or out-of-range one is refused with its offset; a later kind of
 * entry is skipped.
 */
static void test_ladder(void)
{
	const struct scenario_ladder seg = {.mono = 5 * NS_PER_SEC,
					    .type = SCENARIO_LADDER_SEG,
					    .actor = 1,
					    .peer = 0,
					    .tcpflags = 0x11,
					    .marks = 0x02,
					    .len = 7,
					    .sport = 40001,
					    .dport = 8000,
					    .seq = 1,
					    .ack = 2},
				     st = {.mono = 5 * NS_PER_SEC + 9,
					   .type = SCENARIO_LADDER_STATE,
					   .actor = 0,
					   .peer = -1,
					   .from = ST_ESTABLISHED,
					   .to = ST_CLOSE_WAIT,
					   .sport = 8000,
					   .dport = 40001};
	const struct scenario_ladder *in[2] = {&seg, &st};
	char names[2][RECORD_ACTOR_MAX], err[512];
	struct scenario_ladder out;
	struct rbuf b = {0};
	struct rcur c;
	const char *why = NULL;
	struct record_writer *w;
	struct record_reader *r;
	struct record_item it;
	struct stat sb;
	int k = 0, ret;

	/* The codec alone: equal both ways, and every cut short of the whole is refused. */
	struct obs o = {.kind = OBS_SEGMENT, .seg = &seg, .seg_names = {"client", "server"}};
	record_put_ladder(&b, &o);
	c = (struct rcur){b.p, b.len, 0, false};
	out.mono = seg.mono;
	CHECK(record_get_ladder(&c, &out, names, &why) == 0);
	CHECK(memcmp(&out, &seg, sizeof(out)) == 0);
	CHECK_STR(names[0], "client");
	CHECK_STR(names[1], "server");
	for (size_t cut = 0; cut < b.len; cut++) {
		c = (struct rcur){b.p, cut, 0, false};
		why = NULL;
		CHECK(record_get_ladder(&c, &out, names, &why) == -1 && why);
	}
	b.p[1] = SCENARIO_LADDER_MAX_COLS; /* the actor */
	c = (struct rcur){b.p, b.len, 0, false};
	CHECK(record_get_ladder(&c, &out, names, &why) == -1 && !strcmp(why, "actor out of range"));
	b.p[1] = 1;
	b.p[0] = 9; /* a kind from a later version */
	c = (struct rcur){b.p, b.len, 0, false};
	CHECK(record_get_ladder(&c, &out, names, &why) == 1);

	/* Through the writer and the reader (no snapshot: its index has no epochs). */
	unlink(path);
	w = record_writer_open(path, &meta, err, sizeof(err));
	CHECK(w != NULL);
	if (!w) {
		rbuf_free(&b);
		return;
	}
	for (int i = 0; i < 2; i++) {
		struct obs e = {.kind = OBS_SEGMENT,
				.mono = in[i]->mono,
				.wall = 1795000000LL * NS_PER_SEC + in[i]->mono,
				.seg = in[i],
				.seg_names = {i ? "server" : "client", i ? NULL : "server"}};
		CHECK(record_writer_obs(w, &e) == 0);
	}
	CHECK(record_writer_close(w) == 0);
	r = record_reader_open(path, err, sizeof(err));
	CHECK(r != NULL);
	while (r && (ret = record_reader_next(r, &it)) == 1) {
		if (it.type != REC_LADDER)
			continue;
		CHECK(k < 2 && memcmp(&it.lad, in[k], sizeof(it.lad)) == 0);
		CHECK(it.wall == 1795000000LL * NS_PER_SEC + in[k]->mono);
		CHECK_STR(it.lad_names[0], k ? "server" : "client");
		CHECK(k ? it.lad_names[1] == NULL : !strcmp(it.lad_names[1], "server"));
		k++;
	}
	CHECK(r && ret == 0 && k == 2);
	record_reader_close(r);

	/* A later kind is skipped; a ladder record cut short stops the replay at its offset. */
	CHECK(stat(path, &sb) == 0);
	/* After the writer's own records, which it timed by the clock: later still. */
	int64_t at = mono_ns() + 10 * NS_PER_SEC, wall = wall_ns();
	uint8_t pl[64];
	memset(pl, 0, sizeof(pl));
	record_put_le(pl, (uint64_t)at, 8);
	record_put_le(pl + 8, (uint64_t)wall, 8);
	memcpy(pl + 16, b.p, b.len);
	append_raw(path, REC_LADDER, at, wall, pl, 16 + b.len);
	off_t bad_at = sb.st_size + RECORD_MIN + 16 + (off_t)b.len;
	append_raw(path, REC_LADDER, at, wall, pl, 16 + 3);
	r = record_reader_open(path, err, sizeof(err));
	CHECK(r != NULL);
	k = 0;
	while (r && (ret = record_reader_next(r, &it)) == 1)
		k += it.type == REC_LADDER && it.lad.type != UINT8_MAX;
	CHECK(r && ret == -1 && k == 2);
	if (r) {
		char want[96];

		snprintf(want, sizeof(want), "malformed ladder record at offset %lld",
			 (long long)bad_at);
		CHECK(strstr(record_reader_error(r), want) != NULL);
		if (!strstr(record_reader_error(r), want))
			fprintf(stderr, "got: %s\n", record_reader_error(r));
	}
	record_reader_close(r);
	rbuf_free(&b);
}

/*
 * Owners: the writer names each socket's owner before the first snapshot
 * it is in, again after an owner changes, and all of them after each later
 * epoch's key frame; the reader gives them back;
 * an owner record cut short or with a count larger than itself is refused
 * with its offset.
 */
static void test_owners(void)
{
	struct procmap *pm = procmap_new(NULL);
	struct record_writer *w;
	struct record_reader *r;
	struct record_item it;
	struct snapshot sn;
	char err[512];
	int named = 0, snaps = 0, ret;
	bool saw_change = false, before = false, after_epoch = false;
	struct stat sb;

	unlink(path);
	w = record_writer_open(path, &meta, err, sizeof(err));
	CHECK(w != NULL);
	if (!w) {
		procmap_free(pm);
		return;
	}
	record_writer_set_owners(w, pm);
	record_writer_set_epoch(w, 3600 * NS_PER_SEC, 3);
	snapshot_init(&sn);
	for (int i = 0; i < 5; i++) {
		make_snap(&sn, i, ST_ALL_MASK, 4);
		/* inode 5000 owned by 100 from the start, by 200 from step 1 */
		procmap_set(pm, 5000, i ? 200 : 100, "srv");
		struct obs o = {.kind = OBS_SNAPSHOT, .snap = &sn, .mono = sn.mono, .wall = sn.wall};
		CHECK(record_writer_obs(w, &o) == 0);
	}
	snapshot_free(&sn);
	CHECK(record_writer_close(w) == 0);
	procmap_free(pm);

	r = record_reader_open(path, err, sizeof(err));
	CHECK(r != NULL);
	while (r && (ret = record_reader_next(r, &it)) == 1) {
		if (it.type == REC_KEY || it.type == REC_DELTA) {
			snaps++;
			continue;
		}
		if (it.type != REC_OWNER)
			continue;
		for (size_t i = 0; i < it.nowners; i++) {
			CHECK(it.owners[i].inode == 5000);
			CHECK_STR(it.owners[i].comm, "srv");
			saw_change |= snaps == 1 && it.owners[i].pid == 200;
			/* Step 0 names pid 100, ahead of the key frame it belongs to. */
			before |= snaps == 0 && it.owners[i].pid == 100;
			/* The second epoch's key frame (step 3) is followed by its owners. */
			after_epoch |= snaps == 4 && it.owners[i].pid == 200;
		}
		named++;
	}
	CHECK(r && ret == 0 && snaps == 5);
	/*
	 * Before step 0 (the first, all new), before step 1 (a new owner) and
	 * after step 3's key frame (a new epoch): nothing new at 2 and 4.
	 */
	CHECK(named == 3);
	CHECK(saw_change && before && after_epoch);
	record_reader_close(r);

	/* Damage: a count larger than the record, then a record cut short. */
	CHECK(stat(path, &sb) == 0);
	int64_t at = mono_ns() + 10 * NS_PER_SEC, wall = wall_ns();
	uint8_t pl[64];
	struct rbuf b = {0};
	const struct record_owner one = {.inode = 7, .pid = 42, .comm = "cat"};

	record_put_owners(&b, &one, 1);
	memset(pl, 0, sizeof(pl));
	record_put_le(pl, (uint64_t)at, 8);
	record_put_le(pl + 8, (uint64_t)wall, 8);
	memcpy(pl + 16, b.p, b.len);
	append_raw(path, REC_OWNER, at, wall, pl, 16 + b.len);
	off_t bad_at = sb.st_size + RECORD_MIN + 16 + (off_t)b.len;
	record_put_le(pl + 16, 1000, 4); /* a thousand owners in a few bytes */
	append_raw(path, REC_OWNER, at, wall, pl, 16 + b.len);
	r = record_reader_open(path, err, sizeof(err));
	CHECK(r != NULL);
	named = 0;
	while (r && (ret = record_reader_next(r, &it)) == 1)
		named += it.type == REC_OWNER && it.nowners == 1 && it.owners[0].pid == 42;
	CHECK(r && ret == -1 && named == 1);
	if (r) {
		char want[96];

		snprintf(want, sizeof(want), "malformed owner record at offset %lld",
			 (long long)bad_at);
		CHECK(strstr(record_reader_error(r), want) != NULL);
		if (!strstr(record_reader_error(r), want))
			fprintf(stderr, "got: %s\n", record_reader_error(r));
	}
	record_reader_close(r);
	for (size_t cut = 0; cut < b.len; cut++) {
		struct rcur c = {b.p, cut, 0, false};
		struct record_owner *v = NULL;
		size_t cap = 0, n;
		const char *why = NULL;

		CHECK(record_get_owners(&c, &v, &cap, &n, &why) == -1 && why);
		free(v);
	}
	rbuf_free(&b);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/unit_record.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/rec.tcpd", dir);
	RUN(test_crc);
	RUN(test_round_trip);
	unlink(path);
	RUN(test_seek);
	unlink(path);
	RUN(test_append);
	unlink(path);
	RUN(test_truncation);
	unlink(path);
	RUN(test_bit_flips);
	unlink(path);
	RUN(test_refusals);
	unlink(path);
	RUN(test_backwards);
	RUN(test_write_error);
	RUN(test_times);
	RUN(test_netns_block);
	unlink(path);
	RUN(test_ladder);
	unlink(path);
	RUN(test_owners);
	unlink(path);
	for (int i = 0; i < NSTEPS; i++)
		snapshot_free(&ref[i]);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return unit_done();
}
