/* unit_util.c - durations, addresses, sanitising, state names: the text every output shows. */
#include "config.h"

#include <arpa/inet.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "unit.h"
#include "sock.h"
#include "util.h"

/* Durations grow by unit at a fixed width of 6 columns, as htop's time column. */
static void test_fmt_dur_units(void)
{
	char b[DUR_BUFSZ];

	CHECK_STR(fmt_dur(b, 6000, TIME_BETWEEN, true), "   6µs");
	CHECK_STR(fmt_dur(b, 6000, TIME_BETWEEN, false), "   6us");
	CHECK_STR(fmt_dur(b, 500 * 1000, TIME_BETWEEN, true), " 500µs");
	CHECK_STR(fmt_dur(b, 999 * 1000, TIME_BETWEEN, true), " 999µs");
	CHECK_STR(fmt_dur(b, 1500 * 1000, TIME_BETWEEN, true), " 1.5ms");
	CHECK_STR(fmt_dur(b, 420 * NS_PER_MS, TIME_BETWEEN, true), " 0.42s");
	CHECK_STR(fmt_dur(b, 12300 * NS_PER_MS, TIME_BETWEEN, true), " 12.3s");
	CHECK_STR(fmt_dur(b, (4 * 60 + 7) * NS_PER_SEC, TIME_BETWEEN, true), " 4m07s");
	CHECK_STR(fmt_dur(b, (3 * 3600 + 12 * 60 + 5) * NS_PER_SEC, TIME_BETWEEN, true), " 3h12m");
	CHECK_STR(fmt_dur(b, (2 * 86400 + 4 * 3600) * NS_PER_SEC, TIME_BETWEEN, true), " 2d04h");
	CHECK_STR(fmt_dur(b, -5, TIME_BETWEEN, true), "   0µs");
}

/* Rounding never widens a figure: it moves to the next unit instead. */
static void test_fmt_dur_rounding(void)
{
	char b[DUR_BUFSZ];

	CHECK_STR(fmt_dur(b, 9996 * NS_PER_MS, TIME_BETWEEN, true), " 10.0s");
	CHECK_STR(fmt_dur(b, 59960 * NS_PER_MS, TIME_BETWEEN, true), " 1m00s");
	CHECK_STR(fmt_dur(b, 999600, TIME_BETWEEN, true), " 1.0ms");
	CHECK_STR(fmt_dur(b, 9960 * 1000, TIME_BETWEEN, true), " 0.01s");
}

/* A lower bound is marked, and keeps the width where it can. */
static void test_fmt_dur_atleast(void)
{
	char b[DUR_BUFSZ];

	CHECK_STR(fmt_dur(b, 12300 * NS_PER_MS, TIME_ATLEAST, true), "≥12.3s");
	CHECK_STR(fmt_dur(b, 12300 * NS_PER_MS, TIME_ATLEAST, false), ">=12.3s");
	CHECK_STR(fmt_dur(b, 420 * NS_PER_MS, TIME_ATLEAST, true), "≥0.42s");
	CHECK_STR(fmt_dur(b, 12300 * NS_PER_MS, TIME_EXACT, true), " 12.3s");
}

static void test_fmt_secs(void)
{
	char b[32];

	CHECK_STR(fmt_secs(b, sizeof(b), 1500 * NS_PER_MS), "1.500000");
	CHECK_STR(fmt_secs(b, sizeof(b), 7), "0.000000");
	CHECK_STR(fmt_secs(b, sizeof(b), -2 * NS_PER_SEC), "-2.000000");
	CHECK_STR(fmt_secs(b, sizeof(b), -1500), "-0.000001");
	CHECK_STR(fmt_secs(b, sizeof(b), INT64_MAX), "9223372036.854775");
	CHECK_STR(fmt_secs(b, sizeof(b), INT64_MIN), "-9223372036.854775");
	/* Cut to fit, never past the buffer. */
	CHECK_STR(fmt_secs(b, 5, 1500 * NS_PER_MS), "1.50");
	CHECK(fmt_u64(b, sizeof(b), 0) == 1 && !strcmp(b, "0"));
	CHECK(fmt_u64(b, sizeof(b), UINT64_MAX) == 20 && !strcmp(b, "18446744073709551615"));
	CHECK(fmt_u64(b, 3, 123) == 0 && b[0] == 0);
	CHECK(fmt_u64(b, 4, 123) == 3 && !strcmp(b, "123"));
	CHECK_STR(fmt_str(b, 4, "inet6"), "ine");
}

