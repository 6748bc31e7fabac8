/*
 * record_bounded_expansion.c - proves (RELIABILITY.md 31): a compressed
 * record whose zstd frame expands far beyond its size (64 MiB of zeros from
 * a few KB) is refused with its offset, before any memory is taken for it;
 * a frame that expands as tcpdwell's own do is read.
 */
#include "config.h"
#include "record_fmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "unit.h"
#include "util.h"

#define CORPUS CORPUS_DIR "/normal-close.tcpd"

static char path[64];
static uint8_t *prefix;
static size_t prefix_len;

/* The corpus recording's file header and first segment: a valid start. */
static void load_prefix(void)
{
	FILE *f = fopen(CORPUS, "rb");
	uint8_t buf[4096];
	size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;

	if (f)
		fclose(f);
	CHECK(n > RECORD_FILE_HDR + RECORD_MIN);
	if (n <= RECORD_FILE_HDR + RECORD_MIN)
		exit(1);
	prefix_len = RECORD_FILE_HDR + (size_t)record_get_le(buf + RECORD_FILE_HDR, 4);
	CHECK(prefix_len <= n);
	prefix = xmalloc(prefix_len);
	memcpy(prefix, buf, prefix_len);
}

/* The prefix, then a key frame whose payload is raw zero bytes, compressed; its offset. */
static uint64_t write_zero_key(size_t raw)
{
	uint8_t *zeros = xcalloc(1, raw), *rec;
	size_t bound = ZSTD_compressBound(raw), z, len;
	FILE *f;

	rec = xmalloc(RECORD_HDR + bound + 4);
	z = ZSTD_compress(rec + RECORD_HDR, bound, zeros, raw, 19);
	CHECK(!ZSTD_isError(z));
	len = RECORD_HDR + z + 4;
	memset(rec, 0, RECORD_HDR);
	record_put_le(rec, len, 4);
	rec[4] = REC_KEY;
	rec[5] = RECF_ZSTD;
	/* The segment's own times: time does not go backwards. */
	memcpy(rec + 8, prefix + RECORD_FILE_HDR + 8, 16);
	record_put_le(rec + len - 4, record_crc32(0, rec, len - 4), 4);
	f = fopen(path, "wb");
	CHECK(f && fwrite(prefix, 1, prefix_len, f) == prefix_len && fwrite(rec, 1, len, f) == len);
	if (f)
		fclose(f);
	free(zeros);
	free(rec);
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

static void test_bomb_refused(void)
{
	char err[512], want[64];
	uint64_t off = write_zero_key(64u << 20);

	CHECK(read_through(err, sizeof(err)) == -1);
	snprintf(want, sizeof(want), "at offset %llu claims", (unsigned long long)off);
	CHECK(strstr(err, want) != NULL);
	if (!strstr(err, want))
		fprintf(stderr, "got: %s\n", err);
}

static void test_modest_frame_read(void)
{
	char err[512] = "";

	/* An empty key frame padded with zeros: about 60 to 1, as tcpdwell's compress. */
	write_zero_key(1024);
	CHECK(read_through(err, sizeof(err)) == 1);
	if (err[0])
		fprintf(stderr, "got: %s\n", err);
}

int main(void)
{
	snprintf(path, sizeof(path), "/tmp/tcpdwell-bomb.%ld.tcpd", (long)getpid());
	load_prefix();
	RUN(test_bomb_refused);
	RUN(test_modest_frame_read);
	unlink(path);
	free(prefix);
	return unit_done();
}
