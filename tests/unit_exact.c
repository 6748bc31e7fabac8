/* unit_exact.c - the tracepoint's format file, raw records, perf samples and the ring walk. */
#include "config.h"

#include <arpa/inet.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "unit.h"
#include "exact.h"
#include "util.h"

/* The format file saved from Linux 6.18 (tests/data), read whole. */
static char *saved_format(void)
{
	const char *top = getenv("TOP_SRCDIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/tests/data/inet_sock_set_state.format",
		 top ? top : EXACT_TOP_SRCDIR);
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(1);
	}
	char *buf = xcalloc(1, 65536);
	size_t n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* A layout unlike the kernel's: other offsets, 1-byte states, 4-byte ports, no protocol. */
static const char odd_format[] =
	"name: inet_sock_set_state\n"
	"ID: 77\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\n"
	"\tfield:__u8 daddr_v6[16];\toffset:4;\tsize:16;\tsigned:0;\n"
	"\tfield:__u8 saddr_v6[16];\toffset:20;\tsize:16;\tsigned:0;\n"
	"\tfield:__u8 daddr[4];\toffset:36;\tsize:4;\tsigned:0;\n"
	"\tfield:__u8 saddr[4];\toffset:40;\tsize:4;\tsigned:0;\n"
	"\tfield:__u32 dport;\toffset:44;\tsize:4;\tsigned:0;\n"
	"\tfield:__u32 sport;\toffset:48;\tsize:4;\tsigned:0;\n"
	"\tfield:signed char newstate;\toffset:52;\tsize:1;\tsigned:1;\n"
	"\tfield:signed char oldstate;\toffset:53;\tsize:1;\tsigned:1;\n"
	"\tfield:__u8 family;\toffset:54;\tsize:1;\tsigned:0;\n";

static void put(uint8_t *raw, const struct exact_field *f, int64_t v)
{
	uint8_t b1 = (uint8_t)v;
	uint16_t b2 = (uint16_t)v;
	uint32_t b4 = (uint32_t)v;
	uint64_t b8 = (uint64_t)v;
	switch (f->size) {
	case 1: memcpy(raw + f->offset, &b1, 1); break;
	case 2: memcpy(raw + f->offset, &b2, 2); break;
	case 4: memcpy(raw + f->offset, &b4, 4); break;
	default: memcpy(raw + f->offset, &b8, 8); break;
	}
}

/* A raw record as the kernel writes it, laid out by the parsed format. */
static void craft(const struct exact_format *f, uint8_t *raw, int family, int proto, int from,
		  int to, const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
	memset(raw, 0xa5, 256); /* bytes no field covers must not matter */
	put(raw, &f->family, family);
	if (f->protocol.present)
		put(raw, &f->protocol, proto);
	put(raw, &f->oldstate, from);
	put(raw, &f->newstate, to);
	put(raw, &f->sport, sport);
	put(raw, &f->dport, dport);
	memset(raw + f->saddr.offset, 0, 4);
	memset(raw + f->daddr.offset, 0, 4);
	memset(raw + f->saddr_v6.offset, 0, 16);
	memset(raw + f->daddr_v6.offset, 0, 16);
	if (family == AF_INET6) {
		inet_pton(AF_INET6, src, raw + f->saddr_v6.offset);
		inet_pton(AF_INET6, dst, raw + f->daddr_v6.offset);
	} else {
		inet_pton(AF_INET, src, raw + f->saddr.offset);
		inet_pton(AF_INET, dst, raw + f->daddr.offset);
	}
}

/* The saved format of this kernel: the id and every field where the file puts it. */
static void test_parse_saved(void)
{
	char *text = saved_format();
	struct exact_format f;
	char err[256] = "";

	CHECK(exact_parse_format(text, &f, err, sizeof(err)) == 0);
	CHECK(f.id == 2287);
	CHECK(f.oldstate.present && f.oldstate.offset == 16 && f.oldstate.size == 4);
	CHECK(f.oldstate.is_signed);
	CHECK(f.newstate.offset == 20 && f.newstate.size == 4);
	CHECK(f.sport.offset == 24 && f.sport.size == 2 && !f.sport.is_signed);
	CHECK(f.dport.offset == 26 && f.family.offset == 28 && f.protocol.offset == 30);
	CHECK(f.saddr.offset == 32 && f.saddr.size == 4);
	CHECK(f.daddr.offset == 36 && f.daddr.size == 4);
	CHECK(f.saddr_v6.offset == 40 && f.saddr_v6.size == 16);
	CHECK(f.daddr_v6.offset == 56 && f.daddr_v6.size == 16);
	CHECK(f.skaddr.present && f.skaddr.offset == 8 && f.skaddr.size == 8);
	CHECK(f.need == 72);
	free(text);
}

