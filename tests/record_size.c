/*
 * record_size.c - what an hour of recording costs: 2,000 steady sockets
 * polled every second, written through the real writer, measured on disk.
 * Proves the format's goal (well under 5 MB an hour for a steady
 * population) and prints bytes per hour, for a quiet population and for one
 * with some traffic and TIME_WAIT churn.
 */
#include "config.h"
#include "record_fmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

#define POP 2000
#define POLLS 3600
#define LIMIT (5u << 20)

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

static void fill(struct sock *s, struct sock_info *in, uint64_t id, int poll, bool busy)
{
	memset(s, 0, sizeof(*s));
	memset(in, 0, sizeof(*in));
	s->cookie = 0x40000 + id * 3;
	s->family = AF_INET;
	s->uid = 33;
	s->src[0] = 10, s->src[1] = 1, s->src[3] = 5;
	s->dst[0] = 10, s->dst[1] = 2, s->dst[2] = (uint8_t)(id >> 8), s->dst[3] = (uint8_t)id;
	s->dport = (uint16_t)(30000 + id * 7);
	if (id < 20) {
		s->state = ST_LISTEN;
		s->sport = (uint16_t)(8000 + id);
		s->inode = (uint32_t)(100000 + id);
		return;
	}
	s->sport = 443;
	s->state = ST_ESTABLISHED;
	s->inode = (uint32_t)(200000 + id);
	s->timer = TM_KEEPALIVE;
	s->expires_ms = 7200000 - (uint32_t)(poll % 7200) * 1000 - rnd() % 5;
	s->has_info = 1;
	in->rtt_us = 200 + (uint32_t)(id % 50);
	in->snd_cwnd = 10;
	in->snd_mss = in->rcv_mss = 1448;
	in->bytes_acked = in->bytes_sent = 4096 + id * 100;
	in->bytes_received = 1024 + id;
	in->segs_in = in->segs_out = 10;
	/* Jiffies and the dump's own pace make idle clocks a few ms off the poll's. */
	in->last_data_recv_ms = in->last_data_sent_ms = 5000 + poll * 1000 + rnd() % 9;
	if (busy) {
		in->bytes_acked += (uint64_t)poll * 1400;
		in->bytes_sent = in->bytes_acked;
		in->segs_out += (uint32_t)poll;
		in->last_data_sent_ms = rnd() % 40;
		in->rtt_us += rnd() % 30;
	}
}

static long hour(const char *path, bool lively)
{
	static const struct record_meta meta = {NS_PER_SEC, "poll", NULL};
	struct snapshot sn;
	struct record_writer *w;
	char err[512];
	long size;

	unlink(path);
	if (!(w = record_writer_open(path, &meta, err, sizeof(err)))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	snapshot_init(&sn);
	sn.with_info = true;
	for (int p = 0; p < POLLS; p++) {
		snapshot_clear(&sn);
		sn.mono = 50 * NS_PER_SEC + (int64_t)p * NS_PER_SEC + (rnd() % 2000) * 1000;
		sn.wall = 1795000000LL * NS_PER_SEC + (int64_t)p * NS_PER_SEC;
		sn.states = ST_ALL_MASK;
		sn.complete = true;
		for (uint64_t id = 0; id < POP; id++) {
			struct sock *s = snapshot_push(&sn);
			fill(s, &sn.info[sn.n - 1], id, p, lively && id % 20 == 0);
		}
		if (lively) {
			/* Two short connections a second, each in TIME_WAIT for 60 s. */
			for (int k = 0; k < 120; k++) {
				int born = p - k / 2;
				struct sock *s = &sn.v[POP - 1 - k];
				uint64_t id = 1000000 + (uint64_t)born * 2 + (uint64_t)(k % 2);
				fill(s, &sn.info[POP - 1 - k], id, p, false);
				s->state = ST_TIME_WAIT;
				s->timer = TM_TIMEWAIT;
				s->has_info = 0;
				s->inode = 0;
				s->expires_ms = (uint32_t)(60000 - (p - born) * 1000);
			}
		}
		struct obs o = {.kind = OBS_SNAPSHOT, .snap = &sn, .mono = sn.mono, .wall = sn.wall};
		if (record_writer_obs(w, &o) < 0) {
			fprintf(stderr, "write failed at poll %d\n", p);
			return -1;
		}
	}
	size = (long)record_writer_size(w);
	record_writer_close(w);
	snapshot_free(&sn);
	unlink(path);
	return size;
}

int main(void)
{
	char path[] = "/tmp/record_size.XXXXXX";
	int fd = mkstemp(path);
	long quiet, lively;

	if (fd < 0)
		return 1;
	close(fd);
	quiet = hour(path, false);
	lively = hour(path, true);
	printf("one hour, %d sockets, 1 s interval: %ld bytes (steady), %ld bytes (5%% busy, "
	       "TIME_WAIT churn)\n",
	       POP, quiet, lively);
	if (quiet < 0 || lively < 0)
		return 1;
	if (quiet >= LIMIT) {
		printf("FAIL: a steady hour must stay under %u bytes\n", LIMIT);
		return 1;
	}
	return 0;
}