static void test_fmt_addr(void)
{
	char b[ADDR_BUFSZ];
	uint8_t a4[16] = { 127, 0, 0, 1 }, a6[16];

	inet_pton(AF_INET6, "::1", a6);
	CHECK_STR(fmt_addr(b, sizeof(b), AF_INET, a4, 80), "127.0.0.1:80");
	CHECK_STR(fmt_addr(b, sizeof(b), AF_INET6, a6, 443), "[::1]:443");
	CHECK_STR(fmt_addr(b, sizeof(b), AF_INET, a4, 65535), "127.0.0.1:65535");
	CHECK_STR(fmt_addr(b, sizeof(b), AF_INET, a4, 0), "127.0.0.1:0");
	CHECK_STR(fmt_addr(b, 8, AF_INET, a4, 80), "127.0.0");
}

/* Control characters, escape sequences and invalid UTF-8 become visible text. */
static void test_sanitize(void)
{
	char b[64];

	CHECK_STR(sanitize(b, sizeof(b), "nginx", (size_t)-1), "nginx");
	CHECK_STR(sanitize(b, sizeof(b), "a\x1b[31mred", (size_t)-1), "a\\e[31mred");
	CHECK_STR(sanitize(b, sizeof(b), "bell\a", (size_t)-1), "bell\\a");
	CHECK_STR(sanitize(b, sizeof(b), "cr\rlf\n", (size_t)-1), "cr\\rlf\\n");
	CHECK_STR(sanitize(b, sizeof(b), "osc\x1b]0;x\x07", (size_t)-1), "osc\\e]0;x\\a");
	CHECK_STR(sanitize(b, sizeof(b), "c1\xc2\x9b", (size_t)-1), "c1\\xc2\\x9b");
	CHECK_STR(sanitize(b, sizeof(b), "raw\x9b", (size_t)-1), "raw\\x9b");
	CHECK_STR(sanitize(b, sizeof(b), "bad\xff\xfe", (size_t)-1), "bad\\xff\\xfe");
	CHECK_STR(sanitize(b, sizeof(b), "trunc\xe2\x82", (size_t)-1), "trunc\\xe2\\x82");
	CHECK_STR(sanitize(b, sizeof(b), "caf\xc3\xa9", (size_t)-1), "café");
	CHECK_STR(sanitize(b, sizeof(b), "a\\b", (size_t)-1), "a\\\\b");
	CHECK_STR(sanitize(b, sizeof(b), "del\x7f", (size_t)-1), "del\\x7f");
	CHECK_STR(sanitize(b, sizeof(b), "(sd-pam))", (size_t)-1), "(sd-pam))");
	/* srclen bounds the input; NUL ends it early. */
	CHECK_STR(sanitize(b, sizeof(b), "abcdef", 3), "abc");
	CHECK_STR(sanitize(b, sizeof(b), "ab\0cd", 5), "ab");
}

