/*
 * unit_filter.c - proves that the filter language parses as ss users expect
 * (precedence not > and > or, implicit and, ports, prefixes, IPv6), that
 * the matcher and the state mask agree with it, and that every kind of
 * mistake is reported with the offending word and its column.
 */
#include "config.h"
#include "unit.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "diag.h"
#include "filter.h"
#include "netns.h"
#include "sock.h"

/* The tree in prefix form, to assert the shape the parser built. */
static void dump(const struct filter_node *n, char *out, size_t len)
{
	static const char *const cmp[] = {"=", "!=", "<", "<=", ">", ">="};
	char a[512], b[512], ip[64];
	size_t used = strlen(out);

	out += used;
	len -= used;
	a[0] = b[0] = '\0';
	switch (n->op) {
	case FOP_AND:
	case FOP_OR:
		dump(n->a, a, sizeof(a));
		dump(n->b, b, sizeof(b));
		snprintf(out, len, "(%s %s %s)", n->op == FOP_AND ? "and" : "or", a, b);
		break;
	case FOP_NOT:
		dump(n->a, a, sizeof(a));
		snprintf(out, len, "(not %s)", a);
		break;
	case FOP_TRUE:
		snprintf(out, len, "true");
		break;
	case FOP_STATE:
		snprintf(out, len, "state:%#x", n->u.states);
		break;
	case FOP_SPORT:
	case FOP_DPORT:
		snprintf(out, len, "%s%s%u", n->op == FOP_SPORT ? "sport" : "dport", cmp[n->cmp],
			 n->u.port);
		break;
	case FOP_SRC:
	case FOP_DST:
		if (n->u.net.family)
			inet_ntop(n->u.net.family, n->u.net.addr, ip, sizeof(ip));
		else
			snprintf(ip, sizeof(ip), "*");
		snprintf(out, len, "%s:%s/%u:%d", n->op == FOP_SRC ? "src" : "dst", ip,
			 n->u.net.prefix, (int)n->u.net.port);
		break;
	case FOP_NETNS:
		snprintf(out, len, "netns@%zu+%zu", n->u.name.off, n->u.name.len);
		break;
	}
}

static void check_tree(const char *expr, const char *want, int line)
{
	char err[256], got[1024] = "";
	struct filter *f = filter_parse(expr, err, sizeof(err));

	unit_checks++;
	if (!f) {
		unit_failed++;
		fprintf(stderr, "%s:%d: '%s' did not parse: %s\n", __FILE__, line, expr, err);
		return;
	}
	dump(filter_root(f), got, sizeof(got));
	if (strcmp(got, want)) {
		unit_failed++;
		fprintf(stderr, "%s:%d: '%s' parsed as %s, want %s\n", __FILE__, line, expr, got,
			want);
	}
	CHECK_STR(filter_text(f), expr);
	filter_free(f);
}
#define TREE(expr, want) check_tree(expr, want, __LINE__)

static void check_error(const char *expr, const char *want, int line)
{
	char err[256] = "untouched";
	struct filter *f = filter_parse(expr, err, sizeof(err));

	unit_checks++;
	if (f) {
		unit_failed++;
		fprintf(stderr, "%s:%d: '%s' parsed, want error %s\n", __FILE__, line, expr, want);
		filter_free(f);
		return;
	}
	if (strcmp(err, want)) {
		unit_failed++;
		fprintf(stderr, "%s:%d: '%s'\n  error: %s\n  want:  %s\n", __FILE__, line, expr,
			err, want);
	}
}
#define ERR(expr, want) check_error(expr, want, __LINE__)

#define S(st)	ST_MASK(ST_##st)
#define SYNRECV (S(SYN_RECV) | S(NEW_SYN_RECV))