/* A format lacking a needed field, or with a field of the wrong size, is refused by name. */
static void test_parse_refused(void)
{
	char *text = saved_format();
	struct exact_format f;
	char err[256];

	char *p = strstr(text, "newstate;");
	CHECK(p != NULL);
	memcpy(p, "newstatX;", 9);
	err[0] = '\0';
	CHECK(exact_parse_format(text, &f, err, sizeof(err)) == -1);
	CHECK(strstr(err, "no field 'newstate'") != NULL);
	memcpy(p, "newstate;", 9);

	p = strstr(text, "saddr[4];\toffset:32;\tsize:4;");
	CHECK(p != NULL);
	p[strlen("saddr[4];\toffset:32;\tsize:")] = '8';
	err[0] = '\0';
	CHECK(exact_parse_format(text, &f, err, sizeof(err)) == -1);
	CHECK(strstr(err, "'saddr' has size 8") != NULL);
	free(text);

	CHECK(exact_parse_format("", &f, err, sizeof(err)) == -1);
	CHECK(strstr(err, "no field 'oldstate'") != NULL);
	CHECK(exact_parse_format("\tfield:int oldstate;\toffset:x;\tsize:4;\n", &f, err,
				 sizeof(err)) == -1);
	CHECK(exact_parse_format("\tfield:int oldstate;\toffset:16;\tsize:3;\tsigned:1;\n", &f,
				 err, sizeof(err)) == -1);
	CHECK(strstr(err, "'oldstate' has size 3") != NULL);
}

/* IPv4 and IPv6 changes decode into the key, states and ports in host order. */
static void test_decode_good(void)
{
	char *text = saved_format();
	struct exact_format f;
	char err[256];
	uint8_t raw[256];
	struct obs o;
	char a[ADDR_BUFSZ], b[ADDR_BUFSZ];

	CHECK(exact_parse_format(text, &f, err, sizeof(err)) == 0);
	free(text);
	craft(&f, raw, AF_INET, IPPROTO_TCP, ST_ESTABLISHED, ST_FIN_WAIT1, "127.0.3.1", 40000,
	      "127.0.3.2", 8080);
	memset(&o, 0xff, sizeof(o));
	CHECK(exact_decode_raw(&f, raw, f.need, &o, NULL) == 1);
	CHECK(o.kind == OBS_CHANGE);
	CHECK(o.from == ST_ESTABLISHED && o.to == ST_FIN_WAIT1);
	CHECK(o.key.family == AF_INET && o.key.netns == 0);
	CHECK_STR(fmt_addr(a, sizeof(a), AF_INET, o.key.src, o.key.sport), "127.0.3.1:40000");
	CHECK_STR(fmt_addr(b, sizeof(b), AF_INET, o.key.dst, o.key.dport), "127.0.3.2:8080");
	/* The unused tail of the key is zero, so hashing and equality see only the address. */
	CHECK(o.key.src[4] == 0 && o.key.src[15] == 0 && o.key.dst[15] == 0);

	craft(&f, raw, AF_INET6, IPPROTO_TCP, ST_SYN_SENT, ST_ESTABLISHED, "fd00::1", 50001,
	      "::1", 443);
	CHECK(exact_decode_raw(&f, raw, f.need, &o, NULL) == 1);
	CHECK(o.key.family == AF_INET6 && o.from == ST_SYN_SENT && o.to == ST_ESTABLISHED);
	CHECK_STR(fmt_addr(a, sizeof(a), AF_INET6, o.key.src, o.key.sport), "[fd00::1]:50001");
	CHECK_STR(fmt_addr(b, sizeof(b), AF_INET6, o.key.dst, o.key.dport), "[::1]:443");

	/* The socket's kernel address comes out whole, top bit and all. */
	uint64_t sk = 0, want = 0xffff8881234567c0ull;
	memcpy(raw + f.skaddr.offset, &want, 8);
	CHECK(exact_decode_raw(&f, raw, f.need, &o, &sk) == 1);
	CHECK(sk == want);

	/* CLOSE and NEW_SYN_RECV, the ends of the numbering, pass through. */
	craft(&f, raw, AF_INET, IPPROTO_TCP, ST_NEW_SYN_RECV, ST_CLOSE, "10.0.0.1", 1, "10.0.0.2",
	      65535);
	CHECK(exact_decode_raw(&f, raw, 200, &o, NULL) == 1);
	CHECK(o.from == ST_NEW_SYN_RECV && o.to == ST_CLOSE && o.key.dport == 65535);
}