/* Output is cut to the buffer, never mid-escape, always terminated. */
static void test_sanitize_bounds(void)
{
	char b[6];
	char big[4096];

	CHECK_STR(sanitize(b, sizeof(b), "abcdefgh", (size_t)-1), "abcde");
	CHECK_STR(sanitize(b, sizeof(b), "abcd\x1b", (size_t)-1), "abcd");
	CHECK_STR(sanitize(b, sizeof(b), "abc\xc3\xa9xyz", (size_t)-1), "abcé");
	memset(big, 0x1b, sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sanitize(b, sizeof(b), big, (size_t)-1);
	CHECK_STR(b, "\\e\\e");
	CHECK(sanitize(b, 0, "x", 1) == b);
}

static void test_parse_duration(void)
{
	CHECK(parse_duration("1") == NS_PER_SEC);
	CHECK(parse_duration("0.01") == 10 * NS_PER_MS);
	CHECK(parse_duration("250ms") == 250 * NS_PER_MS);
	CHECK(parse_duration("2s") == 2 * NS_PER_SEC);
	CHECK(parse_duration("1m") == 60 * NS_PER_SEC);
	CHECK(parse_duration("") == -1);
	CHECK(parse_duration("x") == -1);
	CHECK(parse_duration("-1") == -1);
	CHECK(parse_duration("1parsec") == -1);
	CHECK(parse_duration("nan") == -1);
}

/* Every spelling users type maps to the kernel's number; unknown numbers never overrun. */
static void test_state_names(void)
{
	CHECK(st_parse("fin-wait-1") == ST_FIN_WAIT1);
	CHECK(st_parse("FIN_WAIT_1") == ST_FIN_WAIT1);
	CHECK(st_parse("finwait2") == ST_FIN_WAIT2);
	CHECK(st_parse("time-wait") == ST_TIME_WAIT);
	CHECK(st_parse("syn-recv") == ST_SYN_RECV);
	CHECK(st_parse("closed") == ST_CLOSE);
	CHECK(st_parse("close") == ST_CLOSE);
	CHECK(st_parse("close-wait") == ST_CLOSE_WAIT);
	CHECK(st_parse("listen") == ST_LISTEN);
	CHECK(st_parse("established") == ST_ESTABLISHED);
	CHECK(st_parse("bogus") == -1);
	CHECK_STR(st_name(ST_CLOSING), "CLOSING");
	CHECK_STR(st_name(ST_CLOSE), "CLOSED");
	CHECK_STR(st_name(0), "UNSEEN");
	CHECK_STR(st_name(200), "UNKNOWN(200)");
	CHECK(st_rank(ST_LISTEN) < st_rank(ST_ESTABLISHED));
	CHECK(st_rank(ST_FIN_WAIT1) < st_rank(ST_TIME_WAIT));
	CHECK(st_rank(99) == ST_MAX);
	CHECK_STR(timer_name(TM_TIMEWAIT), "timewait");
	CHECK_STR(timer_name(77), "?");
}

/*
 * 4,096 keys that differ only in their source port (one client's connections
 * to one server) spread over 4,096 buckets: no bucket gets more than a few.
 */
static void test_sock_hash_spread(void)
{
	enum { N = 4096 };
	static uint16_t count[N];
	struct sock s = { .family = AF_INET, .dport = 80 };
	uint16_t most = 0;

	s.src[0] = 127, s.src[3] = 1, s.dst[0] = 127, s.dst[3] = 2;
	for (unsigned i = 0; i < N; i++) {
		s.sport = (uint16_t)(32768 + i);
		uint16_t c = ++count[sock_hash(&s) & (N - 1)];
		most = c > most ? c : most;
	}
	CHECK(most <= 8);
	memset(count, 0, sizeof(count));
	most = 0;
	s.family = AF_INET6;
	for (unsigned i = 0; i < N; i++) {
		s.sport = 443;
		s.dst[15] = (uint8_t)i, s.dst[14] = (uint8_t)(i >> 8);
		uint16_t c = ++count[sock_hash(&s) & (N - 1)];
		most = c > most ? c : most;
	}
	CHECK(most <= 8);
}

/* The 4-tuple key ignores bytes past an IPv4 address. */
static void test_sock_key(void)
{
	struct sock a = { .family = AF_INET, .sport = 1, .dport = 2 }, b;
	struct sock_key ka, kb;

	a.src[0] = 127, a.src[3] = 1, a.dst[0] = 127, a.dst[3] = 1;
	b = a;
	b.src[10] = 0xaa;
	sock_key(&a, &ka);
	sock_key(&b, &kb);
	CHECK(sock_key_eq(&ka, &kb));
	CHECK(sock_key_hash(&ka) == sock_key_hash(&kb));
	CHECK(sock_hash(&a) == sock_key_hash(&ka) && sock_hash(&b) == sock_key_hash(&ka));
	b.dport = 3;
	sock_key(&b, &kb);
	CHECK(!sock_key_eq(&ka, &kb));
	CHECK(sock_hash(&b) == sock_key_hash(&kb) && sock_hash(&b) != sock_hash(&a));
}

static void test_snapshot(void)
{
	struct snapshot sn;

	snapshot_init(&sn);
	for (int i = 0; i < 1000; i++)
		snapshot_push(&sn)->cookie = (uint64_t)i;
	CHECK(sn.n == 1000);
	CHECK(sn.v[999].cookie == 999);
	snapshot_clear(&sn);
	CHECK(sn.n == 0 && !sn.complete);
	snapshot_free(&sn);
}

/*
 * Big memory: below BIG_MIN plain malloc, from it on a mapping of its own;
 * contents survive growth across the threshold both ways.
 */
static void test_big(void)
{
	size_t small = 1000, big = BIG_MIN + 12345, bigger = 3 * BIG_MIN;
	unsigned char *p = big_alloc(small);

	for (size_t i = 0; i < small; i++)
		p[i] = (unsigned char)i;
	p = big_realloc(p, small, big);
	CHECK(((uintptr_t)p & ((2u << 20) - 1)) == 0); /* a huge page can start there */
	for (size_t i = small; i < big; i++)
		p[i] = (unsigned char)(i * 7);
	big_huge(p, big);
	p = big_realloc(p, big, bigger);
	bool same = true;
	for (size_t i = 0; i < big; i++)
		same &= p[i] == (unsigned char)(i < small ? i : i * 7);
	CHECK(same);
	p[bigger - 1] = 1;
	p = big_realloc(p, bigger, small);
	same = true;
	for (size_t i = 0; i < small; i++)
		same &= p[i] == (unsigned char)i;
	CHECK(same);
	big_free(p, small);
	big_free(NULL, bigger);
	populate(NULL, 0);
}

/* An index made to exist: doubled from 8, new elements zero, old ones kept. */
static void test_grow_index(void)
{
	uint32_t cap = 0, *v = NULL;

	v = xgrow_index(v, &cap, 0, sizeof(*v));
	CHECK(cap == 8 && v[0] == 0 && v[7] == 0);
	v[3] = 33;
	v = xgrow_index(v, &cap, 7, sizeof(*v));
	CHECK(cap == 8);
	v = xgrow_index(v, &cap, 40, sizeof(*v));
	CHECK(cap == 64 && v[3] == 33 && v[8] == 0 && v[40] == 0 && v[63] == 0);
	free(v);
}

/* Room for an expected dump at once: rows up to it never move. */
static void test_snapshot_expect(void)
{
	size_t rows = BIG_MIN / sizeof(struct sock) * 3;
	struct snapshot sn;
	struct sock *v;

	struct span sp;

	snapshot_init(&sn);
	snapshot_push(&sn)->cookie = 1;
	sp = snapshot_expect(&sn, rows);
	CHECK(sn.cap >= rows && sn.n == 1 && sn.v[0].cookie == 1);
	/* What to fault in ahead: the rows to come, short of the estimate. */
	CHECK(sp.p == sn.v + 1 && sp.len > 0 && sp.len < (rows - 1) * sizeof(struct sock));
	v = sn.v;
	for (size_t i = 1; i < rows; i++)
		snapshot_push(&sn)->cookie = i + 1;
	CHECK(sn.v == v && sn.n == rows && sn.v[rows - 1].cookie == rows);
	sp = snapshot_expect(&sn, 10); /* smaller than what is there: nothing */
	CHECK(sn.v == v && sn.n == rows && sp.len == 0);
	snapshot_free(&sn);
	CHECK(!sn.v && !sn.cap);
}

/* Can this kernel put pages in on request (MADV_POPULATE_WRITE, Linux 5.14)? */
static bool can_populate(void)
{
#ifdef MADV_POPULATE_WRITE
	long page = sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bool ok = p != MAP_FAILED && madvise(p, (size_t)page, MADV_POPULATE_WRITE) == 0;

	if (p != MAP_FAILED)
		munmap(p, (size_t)page);
	return ok;
#else
	return false;
#endif
}

/*
 * Memory faulted in by the second thread: after warm_join() every page of
 * the spans is resident, including pages no one wrote, and what this thread
 * wrote meanwhile is intact. Too little to be worth a thread: none.
 */
static void test_warm(void)
{
	size_t len = 3 * BIG_MIN, page = (size_t)sysconf(_SC_PAGESIZE), npages = len / page;
	unsigned char *p = big_alloc(len), *vec = xmalloc(npages);
	struct span sp[2] = { { .p = p + len / 2, .len = len / 2 }, { .p = p, .len = len / 2 } };
	struct warmer *w;
	bool same = true, resident = true;

	CHECK(warm_start(sp, 0) == NULL);
	CHECK(warm_start(&(struct span){ .p = p, .len = 4096 }, 1) == NULL);
	w = warm_start(sp, 2);
	CHECK(w != NULL || !can_populate());
	/* Written while it works: every 3rd page of the first half. */
	for (size_t i = 0; i < npages / 2; i += 3)
		p[i * page + 7] = (unsigned char)(i | 1);
	warm_join(w);
	warm_join(NULL);
	/* Before anything reads the pages: a read maps untouched ones to the zero page. */
	if (can_populate()) {
		CHECK(mincore(p, len, vec) == 0);
		for (size_t i = 0; i < npages; i++)
			resident &= vec[i] & 1;
		CHECK(resident);
	}
	for (size_t i = 0; i < npages; i++)
		same &= p[i * page + 7] == (i < npages / 2 && i % 3 == 0 ? (unsigned char)(i | 1) : 0);
	CHECK(same);
	free(vec);
	big_free(p, len);
}

static volatile sig_atomic_t usr1_where; /* 0 not yet, 1 this thread, 2 another */
static pid_t main_tid;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_where = (pid_t)syscall(SYS_gettid) == main_tid ? 1 : 2;
}