static void test_states_and_groups(void)
{
	TREE("state established", "state:0x2");
	TREE("state fin-wait-1", "state:0x10");
	TREE("state FIN_WAIT_1", "state:0x10");
	TREE("state finwait2", "state:0x20");
	TREE("STATE Time-Wait", "state:0x40");
	TREE("state closed", "state:0x80");
	TREE("state close-wait", "state:0x100");
	TREE("state last-ack", "state:0x200");
	TREE("state listening", "state:0x400");
	TREE("state closing", "state:0x800");
	TREE("state listen", "state:0x400");
	TREE("state syn-sent", "state:0x4");
	/* Request sockets are NEW_SYN_RECV inside the kernel: both bits. */
	TREE("state syn-recv", "state:0x1008");
	TREE("exclude listening", "(not state:0x400)");

	struct {
		const char *expr;
		uint32_t mask;
	} groups[] = {
	    {"state all", ST_ALL_MASK},
	    {"state connected", ST_ALL_MASK & ~(S(LISTEN) | S(CLOSE))},
	    {"state synchronized", ST_ALL_MASK & ~(S(LISTEN) | S(CLOSE) | S(SYN_SENT))},
	    {"state bucket", SYNRECV | S(TIME_WAIT)},
	    {"state big", ST_ALL_MASK & ~(SYNRECV | S(TIME_WAIT))},
	};
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		struct filter *f = filter_parse(groups[i].expr, NULL, 0);

		CHECK(f != NULL);
		if (!f)
			continue;
		CHECK(filter_root(f)->op == FOP_STATE);
		CHECK(filter_root(f)->u.states == groups[i].mask);
		CHECK(filter_states(f) == groups[i].mask);
		filter_free(f);
	}
}

static void test_ports(void)
{
	TREE("sport = :80", "sport=80");
	TREE("sport == :80", "sport=80");
	TREE("sport :80", "sport=80");
	TREE("sport 80", "sport=80");
	TREE("dport != :22", "dport!=22");
	TREE("dport < 1024", "dport<1024");
	TREE("dport <= :1024", "dport<=1024");
	TREE("dport > :0", "dport>0");
	TREE("dport >= :65535", "dport>=65535");
	TREE("sport eq :1", "sport=1");
	TREE("sport ne :1", "sport!=1");
	TREE("sport lt :1", "sport<1");
	TREE("sport le :1", "sport<=1");
	TREE("sport gt :1", "sport>1");
	TREE("sport ge :1", "sport>=1");
	TREE("sport>=:1024", "sport>=1024");
	TREE("sport!=:22", "sport!=22");
	/* Service names, where the system knows them. */
	if (getservbyname("ssh", "tcp"))
		TREE("dport = :ssh", "dport=22");
}

static void test_addresses(void)
{
	TREE("dst 10.0.0.0/8", "dst:10.0.0.0/8:-1");
	TREE("dst 10.1.2.3", "dst:10.1.2.3/32:-1");
	TREE("src 127.0.0.1:80", "src:127.0.0.1/32:80");
	TREE("src 192.168.0.0/16:443", "src:192.168.0.0/16:443");
	TREE("src *:80", "src:*/0:80");
	TREE("src :80", "src:*/0:80");
	TREE("src *", "src:*/0:-1");
	TREE("src [::1]:80", "src:::1/128:80");
	TREE("src [::1]", "src:::1/128:-1");
	TREE("dst ::1", "dst:::1/128:-1");
	TREE("dst fe80::/10", "dst:fe80::/10:-1");
	TREE("dst [fe80::]/10", "dst:fe80::/10:-1");
	TREE("dst [fe80::]/10:22", "dst:fe80::/10:22");
	TREE("dst [fe80::/10]:22", "dst:fe80::/10:22");
	TREE("dst [2001:db8::1]:8080", "dst:2001:db8::1/128:8080");
	TREE("dst = 10.0.0.0/8", "dst:10.0.0.0/8:-1");
	TREE("dst != 10.0.0.0/8", "(not dst:10.0.0.0/8:-1)");
	TREE("src 0.0.0.0/0", "src:0.0.0.0/0:-1");
}