/* Other protocols and families are skipped; short records and impossible values are rejected. */
static void test_decode_rejects(void)
{
	char *text = saved_format();
	struct exact_format f;
	char err[256];
	uint8_t raw[256];
	struct obs o;

	CHECK(exact_parse_format(text, &f, err, sizeof(err)) == 0);
	free(text);
	craft(&f, raw, AF_INET, 132 /* SCTP */, 1, 4, "1.2.3.4", 1, "5.6.7.8", 2);
	CHECK(exact_decode_raw(&f, raw, f.need, &o, NULL) == 0);
	craft(&f, raw, AF_INET, 262 /* MPTCP */, 1, 4, "1.2.3.4", 1, "5.6.7.8", 2);
	CHECK(exact_decode_raw(&f, raw, f.need, &o, NULL) == 0);
	craft(&f, raw, AF_INET, IPPROTO_TCP, 1, 4, "1.2.3.4", 1, "5.6.7.8", 2);
	put(raw, &f.family, AF_UNIX);
	CHECK(exact_decode_raw(&f, raw, f.need, &o, NULL) == 0);

	craft(&f, raw, AF_INET, IPPROTO_TCP, 1, 4, "1.2.3.4", 1, "5.6.7.8", 2);
	CHECK(exact_decode_raw(&f, raw, f.need - 1, &o, NULL) == -1);
	CHECK(exact_decode_raw(&f, raw, 0, &o, NULL) == -1);
	CHECK(exact_decode_raw(&f, NULL, 100, &o, NULL) == -1);
	put(raw, &f.oldstate, -1);
	CHECK(exact_decode_raw(&f, raw, f.need, &o, NULL) == -1);
	put(raw, &f.oldstate, 1);
	put(raw, &f.newstate, 300);
	CHECK(exact_decode_raw(&f, raw, f.need, &o, NULL) == -1);
}

/* A layout nothing like the kernel's decodes the same: offsets come from the file alone. */
static void test_decode_odd_layout(void)
{
	struct exact_format f;
	char err[256] = "";
	uint8_t raw[256];
	struct obs o;
	char a[ADDR_BUFSZ];

	CHECK(exact_parse_format(odd_format, &f, err, sizeof(err)) == 0);
	CHECK(f.id == 77 && !f.protocol.present && f.need == 55);
	craft(&f, raw, AF_INET, 0, ST_FIN_WAIT1, ST_CLOSING, "192.168.1.9", 22, "192.168.1.10",
	      60000);
	CHECK(exact_decode_raw(&f, raw, f.need, &o, NULL) == 1);
	CHECK(o.from == ST_FIN_WAIT1 && o.to == ST_CLOSING);
	CHECK_STR(fmt_addr(a, sizeof(a), AF_INET, o.key.src, o.key.sport), "192.168.1.9:22");
	CHECK(o.key.dport == 60000);
	/* A signed 1-byte state below zero is no state. */
	put(raw, &f.newstate, -3);
	CHECK(exact_decode_raw(&f, raw, f.need, &o, NULL) == -1);
	/* A 4-byte port above 65535 is no port. */
	put(raw, &f.newstate, ST_CLOSING);
	put(raw, &f.sport, 70000);
	CHECK(exact_decode_raw(&f, raw, f.need, &o, NULL) == -1);
}