/*
 * The warming thread takes no signal: one sent to the process while this
 * thread blocks it waits for this thread (the one that restores the
 * terminal), and is never taken by the warming one. 64 MiB of small pages
 * keep that thread busy while the signal comes.
 */
static void test_warm_signals(void)
{
	size_t len = (size_t)64 << 20;
	unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct sigaction sa = { .sa_handler = on_usr1 }, old_sa;
	sigset_t usr1, old_mask;
	struct warmer *w;
	int before_unblock;

	CHECK(p != MAP_FAILED);
	if (p == MAP_FAILED)
		return;
	madvise(p, len, MADV_NOHUGEPAGE);
	main_tid = (pid_t)syscall(SYS_gettid);
	usr1_where = 0;
	sigaction(SIGUSR1, &sa, &old_sa);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	w = warm_start(&(struct span){ .p = p, .len = len, .how = WARM_TOUCH }, 1);
	CHECK(w != NULL);
	/* As the loop does once the view is up: the signals blocked here, read from a signalfd. */
	sigprocmask(SIG_BLOCK, &usr1, &old_mask);
	kill(getpid(), SIGUSR1);
	warm_join(w);
	before_unblock = usr1_where;
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	CHECK(before_unblock == 0);
	CHECK(usr1_where == 1);
	sigaction(SIGUSR1, &old_sa, NULL);
	munmap(p, len);
}