static void test_precedence(void)
{
	TREE("", "true");
	TREE("   ", "true");
	TREE("state listening or state established and sport = :80",
	     "(or state:0x400 (and state:0x2 sport=80))");
	TREE("state listening and state established or sport = :80",
	     "(or (and state:0x400 state:0x2) sport=80)");
	TREE("not state listening and sport = :80", "(and (not state:0x400) sport=80)");
	TREE("! state listening || ! sport = :80", "(or (not state:0x400) (not sport=80))");
	TREE("not (state listening or sport = :80)", "(not (or state:0x400 sport=80))");
	TREE("state fin-wait-1 and (sport = :80 or dst 10.0.0.0/8)",
	     "(and state:0x10 (or sport=80 dst:10.0.0.0/8:-1))");
	/* Adjacent terms are and-ed, binding as tightly as a written and. */
	TREE("state established sport = :80 or dport = :22",
	     "(or (and state:0x2 sport=80) dport=22)");
	TREE("state established (sport = :80 || sport = :443)",
	     "(and state:0x2 (or sport=80 sport=443))");
	TREE("(state established)&&(sport = :80)", "(and state:0x2 sport=80)");
	TREE("not not state listening", "(not (not state:0x400))");
	TREE("((((state listening))))", "state:0x400");
	TREE("sport = :1 or sport = :2 or sport = :3", "(or (or sport=1 sport=2) sport=3)");
	TREE("sport = :1 and sport = :2 and sport = :3", "(and (and sport=1 sport=2) sport=3)");
	TREE("state established AND NOT dport = :22 OR state listening",
	     "(or (and state:0x2 (not dport=22)) state:0x400)");
}

static struct sock sock4(int st, const char *src, int sport, const char *dst, int dport)
{
	struct sock s = {0};

	s.family = AF_INET;
	s.state = st;
	inet_pton(AF_INET, src, s.src);
	inet_pton(AF_INET, dst, s.dst);
	s.sport = sport;
	s.dport = dport;
	return s;
}

static struct sock sock6(int st, const char *src, int sport, const char *dst, int dport)
{
	struct sock s = {0};

	s.family = AF_INET6;
	s.state = st;
	inet_pton(AF_INET6, src, s.src);
	inet_pton(AF_INET6, dst, s.dst);
	s.sport = sport;
	s.dport = dport;
	return s;
}

