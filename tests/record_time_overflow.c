/*
 * record_time_overflow.c - proves (RELIABILITY.md 32): a recording whose
 * record carries an extreme time (near INT64_MAX on the timeline, or a
 * negative wall time) is refused at that record with its offset, so no
 * later sum or difference of times can overflow; a record with ordinary
 * times in the same place is read.
 */
#include "config.h"
#include "record_fmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "util.h"

#define CORPUS CORPUS_DIR "/normal-close.tcpd"

static char path[64];
static uint8_t prefix[4096];
static size_t prefix_len;

/* The corpus recording's file header and first segment: a valid start. */
static void load_prefix(void)
{
	FILE *f = fopen(CORPUS, "rb");
	size_t n = f ? fread(prefix, 1, sizeof(prefix), f) : 0;

	if (f)
		fclose(f);
	if (n <= RECORD_FILE_HDR + RECORD_MIN) {
		fprintf(stderr, "cannot read %s\n", CORPUS);
		exit(1);
	}
	prefix_len = RECORD_FILE_HDR + (size_t)record_get_le(prefix + RECORD_FILE_HDR, 4);
}

/* The prefix, then a note record with these header and payload times; its offset. */
static uint64_t write_note(uint64_t hdr_mono, uint64_t hdr_wall, uint64_t mono, uint64_t wall)
{
	uint8_t rec[RECORD_HDR + 16 + 8 + 4] = {0};
	size_t len = sizeof(rec);
	FILE *f;

	record_put_le(rec, len, 4);
	rec[4] = REC_NOTE;
	record_put_le(rec + 8, hdr_mono, 8);
	record_put_le(rec + 16, hdr_wall, 8);
	record_put_le(rec + RECORD_HDR, mono, 8);
	record_put_le(rec + RECORD_HDR + 8, wall, 8);
	/* An empty note: its length, 0, and padding the reader does not read. */
	record_put_le(rec + len - 4, record_crc32(0, rec, len - 4), 4);
	f = fopen(path, "wb");
	CHECK(f && fwrite(prefix, 1, prefix_len, f) == prefix_len && fwrite(rec, 1, len, f) == len);
	if (f)
		fclose(f);
	return prefix_len;
}

/* Read the file through: 1 read well, -1 refused (err set). */
static int read_through(char *err, size_t errlen)
{
	struct record_reader *r = record_reader_open(path, err, errlen);
	struct record_item it;
	int ret;

	if (!r)
		return -1;
	while ((ret = record_reader_next(r, &it)) == 1)
		;
	if (ret < 0)
		snprintf(err, errlen, "%s", record_reader_error(r));
	record_reader_close(r);
	return ret < 0 ? -1 : 1;
}

/* The file with these times is refused, naming the record's offset. */
static void refused(uint64_t hm, uint64_t hw, uint64_t m, uint64_t w)
{
	char err[512] = "", want[64];
	uint64_t off = write_note(hm, hw, m, w);

	snprintf(want, sizeof(want), "offset %llu", (unsigned long long)off);
	CHECK(read_through(err, sizeof(err)) == -1 && strstr(err, "time out of range") &&
	      strstr(err, want));
	if (!strstr(err, "time out of range"))
		fprintf(stderr, "got: %s\n", err);
}

static uint64_t seg_mono(void)
{
	return record_get_le(prefix + RECORD_FILE_HDR + 8, 8);
}

static uint64_t seg_wall(void)
{
	return record_get_le(prefix + RECORD_FILE_HDR + 16, 8);
}

static void test_ordinary_times_read(void)
{
	char err[512] = "";

	write_note(seg_mono() + 1, seg_wall() + 1, seg_mono() + 1, seg_wall() + 1);
	CHECK(read_through(err, sizeof(err)) == 1);
	if (err[0])
		fprintf(stderr, "got: %s\n", err);
}

static void test_extreme_times_refused(void)
{
	uint64_t m = seg_mono() + 1, w = seg_wall() + 1;

	refused((uint64_t)INT64_MAX - 5, w, m, w);	/* the timeline's end, in the header */
	refused(UINT64_MAX, w, m, w);			/* a negative time */
	refused(m, (uint64_t)INT64_MIN, m, w);		/* a wall time before 1970 */
	refused(m, w, (uint64_t)INT64_MAX, w);		/* the observation's own, in the payload */
	refused(m, w, m, (uint64_t)INT64_MIN + 854775); /* 1677-09-21 */
}

int main(void)
{
	snprintf(path, sizeof(path), "/tmp/tcpdwell-times.%ld.tcpd", (long)getpid());
	load_prefix();
	RUN(test_ordinary_times_read);
	RUN(test_extreme_times_refused);
	unlink(path);
	return unit_done();
}