/*
 * Spans to fill hold their byte after warm_join(), whether a thread filled
 * them (beside spans to put in and to touch, which keep what they hold) or,
 * too small for a thread, warm_start() did before it returned.
 */
static void test_warm_fill(void)
{
	size_t big = (size_t)3 << 20, small = 1000;
	unsigned char *a = xmalloc(big), *b = xmalloc(big), *c = xmalloc(small), *d = xmalloc(big);
	struct span sp[4] = { { .p = b, .len = big },
			      { .p = a, .len = big, .how = WARM_FILL, .byte = 0xff },
			      { .p = d, .len = big, .how = WARM_TOUCH },
			      { .p = c, .len = small, .how = WARM_FILL, .byte = 7 } };
	struct warmer *w;
	bool all = true;

	memset(a, 0x11, big);
	memset(b, 0x22, big);
	memset(c, 0x33, small);
	for (size_t i = 0; i < big; i++)
		d[i] = (unsigned char)(i * 13);
	w = warm_start(sp, 4);
	CHECK(w != NULL);
	warm_join(w);
	for (size_t i = 0; i < big; i++)
		all &= a[i] == 0xff && b[i] == 0x22 && d[i] == (unsigned char)(i * 13);
	for (size_t i = 0; i < small; i++)
		all &= c[i] == 7;
	CHECK(all);
	/* Too little for a thread: filled at once. */
	CHECK(warm_start(&sp[3], 1) == NULL);
	memset(c, 0x33, small);
	sp[3].byte = 9;
	CHECK(warm_start(&sp[3], 1) == NULL);
	all = true;
	for (size_t i = 0; i < small; i++)
		all &= c[i] == 9;
	CHECK(all);
	free(a);
	free(b);
	free(c);
	free(d);
}