static void test_match(void)
{
	struct sock web = sock4(ST_ESTABLISHED, "10.1.2.3", 80, "192.168.1.7", 51000);
	struct sock ssh = sock4(ST_FIN_WAIT1, "10.1.2.3", 40000, "10.9.9.9", 22);
	struct sock lst = sock4(ST_LISTEN, "0.0.0.0", 80, "0.0.0.0", 0);
	struct sock v6 = sock6(ST_CLOSE_WAIT, "fe80::1", 443, "2001:db8::5", 60000);
	struct sock mapped = sock6(ST_TIME_WAIT, "::ffff:10.200.0.1", 8080, "::1", 9);
	struct sock req = sock4(ST_NEW_SYN_RECV, "127.0.0.1", 80, "127.0.0.1", 40001);
	struct {
		const char *expr;
		const struct sock *s;
		bool want;
	} t[] = {
	    {"", &web, true},
	    {"state established", &web, true},
	    {"state established", &ssh, false},
	    {"state connected", &web, true},
	    {"state connected", &lst, false},
	    {"state syn-recv", &req, true},
	    {"state bucket", &req, true},
	    {"state bucket", &mapped, true},
	    {"state big", &mapped, false},
	    {"sport = :80", &web, true},
	    {"sport = :80", &ssh, false},
	    {"sport != :80", &ssh, true},
	    {"dport < :1024", &ssh, true},
	    {"dport < :22", &ssh, false},
	    {"dport <= :22", &ssh, true},
	    {"dport > :22", &ssh, false},
	    {"dport >= :22", &ssh, true},
	    {"dport > :1024", &web, true},
	    {"src 10.0.0.0/8", &web, true},
	    {"src 10.0.0.0/8", &v6, false},
	    {"dst 10.0.0.0/8", &web, false},
	    {"dst 192.168.1.0/24", &web, true},
	    {"dst 192.168.1.0/25", &web, true},
	    {"dst 192.168.1.8/29", &web, false},
	    {"dst 192.168.1.0/30", &web, false},
	    {"dst 192.168.1.4/30", &web, true},
	    {"dst 192.168.1.7", &web, true},
	    {"dst 192.168.1.7:51000", &web, true},
	    {"dst 192.168.1.7:51001", &web, false},
	    {"src *:80", &web, true},
	    {"src *:80", &ssh, false},
	    {"src 0.0.0.0/0", &v6, false},
	    {"src ::/0", &v6, true},
	    {"src ::/0", &web, false},
	    {"src fe80::/10", &v6, true},
	    {"src fe80::/10", &mapped, false},
	    {"src [fe80::1]:443", &v6, true},
	    {"src [fe80::1]:444", &v6, false},
	    {"dst 2001:db8::/32", &v6, true},
	    {"dst 2001:db9::/32", &v6, false},
	    /* IPv4 conditions see v4-mapped IPv6 addresses, as the kernel's bytecode does. */
	    {"src 10.200.0.0/16", &mapped, true},
	    {"src 10.201.0.0/16", &mapped, false},
	    {"dst 127.0.0.1", &mapped, false},
	    {"dst != 10.9.9.9", &ssh, false},
	    {"dst != 10.9.9.9", &web, true},
	    {"state fin-wait-1 and (sport = :80 or dst 10.0.0.0/8)", &ssh, true},
	    {"state fin-wait-1 and (sport = :80 or dst 10.0.0.0/8)", &web, false},
	    {"state established or state fin-wait-1 and sport = :80", &web, true},
	    {"state established or state fin-wait-1 and sport = :80", &ssh, false},
	    {"(state established or state fin-wait-1) and sport = :80", &web, true},
	    {"not state listening and sport = :80", &lst, false},
	    {"not state listening and sport = :80", &web, true},
	    {"not (state listening and sport = :80)", &web, true},
	    {"not (state listening and sport = :80)", &lst, false},
	    {"exclude listening", &lst, false},
	    {"exclude listening", &v6, true},
	    {"state established dport > :50000", &web, true},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char err[256];
		struct filter *f = filter_parse(t[i].expr, err, sizeof(err));

		unit_checks++;
		if (!f) {
			unit_failed++;
			fprintf(stderr, "%s:%d: '%s': %s\n", __FILE__, __LINE__, t[i].expr, err);
			continue;
		}
		if (filter_match(f, t[i].s) != t[i].want) {
			unit_failed++;
			fprintf(stderr, "%s:%d: '%s' on row %zu: want %s\n", __FILE__, __LINE__,
				t[i].expr, i, t[i].want ? "match" : "no match");
		}
		/* The kernel-side state mask must never exclude a matching socket. */
		if (t[i].want)
			CHECK(filter_states(f) & ST_MASK(t[i].s->state));
		filter_free(f);
	}
	CHECK(filter_match(NULL, &web));
	CHECK(filter_states(NULL) == ST_ALL_MASK);
}

static void test_states_mask(void)
{
	struct {
		const char *expr;
		uint32_t mask;
	} t[] = {
	    {"", ST_ALL_MASK},
	    {"sport = :80", ST_ALL_MASK},
	    {"not sport = :80", ST_ALL_MASK},
	    {"state fin-wait-1", S(FIN_WAIT1)},
	    {"state fin-wait-1 or state closing", S(FIN_WAIT1) | S(CLOSING)},
	    {"state fin-wait-1 and state closing", 0},
	    {"state connected and not state established",
	     ST_ALL_MASK & ~(S(LISTEN) | S(CLOSE) | S(ESTABLISHED))},
	    {"not state established", ST_ALL_MASK & ~S(ESTABLISHED)},
	    {"not not state established", S(ESTABLISHED)},
	    {"not (state established or state listening)",
	     ST_ALL_MASK & ~(S(ESTABLISHED) | S(LISTEN))},
	    {"state fin-wait-1 and sport = :80", S(FIN_WAIT1)},
	    {"state fin-wait-1 or sport = :80", ST_ALL_MASK},
	    {"(state fin-wait-1 or state closing) and dst 10.0.0.0/8", S(FIN_WAIT1) | S(CLOSING)},
	    /* Not knowing the port, a socket in any state but FIN_WAIT_1 may match. */
	    {"not (state fin-wait-1 and sport = :80)", ST_ALL_MASK},
	    {"not (state fin-wait-1 or sport = :80)", ST_ALL_MASK & ~S(FIN_WAIT1)},
	    {"exclude time-wait exclude syn-recv", ST_ALL_MASK & ~(S(TIME_WAIT) | SYNRECV)},
	    {"state all", ST_ALL_MASK},
	    {"not state all", 0},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct filter *f = filter_parse(t[i].expr, NULL, 0);

		CHECK(f != NULL);
		if (!f)
			continue;
		unit_checks++;
		if (filter_states(f) != t[i].mask) {
			unit_failed++;
			fprintf(stderr, "%s:%d: '%s': states %#x, want %#x\n", __FILE__, __LINE__,
				t[i].expr, filter_states(f), t[i].mask);
		}
		filter_free(f);
	}
}