/* A PERF_RECORD_SAMPLE: header, time, raw size, raw bytes padded to 8. */
static size_t craft_sample(uint8_t *rec, uint64_t time, const uint8_t *raw, uint32_t rawlen)
{
	struct perf_event_header h = { .type = PERF_RECORD_SAMPLE };
	size_t len = sizeof(h) + 8 + 4 + rawlen;
	len = (len + 7) & ~(size_t)7;
	h.size = (uint16_t)len;
	memset(rec, 0, len);
	memcpy(rec, &h, sizeof(h));
	memcpy(rec + sizeof(h), &time, 8);
	memcpy(rec + sizeof(h) + 8, &rawlen, 4);
	memcpy(rec + sizeof(h) + 12, raw, rawlen);
	return len;
}

/* Samples: the time is taken, odd raw sizes work, and any size that lies is caught. */
static void test_decode_sample(void)
{
	char *text = saved_format();
	struct exact_format f;
	char err[256];
	uint8_t raw[256], rec[512];
	struct obs o;

	CHECK(exact_parse_format(text, &f, err, sizeof(err)) == 0);
	free(text);
	craft(&f, raw, AF_INET, IPPROTO_TCP, ST_FIN_WAIT1, ST_FIN_WAIT2, "127.0.0.1", 5, "127.0.0.2",
	      6);
	/* The kernel's own size (76: 72 bytes and padding), the bare need, and odd sizes. */
	uint32_t sizes[] = { 76, 72, 73, 75, 101 };
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t len = craft_sample(rec, 123456789012345ull + i, raw, sizes[i]);
		CHECK(len % 8 == 0);
		memset(&o, 0, sizeof(o));
		CHECK(exact_decode_sample(&f, rec, len, &o, NULL) == 1);
		CHECK(o.mono == (int64_t)(123456789012345ull + i));
		CHECK(o.from == ST_FIN_WAIT1 && o.to == ST_FIN_WAIT2 && o.key.dport == 6);
	}
	/* Raw payload shorter than the fields need. */
	size_t len = craft_sample(rec, 1, raw, 71);
	CHECK(exact_decode_sample(&f, rec, len, &o, NULL) == -1);
	/* The record cut short of its header's size. */
	len = craft_sample(rec, 1, raw, 76);
	CHECK(exact_decode_sample(&f, rec, len - 8, &o, NULL) == -1);
	CHECK(exact_decode_sample(&f, rec, 19, &o, NULL) == -1);
	CHECK(exact_decode_sample(&f, rec, 0, &o, NULL) == -1);
	/* A raw size past the record's end. */
	uint32_t big = 200;
	memcpy(rec + 16, &big, 4);
	CHECK(exact_decode_sample(&f, rec, len, &o, NULL) == -1);
	/* Not a sample at all. */
	len = craft_sample(rec, 1, raw, 76);
	((struct perf_event_header *)rec)->type = PERF_RECORD_LOST;
	CHECK(exact_decode_sample(&f, rec, len, &o, NULL) == -1);
	/* A header claiming less than its fixed part. */
	len = craft_sample(rec, 1, raw, 76);
	((struct perf_event_header *)rec)->size = 12;
	CHECK(exact_decode_sample(&f, rec, len, &o, NULL) == -1);
}

/* A PERF_RECORD_LOST gives its count; anything else, or a short one, gives none. */
static void test_lost(void)
{
	uint8_t rec[32] = { 0 };
	struct perf_event_header h = { .type = PERF_RECORD_LOST, .size = 24 };
	uint64_t id = 7, n = 1234;

	memcpy(rec, &h, sizeof(h));
	memcpy(rec + 8, &id, 8);
	memcpy(rec + 16, &n, 8);
	CHECK(exact_lost(rec, 24) == 1234);
	CHECK(exact_lost(rec, 23) == 0);
	CHECK(exact_lost(NULL, 24) == 0);
	((struct perf_event_header *)rec)->size = 16;
	CHECK(exact_lost(rec, 24) == 0);
	((struct perf_event_header *)rec)->size = 24;
	((struct perf_event_header *)rec)->type = PERF_RECORD_SAMPLE;
	CHECK(exact_lost(rec, 24) == 0);
}

struct walked {
	int n;
	size_t lens[16];
	uint8_t first[16];
	struct obs o[16];
	const struct exact_format *f;
};

static void on_rec(void *ctx, const uint8_t *rec, size_t len)
{
	struct walked *w = ctx;
	if (w->n < 16) {
		w->lens[w->n] = len;
		w->first[w->n] = rec[8];
		if (w->f)
			exact_decode_sample(w->f, rec, len, &w->o[w->n], NULL);
	}
	w->n++;
}