/* A copy keeps each row's tcp_info with it; the copy's memory is reused. */
static void test_snapshot_copy(void)
{
	struct snapshot a, b;

	snapshot_init(&a);
	snapshot_init(&b);
	a.with_info = true;
	for (int i = 0; i < 300; i++) {
		struct sock *s = snapshot_push(&a);

		s->cookie = (uint64_t)i + 1;
		s->has_info = i % 2;
		a.info[i].rtt_us = (uint32_t)i * 10;
	}
	a.states = ST_ALL_MASK;
	snapshot_copy(&b, &a);
	CHECK(b.n == 300 && b.states == ST_ALL_MASK && b.v[299].cookie == 300);
	CHECK(!snapshot_info(&b, 0) && snapshot_info(&b, 1) && snapshot_info(&b, 1)->rtt_us == 10);
	CHECK(snapshot_info(&b, 299) && snapshot_info(&b, 299)->rtt_us == 2990);
	/* A source without tcp_info gives a copy without it. */
	a.with_info = false;
	snapshot_copy(&b, &a);
	CHECK(b.n == 300 && !snapshot_info(&b, 1));
	snapshot_free(&a);
	snapshot_free(&b);
}

/* The ring of final figures: the newest for a cookie wins, the oldest are overwritten. */
static void test_info_ring(void)
{
	static struct info_ring r;
	struct sock_info in = { 0 }, out;

	CHECK(!info_ring_get(&r, 5, &out));
	for (unsigned i = 1; i <= INFO_RING + 10; i++) {
		in.rtt_us = i;
		info_ring_put(&r, i, &in);
	}
	in.rtt_us = 9999;
	info_ring_put(&r, INFO_RING + 10, &in);
	CHECK(info_ring_get(&r, INFO_RING + 10, &out) && out.rtt_us == 9999);
	CHECK(info_ring_get(&r, 20, &out) && out.rtt_us == 20);
	CHECK(!info_ring_get(&r, 11, &out)); /* overwritten */
	CHECK(!info_ring_get(&r, 0, &out)); /* cookie 0 is none */
}

int main(void)
{
	RUN(test_fmt_dur_units);
	RUN(test_fmt_dur_rounding);
	RUN(test_fmt_dur_atleast);
	RUN(test_fmt_secs);
	RUN(test_fmt_addr);
	RUN(test_sanitize);
	RUN(test_sanitize_bounds);
	RUN(test_parse_duration);
	RUN(test_state_names);
	RUN(test_sock_key);
	RUN(test_sock_hash_spread);
	RUN(test_snapshot);
	RUN(test_snapshot_copy);
	RUN(test_big);
	RUN(test_grow_index);
	RUN(test_snapshot_expect);
	RUN(test_warm);
	RUN(test_warm_fill);
	RUN(test_warm_signals);
	RUN(test_info_ring);
	return unit_done();
}