/* Under every mask, brute force agrees: a state outside it never matches. */
static void test_states_sound(void)
{
	const char *exprs[] = {
	    "not (state established and not state listening) or sport = :1",
	    "(state closing or not state time-wait) and not (state big or dport > 3)",
	    "not (not state fin-wait-1 or not state connected)",
	};

	for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
		struct filter *f = filter_parse(exprs[i], NULL, 0);
		uint32_t seen = 0;

		CHECK(f != NULL);
		if (!f)
			continue;
		for (int st = 1; st < ST_MAX; st++)
			for (int port = 0; port < 6; port++) {
				struct sock s = sock4(st, "1.1.1.1", port, "2.2.2.2", port);

				if (filter_match(f, &s))
					seen |= ST_MASK(st);
			}
		CHECK((seen & ~filter_states(f)) == 0);
		filter_free(f);
	}
}

static void test_errors(void)
{
	const char *term = "expected state, sport, dport, src, dst, netns, not or '('";
	const char *addr = "expected ADDR[/PREFIX][:PORT], e.g. 10.0.0.0/8, 127.0.0.1:80 "
			   "or [::1]:80";
	char want[512];

	snprintf(want, sizeof(want), "filter: unexpected 'frob' at column 10: %s", term);
	ERR("sport=80 frob", want);
	snprintf(want, sizeof(want), "filter: unexpected 'frob' at column 1: %s", term);
	ERR("frob", want);
	snprintf(want, sizeof(want), "filter: unexpected 'and' at column 1: %s", term);
	ERR("and state listening", want);
	snprintf(want, sizeof(want), "filter: unexpected ')' at column 2: %s", term);
	ERR("()", want);
	snprintf(want, sizeof(want), "filter: unexpected '=' at column 1: %s", term);
	ERR("= 80", want);
	snprintf(want, sizeof(want), "filter: unexpected '&' at column 17: %s", term);
	ERR("state listening & sport = :80", want);
	snprintf(want, sizeof(want), "filter: unexpected end of expression at column 20: %s", term);
	ERR("state listening and", want);
	snprintf(want, sizeof(want), "filter: unexpected end of expression at column 5: %s", term);
	ERR("not ", want);
	snprintf(want, sizeof(want), "filter: unexpected end of expression at column 2: %s", term);
	ERR("(", want);
	/* The offending word is sanitised before it is shown. */
	snprintf(want, sizeof(want), "filter: unexpected '\\xc3' at column 1: %s", term);
	ERR("\xc3 x", want);
	snprintf(want, sizeof(want), "filter: unexpected 'x\\e[31m' at column 1: %s", term);
	ERR("x\033[31m", want);

	ERR("state frob", "filter: unknown state 'frob' at column 7: expected a state such "
			  "as established, fin-wait-1, time-wait, or all, connected, "
			  "synchronized, bucket, big");
	ERR("state", "filter: unexpected end of expression at column 6: expected a state name "
		     "after state");
	ERR("exclude", "filter: unexpected end of expression at column 8: expected a state "
		       "name after exclude");
	ERR("state (", "filter: unknown state '(' at column 7: expected a state such as "
		       "established, fin-wait-1, time-wait, or all, connected, synchronized, "
		       "bucket, big");

	ERR("sport = :http-nonexistent-service",
	    "filter: bad port ':http-nonexistent-service' at column 9: expected :PORT, a "
	    "number 0-65535 or a service name");
	ERR("sport = :65536", "filter: bad port ':65536' at column 9: expected :PORT, a number "
			      "0-65535 or a service name");
	ERR("dport :-1", "filter: bad port ':-1' at column 7: expected :PORT, a number 0-65535 "
			 "or a service name");
	ERR("dport = :80x", "filter: bad port ':80x' at column 9: expected :PORT, a number "
			    "0-65535 or a service name");
	ERR("dport !=", "filter: unexpected end of expression at column 9: expected a port "
			"after dport, e.g. dport = :80");
	ERR("sport", "filter: unexpected end of expression at column 6: expected a port after "
		     "sport, e.g. sport = :80");
	ERR("sport = (", "filter: bad port '(' at column 9: expected :PORT, a number 0-65535 "
			 "or a service name");

	snprintf(want, sizeof(want), "filter: bad address '10.0.0.0/33' at column 5: %s",
		 "bad prefix: expected /0 to /32 for IPv4");
	ERR("dst 10.0.0.0/33", want);
	snprintf(want, sizeof(want), "filter: bad address 'fe80::/129' at column 5: %s",
		 "bad prefix: expected /0 to /128 for IPv6");
	ERR("dst fe80::/129", want);
	snprintf(want, sizeof(want), "filter: bad address '10.0.0.0/x' at column 5: %s",
		 "bad prefix: expected /0 to /32 for IPv4");
	ERR("dst 10.0.0.0/x", want);
	snprintf(want, sizeof(want), "filter: bad address '10.0.0.256' at column 5: %s", addr);
	ERR("dst 10.0.0.256", want);
	snprintf(want, sizeof(want), "filter: bad address 'example.com' at column 5: %s", addr);
	ERR("dst example.com", want);
	snprintf(want, sizeof(want), "filter: bad address '[::1' at column 5: %s", addr);
	ERR("src [::1", want);
	snprintf(want, sizeof(want), "filter: bad address '[::1]x' at column 5: %s", addr);
	ERR("src [::1]x", want);
	snprintf(want, sizeof(want), "filter: bad address '[]:80' at column 5: %s", addr);
	ERR("src []:80", want);
	snprintf(want, sizeof(want), "filter: bad address '*/8' at column 5: %s", addr);
	ERR("src */8", want);
	snprintf(want, sizeof(want), "filter: bad address '1.2.3.4:99999' at column 5: %s",
		 "bad port: expected :PORT, a number 0-65535 or a service name");
	ERR("src 1.2.3.4:99999", want);
	snprintf(want, sizeof(want), "filter: bad address '(' at column 5: %s", addr);
	ERR("src (", want);
	ERR("src < 10.0.0.1", "filter: unexpected '<' at column 5: src compares with = or != "
			      "only");
	ERR("dst", "filter: unexpected end of expression at column 4: expected an address "
		   "after dst, e.g. dst 10.0.0.0/8");

	ERR("(state listening", "filter: unexpected end of expression at column 17: expected "
				"')' to close '(' at column 1");
	ERR("(state listening = 3)", "filter: unexpected '=' at column 18: expected ')' to "
				     "close '(' at column 1");
	ERR("state listening)", "filter: unexpected ')' at column 16: no '(' to close");
	ERR("state listening = 3", "filter: unexpected '=' at column 17: expected 'and', 'or' "
				   "or the end");
}