/* Write len bytes into a ring at a position, wrapping at the end as the kernel does. */
static void ring_put(uint8_t *ring, uint64_t size, uint64_t pos, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		ring[(pos + i) & (size - 1)] = p[i];
}

/* Records that wrap the ring's end, headers included, arrive whole and in order. */
static void test_ring_walk(void)
{
	char *text = saved_format();
	struct exact_format f;
	char err[256];
	uint8_t raw[256], rec[256], ring[512];
	static uint8_t scratch[EXACT_SCRATCH];
	struct walked w = { 0 };

	CHECK(exact_parse_format(text, &f, err, sizeof(err)) == 0);
	free(text);
	w.f = &f;
	/* Positions far past the ring size, as data_head grows without bound. */
	uint64_t base = 10 * 512 + 450, pos = base;
	for (int i = 0; i < 3; i++) {
		craft(&f, raw, AF_INET, IPPROTO_TCP, ST_ESTABLISHED + i, ST_FIN_WAIT1 + i,
		      "127.0.0.1", (uint16_t)(1000 + i), "127.0.0.2", 80);
		size_t len = craft_sample(rec, 1000 + (uint64_t)i, raw, 76);
		ring_put(ring, sizeof(ring), pos, rec, len);
		pos += len; /* 96 each: the first wraps the end at offset 512 */
	}
	CHECK(exact_ring_walk(ring, sizeof(ring), base, pos, scratch, on_rec, &w) == 3);
	CHECK(w.n == 3);
	for (int i = 0; i < 3 && i < w.n; i++) {
		CHECK(w.lens[i] == 96);
		CHECK(w.o[i].mono == 1000 + i);
		CHECK(w.o[i].from == ST_ESTABLISHED + i && w.o[i].key.sport == 1000 + i);
	}

	/* A header split by the end: the record starts 4 bytes before it. */
	memset(&w, 0, sizeof(w));
	uint8_t small[24] = { 0 };
	struct perf_event_header h = { .type = 99, .size = 24 };
	memcpy(small, &h, sizeof(h));
	small[8] = 0x42;
	ring_put(ring, sizeof(ring), 508, small, 24);
	CHECK(exact_ring_walk(ring, sizeof(ring), 508, 532, scratch, on_rec, &w) == 1);
	CHECK(w.lens[0] == 24 && w.first[0] == 0x42);

	/* Nothing to read. */
	memset(&w, 0, sizeof(w));
	CHECK(exact_ring_walk(ring, sizeof(ring), 300, 300, scratch, on_rec, &w) == 0);
	CHECK(w.n == 0);

	/* A record of size 0 would loop forever; one larger than what is unread is a lie. */
	h.size = 0;
	ring_put(ring, sizeof(ring), 0, (uint8_t *)&h, sizeof(h));
	CHECK(exact_ring_walk(ring, sizeof(ring), 0, 64, scratch, on_rec, &w) == -1);
	h.size = 72;
	ring_put(ring, sizeof(ring), 0, (uint8_t *)&h, sizeof(h));
	CHECK(exact_ring_walk(ring, sizeof(ring), 0, 64, scratch, on_rec, &w) == -1);
	/* Fewer unread bytes than a header. */
	CHECK(exact_ring_walk(ring, sizeof(ring), 0, 4, scratch, on_rec, &w) == -1);
	/* More unread than the ring holds, and a ring size that is no power of two. */
	CHECK(exact_ring_walk(ring, sizeof(ring), 0, 520, scratch, on_rec, &w) == -1);
	CHECK(exact_ring_walk(ring, 200, 0, 8, scratch, on_rec, &w) == -1);
	CHECK(w.n == 0);
}

struct released {
	int n;
	struct obs o[16];
};

static void on_obs(void *ctx, const struct obs *o)
{
	struct released *r = ctx;
	if (r->n < 16)
		r->o[r->n] = *o;
	r->n++;
}

static void pend(struct exact_pending *p, uint64_t seq, int64_t mono, uint64_t sk, int from,
		 int to, uint16_t sport)
{
	memset(p, 0, sizeof(*p));
	p->seq = seq;
	p->sk = sk;
	p->o.kind = OBS_CHANGE;
	p->o.mono = mono;
	p->o.from = (uint8_t)from;
	p->o.to = (uint8_t)to;
	p->o.key.family = AF_INET;
	p->o.key.sport = sport;
	p->o.key.dport = 80;
}

