/* unit_group - sockets totalled by a key: exact counts per state, the order, the keys. */
#include "config.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "group.h"

static struct tsock mk(uint8_t last, uint16_t dport, unsigned st, int64_t since)
{
	struct tsock ts;

	memset(&ts, 0, sizeof(ts));
	ts.s.family = AF_INET;
	ts.s.state = (uint8_t)st;
	ts.s.src[0] = 127, ts.s.src[3] = 1, ts.s.sport = 40000;
	ts.s.dst[0] = 10, ts.s.dst[3] = last, ts.s.dport = dport;
	ts.since = since;
	ts.since_kind = TIME_BETWEEN;
	return ts;
}

/*
 * 250 peers (the slots grow several times), peer n holding n % 7 + 1
 * TIME_WAIT and one ESTABLISHED: every group's counts come out exact.
 */
static void test_counts(void)
{
	struct group_tab gt = {0};
	struct col_ctx c = {0};
	char key[ADDR_BUFSZ + 64];
	size_t total = 0;

	for (unsigned p = 1; p <= 250; p++) {
		for (unsigned k = 0; k < p % 7 + 1; k++) {
			struct tsock ts =
			    mk((uint8_t)p, (uint16_t)(1000 + k), ST_TIME_WAIT, 100 + p);

			group_key(GB_PEER, &c, &ts, key, sizeof(key));
			group_tab_add(&gt, key, &ts);
			total++;
		}
		struct tsock ts = mk((uint8_t)p, 80, ST_ESTABLISHED, 50);

		group_key(GB_PEER, &c, &ts, key, sizeof(key));
		group_tab_add(&gt, key, &ts);
		total++;
	}
	CHECK(gt.n == 250);
	for (size_t i = 0; i < gt.n; i++) {
		unsigned p = (unsigned)atoi(strrchr(gt.g[i].key, '.') + 1);

		CHECK(gt.g[i].per_state[ST_TIME_WAIT] == p % 7 + 1);
		CHECK(gt.g[i].per_state[ST_ESTABLISHED] == 1);
		CHECK(gt.g[i].n == p % 7 + 2);
		CHECK(gt.g[i].oldest == 50);
		total -= gt.g[i].n;
	}
	CHECK(total == 0);
	group_tab_free(&gt);
}

/* Largest first, the key breaking ties; by age the oldest first, a ghosts-only group last. */
static void test_order(void)
{
	struct group_tab gt = {0};
	struct tsock a1 = mk(1, 1, ST_ESTABLISHED, 300), a2 = mk(1, 2, ST_TIME_WAIT, 400);
	struct tsock b1 = mk(2, 1, ST_CLOSE_WAIT, 100), c1 = mk(3, 1, ST_TIME_WAIT, 200);
	struct tsock g1 = mk(4, 1, ST_TIME_WAIT, 10);
	size_t order[4];

	g1.flags |= TS_GHOST;
	group_tab_add(&gt, "c", &c1);
	group_tab_add(&gt, "a", &a1);
	group_tab_add(&gt, "a", &a2);
	group_tab_add(&gt, "g", &g1);
	group_tab_add(&gt, "b", &b1);
	group_tab_order(&gt, false, order);
	CHECK_STR(gt.g[order[0]].key, "a");
	CHECK_STR(gt.g[order[1]].key, "b");
	CHECK_STR(gt.g[order[2]].key, "c");
	CHECK_STR(gt.g[order[3]].key, "g");
	group_tab_order(&gt, true, order);
	CHECK_STR(gt.g[order[0]].key, "b");
	CHECK_STR(gt.g[order[1]].key, "c");
	CHECK_STR(gt.g[order[2]].key, "a");
	CHECK_STR(gt.g[order[3]].key, "g");
	/* A ghost is counted in n and ghosts, in no state, and has no age. */
	CHECK(gt.g[2].n == 1 && gt.g[2].ghosts == 1 && gt.g[2].oldest == 0);
	CHECK(gt.g[2].per_state[ST_TIME_WAIT] == 0);
	group_tab_clear(&gt);
	CHECK(gt.n == 0);
	group_tab_add(&gt, "a", &a1);
	CHECK(gt.n == 1 && gt.g[0].n == 1);
	group_tab_free(&gt);
}

static void test_keys(void)
{
	struct col_ctx c = {0};
	struct tsock ts = mk(9, 443, ST_ESTABLISHED, 1);
	char key[ADDR_BUFSZ + 64];

	group_key(GB_PEER, &c, &ts, key, sizeof(key));
	CHECK_STR(key, "10.0.0.9");
	group_key(GB_PEER_PORT, &c, &ts, key, sizeof(key));
	CHECK_STR(key, "10.0.0.9:443");
	group_key(GB_LOCAL_PORT, &c, &ts, key, sizeof(key));
	CHECK_STR(key, "40000");
	group_key(GB_STATE, &c, &ts, key, sizeof(key));
	CHECK_STR(key, "ESTABLISHED");
	group_key(GB_PROCESS, &c, &ts, key, sizeof(key));
	CHECK_STR(key, "-");
	group_key(GB_NETNS, &c, &ts, key, sizeof(key));
	CHECK_STR(key, "-");
	ts.s.family = AF_INET6;
	memset(ts.s.dst, 0, 16);
	ts.s.dst[0] = 0x20, ts.s.dst[1] = 0x01, ts.s.dst[2] = 0x0d, ts.s.dst[3] = 0xb8;
	ts.s.dst[15] = 1;
	group_key(GB_PEER, &c, &ts, key, sizeof(key));
	CHECK_STR(key, "2001:db8::1");
	CHECK(group_by_parse("peer-port") == GB_PEER_PORT && group_by_parse("peer:port") == -1);
	CHECK_STR(group_by_name(GB_LOCAL_PORT), "local-port");
}

int main(void)
{
	RUN(test_counts);
	RUN(test_order);
	RUN(test_keys);
	return unit_done();
}