static void test_limits(void)
{
	char deep[400], err[256];
	struct filter *f;
	size_t n = 0;

	/* 64 levels parse, 65 do not: recursion is bounded. */
	for (int i = 0; i < 63; i++)
		deep[n++] = '(';
	strcpy(deep + n, "state listening");
	n += strlen("state listening");
	for (int i = 0; i < 63; i++)
		deep[n++] = ')';
	deep[n] = '\0';
	f = filter_parse(deep, err, sizeof(err));
	CHECK(f != NULL);
	filter_free(f);

	memset(deep, '!', 100);
	strcpy(deep + 100, "state listening");
	f = filter_parse(deep, err, sizeof(err));
	CHECK(f == NULL);
	CHECK_STR(err, "filter: unexpected '!' at column 65: nested deeper than 64");

	/* A very long expression is refused, not parsed into a huge tree. */
	size_t len = 3000 * 2;
	char *many = malloc(len + 1);

	for (size_t i = 0; i < len; i += 2) {
		many[i] = '!';
		many[i + 1] = ' ';
	}
	many[len] = '\0';
	f = filter_parse(many, err, sizeof(err));
	CHECK(f == NULL);
	CHECK_STR(err, "filter: unexpected '!' at column 2049: expression longer than 1024 "
		       "words (a prefix such as 10.0.0.0/8 or a state group can stand for many)");
	/* The word past the limit is named whole, not its first letter. */
	for (size_t i = 0; i < len; i += 2)
		many[i] = i / 2 % 2 ? '|' : 'x';
	memcpy(many + 2048, "sport", 5);
	f = filter_parse(many, err, sizeof(err));
	CHECK(f == NULL);
	CHECK(strstr(err, "unexpected 'sport' at column 2049: expression longer") != NULL);
	free(many);

	/* A small buffer gets a cut message; no buffer at all is fine. */
	f = filter_parse("frob", err, 12);
	CHECK(f == NULL);
	CHECK_STR(err, "filter: une");
	CHECK(filter_parse("frob", NULL, 0) == NULL);
}