/*
 * Changes from several CPUs go out in time order, the unsettled wait, and a
 * connect()'s portless SYN_SENT takes the port of its socket's next change.
 */
static void test_release(void)
{
	struct exact_pending v[8];
	struct released r = { 0 };

	/* CPU 1's ring was read first: later times come before earlier ones. */
	pend(&v[0], 0, 300, 0xa0, ST_SYN_SENT, ST_ESTABLISHED, 5000);
	pend(&v[1], 1, 900, 0xb0, ST_ESTABLISHED, ST_FIN_WAIT1, 6000); /* not settled */
	pend(&v[2], 2, 100, 0xa0, ST_CLOSE, ST_SYN_SENT, 0);
	pend(&v[3], 3, 200, 0xc0, ST_ESTABLISHED, ST_CLOSE_WAIT, 7000);
	pend(&v[4], 4, 300, 0xc0, ST_CLOSE_WAIT, ST_LAST_ACK, 7000); /* same time: arrival order */
	size_t kept = exact_release(v, 5, 500, 0, on_obs, &r);
	CHECK(r.n == 4 && kept == 1);
	CHECK(r.o[0].mono == 100 && r.o[0].to == ST_SYN_SENT && r.o[0].key.sport == 5000);
	CHECK(r.o[1].mono == 200 && r.o[1].to == ST_CLOSE_WAIT);
	CHECK(r.o[2].mono == 300 && r.o[2].to == ST_ESTABLISHED && r.o[2].key.sport == 5000);
	CHECK(r.o[3].mono == 300 && r.o[3].to == ST_LAST_ACK);
	CHECK(v[0].o.mono == 900 && v[0].sk == 0xb0);

	/* A SYN_SENT whose next change has not come yet waits while it is young... */
	memset(&r, 0, sizeof(r));
	pend(&v[0], 5, 1000, 0xd0, ST_CLOSE, ST_SYN_SENT, 0);
	pend(&v[1], 6, 1100, 0xe0, ST_ESTABLISHED, ST_FIN_WAIT1, 6100);
	kept = exact_release(v, 2, 2000, 500, on_obs, &r);
	CHECK(kept == 1 && r.n == 1 && r.o[0].key.sport == 6100);
	CHECK(v[0].sk == 0xd0);
	/* ...and goes without a port once it is older than the hold. */
	kept = exact_release(v, kept, 2000, 1500, on_obs, &r);
	CHECK(kept == 0 && r.n == 2 && r.o[1].to == ST_SYN_SENT && r.o[1].key.sport == 0);

	/* Without a socket address (an older format) nothing is held. */
	memset(&r, 0, sizeof(r));
	pend(&v[0], 7, 1000, 0, ST_CLOSE, ST_SYN_SENT, 0);
	kept = exact_release(v, 1, 2000, 500, on_obs, &r);
	CHECK(kept == 0 && r.n == 1);
}

/* The online CPU list in the kernel's notation; anything else is refused. */
static void test_parse_cpus(void)
{
	int c[8];

	CHECK(exact_parse_cpus("0-1\n", c, 8) == 2 && c[0] == 0 && c[1] == 1);
	CHECK(exact_parse_cpus("0", c, 8) == 1 && c[0] == 0);
	CHECK(exact_parse_cpus("0-2,5,7-8\n", c, 8) == 6 && c[3] == 5 && c[5] == 8);
	CHECK(exact_parse_cpus("0-9", c, 8) == -1);
	CHECK(exact_parse_cpus("3-1", c, 8) == -1);
	CHECK(exact_parse_cpus("a", c, 8) == -1);
	CHECK(exact_parse_cpus("1-", c, 8) == -1);
	CHECK(exact_parse_cpus("1;2", c, 8) == -1);
	CHECK(exact_parse_cpus("", c, 8) == 0);
}

int main(void)
{
	RUN(test_parse_saved);
	RUN(test_parse_refused);
	RUN(test_decode_good);
	RUN(test_decode_rejects);
	RUN(test_decode_odd_layout);
	RUN(test_decode_sample);
	RUN(test_ring_walk);
	RUN(test_lost);
	RUN(test_release);
	RUN(test_parse_cpus);
	return unit_done();
}