/* netns NAME against a socket of namespace ns, with labels bound. */
static bool netns_matches(const char *expr, const struct netns_tab *labels, uint32_t ns)
{
	char err[256];
	struct filter *f = filter_parse(expr, err, sizeof(err));
	struct sock s = { .family = AF_INET, .state = ST_LISTEN, .netns = ns };
	bool m;

	if (!f) {
		fprintf(stderr, "'%s' did not parse: %s\n", expr, err);
		return false;
	}
	filter_bind_netns(f, labels);
	m = filter_match(f, &s);
	filter_free(f);
	return m;
}

/*
 * netns NAME matches a socket's namespace label in user space: the whole
 * label, or the pid or command of a "pid N (COMM)" one; never the kernel's
 * bytecode; nothing when no labels are bound (tcpdwell's own namespace).
 */
static void test_netns(void)
{
	struct netns_tab *labels = netns_tab_new();
	uint8_t bc[256];
	char err[256];
	struct filter *f;

	netns_tab_set(labels, 0, "host");
	netns_tab_set(labels, 1, "web");
	netns_tab_set(labels, 2, "pid 1234 (nginx)");
	TREE("netns web", "netns@6+3");
	TREE("netns != web", "(not netns@9+3)");
	TREE("netns = web and state listen", "(and netns@8+3 state:0x400)");
	CHECK(netns_matches("netns web", labels, 1));
	CHECK(!netns_matches("netns web", labels, 0));
	CHECK(!netns_matches("netns we", labels, 1));
	CHECK(netns_matches("netns != web", labels, 0));
	CHECK(netns_matches("netns 1234", labels, 2) && netns_matches("netns nginx", labels, 2));
	CHECK(!netns_matches("netns 123", labels, 2) && !netns_matches("netns pid", labels, 2));
	CHECK(netns_matches("netns host or netns web", labels, 1));
	CHECK(!netns_matches("netns web", labels, 7)); /* never labelled: "?" */
	CHECK(!netns_matches("netns web", NULL, 1));
	ERR("netns", "filter: unexpected end of expression at column 6: expected a namespace "
		     "name after netns, e.g. netns web");
	ERR("netns < web", "filter: unexpected '<' at column 7: netns compares with = or != only");
	/* Nothing for the kernel: each namespace is dumped by itself. */
	f = filter_parse("netns web", err, sizeof(err));
	CHECK(f && filter_states(f) == ST_ALL_MASK &&
	      diag_bc_compile(filter_root(f), bc, sizeof(bc)) == 0);
	filter_free(f);
	netns_tab_free(labels);
}

int main(void)
{
	RUN(test_states_and_groups);
	RUN(test_ports);
	RUN(test_addresses);
	RUN(test_precedence);
	RUN(test_netns);
	RUN(test_match);
	RUN(test_states_mask);
	RUN(test_states_sound);
	RUN(test_errors);
	RUN(test_limits);
	return unit_done();
}
