#include "config.h"
#include "filter.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netns.h"
#include "util.h"

/*
 * The grammar, loosest binding first (not > and > or, as in ss):
 *	expr := and { ("or" | "||") and }
 *	and  := unary { ["and" | "&&"] unary }	adjacent terms are and-ed
 *	unary:= ("not" | "!") unary | "(" expr ")" | term
 *	term := "state" NAME | "exclude" NAME
 *	      | ("sport" | "dport") [OP] [:]PORT
 *	      | ("src" | "dst") [= | == | != | eq | ne] ADDR[/PREFIX][:PORT]
 */

/* Far more than anyone types; bounds recursion when parsing and matching. */
#define FILTER_MAX_TOKENS 1024
#define FILTER_MAX_DEPTH  64

enum tok_kind { T_WORD, T_LPAREN, T_RPAREN, T_NOT, T_AND, T_OR, T_CMP, T_END };

struct token {
	enum tok_kind kind;
	enum filter_cmp cmp; /* T_CMP */
	const char *s;	     /* into the expression */
	size_t len;
	size_t off; /* byte offset, for the column */
};

struct filter {
	char *text;
	struct filter_node *nodes; /* one allocation; tree links point into it */
	size_t nnodes, cap;
	const struct filter_node *root;
	const struct netns_tab *labels;
};

struct parser {
	const char *expr;
	struct token *tok;
	size_t ntok, pos;
	struct filter *f;
	int depth;
	char *err;
	size_t errlen;
	bool failed;
};

static const char expect_term[] = "expected state, sport, dport, src, dst, netns, not or '('";
static const char expect_addr[] =
    "expected ADDR[/PREFIX][:PORT], e.g. 10.0.0.0/8, 127.0.0.1:80 or [::1]:80";
static const char expect_port[] = "expected :PORT, a number 0-65535 or a service name";

static void fail(struct parser *p, const struct token *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "filter: unexpected 'word' at column N: DETAIL" (from 1, in bytes); the first error wins. */
static void fail(struct parser *p, const struct token *t, const char *fmt, ...)
{
	char word[48], detail[256];
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (!p->errlen)
		return;
	if (t->kind == T_END) {
		snprintf(p->err, p->errlen,
			 "filter: unexpected end of expression at column %zu: %s", t->off + 1,
			 detail);
		return;
	}
	sanitize(word, sizeof(word), t->s, t->len);
	snprintf(p->err, p->errlen, "filter: unexpected '%s' at column %zu: %s", word, t->off + 1,
		 detail);
}

static void fail_word(struct parser *p, const struct token *t, const char *what, const char *detail)
{
	char word[48];

	if (p->failed)
		return;
	p->failed = true;
	if (!p->errlen)
		return;
	sanitize(word, sizeof(word), t->s, t->len);
	snprintf(p->err, p->errlen, "filter: %s '%s' at column %zu: %s", what, word, t->off + 1,
		 detail);
}

static bool word_is(const struct token *t, const char *w)
{
	return t->kind == T_WORD && strlen(w) == t->len && !strncasecmp(t->s, w, t->len);
}

/* Operators end words, so "sport>=1024" reads as three tokens. */
static size_t lex_op(const char *s, struct token *t)
{
	static const struct {
		const char *s;
		enum tok_kind kind;
		enum filter_cmp cmp;
	} ops[] = {
	    {"&&", T_AND, 0},	    {"||", T_OR, 0},	    {"!=", T_CMP, FCMP_NE},
	    {"==", T_CMP, FCMP_EQ}, {"<=", T_CMP, FCMP_LE}, {">=", T_CMP, FCMP_GE},
	    {"(", T_LPAREN, 0},	    {")", T_RPAREN, 0},	    {"!", T_NOT, 0},
	    {"=", T_CMP, FCMP_EQ},  {"<", T_CMP, FCMP_LT},  {">", T_CMP, FCMP_GT},
	};

	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		size_t n = strlen(ops[i].s);

		if (!strncmp(s, ops[i].s, n)) {
			t->kind = ops[i].kind;
			t->cmp = ops[i].cmp;
			return n;
		}
	}
	return 0;
}

static bool lex(struct parser *p)
{
	const char *e = p->expr;
	size_t i = 0, cap = 16;

	p->tok = xreallocarray(NULL, cap, sizeof(*p->tok));
	for (;;) {
		struct token t = {0};

		while (e[i] == ' ' || e[i] == '\t' || e[i] == '\n' || e[i] == '\r')
			i++;
		t.s = e + i;
		t.off = i;
		if (p->ntok + 1 >= cap) {
			cap *= 2;
			p->tok = xreallocarray(p->tok, cap, sizeof(*p->tok));
		}
		if (!e[i]) {
			t.kind = T_END;
			p->tok[p->ntok++] = t;
			return true;
		}
		t.len = lex_op(e + i, &t);
		if (!t.len) {
			t.kind = T_WORD;
			while (e[i + t.len] && !strchr(" \t\n\r()!&|=<>", e[i + t.len]))
				t.len++;
			if (!t.len) /* a lone '&' or '|' */
				t.len = 1;
			if (word_is(&t, "and")) {
				t.kind = T_AND;
			} else if (word_is(&t, "or")) {
				t.kind = T_OR;
			} else if (word_is(&t, "not")) {
				t.kind = T_NOT;
			} else {
				static const char *const cmps[] = {
				    [FCMP_EQ] = "eq", [FCMP_NE] = "ne", [FCMP_LT] = "lt",
				    [FCMP_LE] = "le", [FCMP_GT] = "gt", [FCMP_GE] = "ge",
				};

				for (size_t c = 0; c < ARRAY_SIZE(cmps); c++) {
					if (word_is(&t, cmps[c])) {
						t.kind = T_CMP;
						t.cmp = c;
					}
				}
			}
		}
		/* Checked once the word is whole: the message names it as written. */
		if (p->ntok >= FILTER_MAX_TOKENS) {
			fail(p, &t,
			     "expression longer than %d words (a prefix such as 10.0.0.0/8 "
			     "or a state group can stand for many)",
			     FILTER_MAX_TOKENS);
			return false;
		}
		i += t.len;
		p->tok[p->ntok++] = t;
	}
}

static struct filter_node *node(struct parser *p, enum filter_op op)
{
	struct filter *f = p->f;
	struct filter_node *n;

	/* Sized in filter_parse() from the token count: never moves. */
	if (f->nnodes >= f->cap)
		abort();
	n = &f->nodes[f->nnodes++];
	memset(n, 0, sizeof(*n));
	n->op = op;
	return n;
}

static const struct filter_node *binary(struct parser *p, enum filter_op op,
					const struct filter_node *a, const struct filter_node *b)
{
	struct filter_node *n = node(p, op);

	n->a = a;
	n->b = b;
	return n;
}

static const struct filter_node *negate(struct parser *p, const struct filter_node *a)
{
	return binary(p, FOP_NOT, a, NULL);
}

static const struct token *peek(const struct parser *p)
{
	return &p->tok[p->pos];
}

static const struct token *next(struct parser *p)
{
	const struct token *t = &p->tok[p->pos];

	if (t->kind != T_END)
		p->pos++;
	return t;
}

static const struct filter_node *parse_or(struct parser *p);

/* ss's state groups; any single state name is given to st_parse(). */
static bool state_mask(const struct token *t, uint32_t *mask)
{
	const uint32_t bucket =
	    ST_MASK(ST_SYN_RECV) | ST_MASK(ST_NEW_SYN_RECV) | ST_MASK(ST_TIME_WAIT);
	const uint32_t connected = ST_ALL_MASK & ~(ST_MASK(ST_LISTEN) | ST_MASK(ST_CLOSE));
	char name[32];
	int st;

	if (word_is(t, "all"))
		*mask = ST_ALL_MASK;
	else if (word_is(t, "connected"))
		*mask = connected;
	else if (word_is(t, "synchronized") || word_is(t, "synchronised"))
		*mask = connected & ~ST_MASK(ST_SYN_SENT);
	else if (word_is(t, "bucket"))
		*mask = bucket;
	else if (word_is(t, "big"))
		*mask = ST_ALL_MASK & ~bucket;
	else if (word_is(t, "listening")) /* ss's spelling */
		*mask = ST_MASK(ST_LISTEN);
	else {
		if (t->kind != T_WORD || t->len >= sizeof(name))
			return false;
		memcpy(name, t->s, t->len);
		name[t->len] = '\0';
		st = st_parse(name);
		if (st <= ST_UNKNOWN || st >= ST_MAX)
			return false;
		*mask = ST_MASK(st);
		/* The kernel keeps SYN_RECV connections as request sockets. */
		if (st == ST_SYN_RECV || st == ST_NEW_SYN_RECV)
			*mask |= ST_MASK(ST_SYN_RECV) | ST_MASK(ST_NEW_SYN_RECV);
	}
	return true;
}

static const struct filter_node *parse_state(struct parser *p, bool exclude)
{
	const struct token *t = next(p);
	struct filter_node *n;
	uint32_t mask;

	if (t->kind == T_END) {
		fail(p, t, "expected a state name after %s", exclude ? "exclude" : "state");
		return NULL;
	}
	if (!state_mask(t, &mask)) {
		fail_word(p, t, "unknown state",
			  "expected a state such as established, fin-wait-1, time-wait, "
			  "or all, connected, synchronized, bucket, big");
		return NULL;
	}
	n = node(p, FOP_STATE);
	n->u.states = mask;
	return exclude ? negate(p, n) : n;
}

/* A port: 80, :80, or a service name (:ssh). */
static bool port_value(const char *s, size_t len, uint16_t *port)
{
	char buf[64], *end;
	struct servent *se;
	unsigned long v;

	if (len && *s == ':') {
		s++;
		len--;
	}
	if (!len || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (isdigit((unsigned char)buf[0])) {
		errno = 0;
		v = strtoul(buf, &end, 10);
		if (*end || errno || v > 65535)
			return false;
		*port = v;
		return true;
	}
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)buf[i]) && buf[i] != '-' && buf[i] != '_')
			return false;
	se = getservbyname(buf, "tcp");
	if (!se)
		return false;
	*port = ntohs(se->s_port);
	return true;
}

static const struct filter_node *parse_port(struct parser *p, enum filter_op op)
{
	const struct token *kw = &p->tok[p->pos - 1], *t = next(p);
	enum filter_cmp cmp = FCMP_EQ;
	struct filter_node *n;
	uint16_t port;

	if (t->kind == T_CMP) {
		cmp = t->cmp;
		t = next(p);
	}
	if (t->kind == T_END) {
		fail(p, t, "expected a port after %.*s, e.g. %.*s = :80", (int)kw->len, kw->s,
		     (int)kw->len, kw->s);
		return NULL;
	}
	if (t->kind != T_WORD || !port_value(t->s, t->len, &port)) {
		fail_word(p, t, "bad port", expect_port);
		return NULL;
	}
	n = node(p, op);
	n->cmp = cmp;
	n->u.port = port;
	return n;
}

static bool parse_prefix(const char *s, size_t len, unsigned max, uint8_t *prefix)
{
	unsigned v = 0;

	if (!len || len > 3)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return false;
	*prefix = v;
	return true;
}

/*
 * ADDR[/PREFIX][:PORT]: 10.0.0.0/8, 127.0.0.1:80, *:80, :80, [::1]:80,
 * [fe80::]/10, or bare IPv6 (::1, fe80::/10; no port: the colons are taken).
 */
static bool addr_value(const char *s, size_t len, struct filter_node *n, const char **why)
{
	const char *end = s + len, *a = s, *a_end, *rest, *slash;
	const char *pfx = NULL, *pfx_end = NULL;
	char buf[INET6_ADDRSTRLEN + 1];
	bool bracket = *s == '[';
	uint16_t port;
	unsigned max;

	*why = expect_addr;
	n->u.net.port = -1;
	if (bracket) {
		a = s + 1;
		a_end = memchr(a, ']', end - a);
		if (!a_end)
			return false;
		rest = a_end + 1;
	} else if ((a_end = memchr(s, ':', len)) && memchr(a_end + 1, ':', end - a_end - 1)) {
		a_end = rest = end;
	} else {
		a_end = rest = a_end ? a_end : end;
	}
	slash = memchr(a, '/', a_end - a);
	if (slash) {
		pfx = slash + 1;
		pfx_end = a_end;
		a_end = slash;
	} else if (bracket && rest < end && *rest == '/') {
		pfx = rest + 1;
		pfx_end = memchr(pfx, ':', end - pfx);
		rest = pfx_end = pfx_end ? pfx_end : end;
	}
	if (rest < end) {
		if (*rest != ':')
			return false;
		if (!port_value(rest, end - rest, &port)) {
			*why = "bad port: expected :PORT, a number 0-65535 or a service name";
			return false;
		}
		n->u.net.port = port;
	}

	if (!bracket && (a == a_end || (a_end - a == 1 && *a == '*'))) {
		/* Any address: only the port counts. */
		return !pfx;
	}
	if ((size_t)(a_end - a) >= sizeof(buf))
		return false;
	memcpy(buf, a, a_end - a);
	buf[a_end - a] = '\0';
	if (inet_pton(AF_INET, buf, n->u.net.addr) == 1) {
		n->u.net.family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, n->u.net.addr) == 1) {
		n->u.net.family = AF_INET6;
		max = 128;
	} else {
		return false;
	}
	n->u.net.prefix = max;
	if (pfx && !parse_prefix(pfx, pfx_end - pfx, max, &n->u.net.prefix)) {
		*why = max == 32 ? "bad prefix: expected /0 to /32 for IPv4"
				 : "bad prefix: expected /0 to /128 for IPv6";
		return false;
	}
	return true;
}

static const struct filter_node *parse_addr(struct parser *p, enum filter_op op)
{
	const struct token *kw = &p->tok[p->pos - 1], *t = next(p);
	struct filter_node *n;
	const char *why = expect_addr;
	bool neg = false;

	if (t->kind == T_CMP) {
		if (t->cmp != FCMP_EQ && t->cmp != FCMP_NE) {
			fail(p, t, "%.*s compares with = or != only", (int)kw->len, kw->s);
			return NULL;
		}
		neg = t->cmp == FCMP_NE;
		t = next(p);
	}
	if (t->kind == T_END) {
		fail(p, t, "expected an address after %.*s, e.g. %.*s 10.0.0.0/8", (int)kw->len,
		     kw->s, (int)kw->len, kw->s);
		return NULL;
	}
	n = node(p, op);
	if (t->kind != T_WORD || !addr_value(t->s, t->len, n, &why)) {
		fail_word(p, t, "bad address", why);
		return NULL;
	}
	return neg ? negate(p, n) : n;
}

/* netns [= | !=] NAME: a namespace label, matched in user space. */
static const struct filter_node *parse_netns(struct parser *p)
{
	const struct token *t = next(p);
	struct filter_node *n;
	bool neg = false;

	if (t->kind == T_CMP) {
		if (t->cmp != FCMP_EQ && t->cmp != FCMP_NE) {
			fail(p, t, "netns compares with = or != only");
			return NULL;
		}
		neg = t->cmp == FCMP_NE;
		t = next(p);
	}
	if (t->kind != T_WORD) {
		fail(p, t, "expected a namespace name after netns, e.g. netns web");
		return NULL;
	}
	n = node(p, FOP_NETNS);
	n->u.name.off = t->off;
	n->u.name.len = t->len;
	return neg ? negate(p, n) : n;
}

static const struct filter_node *parse_unary(struct parser *p)
{
	const struct token *t = next(p);
	const struct filter_node *n;

	if (++p->depth > FILTER_MAX_DEPTH) {
		fail(p, t, "nested deeper than %d", FILTER_MAX_DEPTH);
		return NULL;
	}
	switch (t->kind) {
	case T_NOT:
		n = parse_unary(p);
		n = n ? negate(p, n) : NULL;
		break;
	case T_LPAREN:
		n = parse_or(p);
		if (n && peek(p)->kind != T_RPAREN) {
			fail(p, peek(p), "expected ')' to close '(' at column %zu", t->off + 1);
			n = NULL;
		}
		next(p);
		break;
	case T_WORD:
		if (word_is(t, "state")) {
			n = parse_state(p, false);
		} else if (word_is(t, "exclude")) {
			n = parse_state(p, true);
		} else if (word_is(t, "sport")) {
			n = parse_port(p, FOP_SPORT);
		} else if (word_is(t, "dport")) {
			n = parse_port(p, FOP_DPORT);
		} else if (word_is(t, "src")) {
			n = parse_addr(p, FOP_SRC);
		} else if (word_is(t, "dst")) {
			n = parse_addr(p, FOP_DST);
		} else if (word_is(t, "netns")) {
			n = parse_netns(p);
		} else {
			fail(p, t, "%s", expect_term);
			n = NULL;
		}
		break;
	default:
		fail(p, t, "%s", expect_term);
		n = NULL;
	}
	p->depth--;
	return n;
}

static bool starts_term(const struct token *t)
{
	return t->kind == T_WORD || t->kind == T_NOT || t->kind == T_LPAREN;
}

static const struct filter_node *parse_and(struct parser *p)
{
	const struct filter_node *n = parse_unary(p);

	while (n) {
		const struct filter_node *m;

		if (peek(p)->kind == T_AND)
			next(p);
		else if (!starts_term(peek(p)))
			break;
		m = parse_unary(p);
		n = m ? binary(p, FOP_AND, n, m) : NULL;
	}
	return n;
}

static const struct filter_node *parse_or(struct parser *p)
{
	const struct filter_node *n = parse_and(p);

	while (n && peek(p)->kind == T_OR) {
		const struct filter_node *m;

		next(p);
		m = parse_and(p);
		n = m ? binary(p, FOP_OR, n, m) : NULL;
	}
	return n;
}

struct filter *filter_parse(const char *expr, char *err, size_t errlen)
{
	struct parser p = {.expr = expr, .err = err, .errlen = errlen};
	struct filter *f = xcalloc(1, sizeof(*f));

	if (errlen)
		err[0] = '\0';
	f->text = xstrdup(expr);
	p.f = f;
	if (!lex(&p))
		goto fail;
	/* Every token makes at most two nodes (a term and an implicit and). */
	f->cap = 2 * p.ntok + 1;
	f->nodes = xreallocarray(NULL, f->cap, sizeof(*f->nodes));
	if (p.tok[0].kind == T_END) {
		f->root = node(&p, FOP_TRUE);
		free(p.tok);
		return f;
	}
	f->root = parse_or(&p);
	if (f->root && peek(&p)->kind != T_END) {
		const struct token *t = peek(&p);

		fail(&p, t,
		     t->kind == T_RPAREN ? "no '(' to close" : "expected 'and', 'or' or the end");
	}
	if (!p.failed && f->root) {
		free(p.tok);
		return f;
	}
fail:
	free(p.tok);
	filter_free(f);
	return NULL;
}

void filter_free(struct filter *f)
{
	if (!f)
		return;
	free(f->nodes);
	free(f->text);
	free(f);
}

static bool port_cmp(enum filter_cmp cmp, uint16_t have, uint16_t want)
{
	switch (cmp) {
	case FCMP_EQ:
		return have == want;
	case FCMP_NE:
		return have != want;
	case FCMP_LT:
		return have < want;
	case FCMP_LE:
		return have <= want;
	case FCMP_GT:
		return have > want;
	case FCMP_GE:
		return have >= want;
	}
	return false;
}

static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, bytes))
		return false;
	if (!rest)
		return true;
	return !((a[bytes] ^ b[bytes]) & (0xff00 >> rest));
}

/* As the kernel's bytecode does, an IPv4 condition also matches v4-mapped IPv6. */
static bool net_match(const struct filter_node *n, int family, const uint8_t *addr, uint16_t port)
{
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};

	if (n->u.net.port >= 0 && port != n->u.net.port)
		return false;
	if (!n->u.net.family)
		return true;
	if (n->u.net.family == family)
		return prefix_eq(addr, n->u.net.addr, n->u.net.prefix);
	if (n->u.net.family == AF_INET && family == AF_INET6 && !memcmp(addr, mapped, 12))
		return prefix_eq(addr + 12, n->u.net.addr, n->u.net.prefix);
	return false;
}

static bool word_eq(const char *s, size_t slen, const char *w, size_t wlen)
{
	return slen == wlen && !memcmp(s, w, wlen);
}

/*
 * NAME is the whole label, or for a namespace known by a process, "pid 1234
 * (nginx)", its pid or its command: a label with spaces is hard to type.
 */
static bool netns_match(const struct filter *f, const struct filter_node *n, uint32_t ns)
{
	const char *w = f->text + n->u.name.off, *label = netns_label(f->labels, ns), *open;
	size_t wlen = n->u.name.len, llen = strlen(label), digits;

	if (word_eq(label, llen, w, wlen))
		return true;
	if (strncmp(label, "pid ", 4) || !(open = strstr(label, " (")) || label[llen - 1] != ')')
		return false;
	digits = (size_t)(open - label) - 4;
	return word_eq(label + 4, digits, w, wlen) ||
	       word_eq(open + 2, (size_t)(label + llen - 1 - (open + 2)), w, wlen);
}

static bool match(const struct filter *f, const struct filter_node *n, const struct sock *s)
{
	switch (n->op) {
	case FOP_AND:
		return match(f, n->a, s) && match(f, n->b, s);
	case FOP_OR:
		return match(f, n->a, s) || match(f, n->b, s);
	case FOP_NOT:
		return !match(f, n->a, s);
	case FOP_NETNS:
		return netns_match(f, n, s->netns);
	case FOP_TRUE:
		return true;
	case FOP_STATE:
		return s->state < 32 && (n->u.states & ST_MASK(s->state));
	case FOP_SPORT:
		return port_cmp(n->cmp, s->sport, n->u.port);
	case FOP_DPORT:
		return port_cmp(n->cmp, s->dport, n->u.port);
	case FOP_SRC:
		return net_match(n, s->family, s->src, s->sport);
	case FOP_DST:
		return net_match(n, s->family, s->dst, s->dport);
	}
	return false;
}

bool filter_match(const struct filter *f, const struct sock *s)
{
	return !f || match(f, f->root, s);
}

void filter_bind_netns(struct filter *f, const struct netns_tab *labels)
{
	if (f)
		f->labels = labels;
}

/*
 * States where a node may hold (*may) and where it surely holds (*must).
 * Exact for trees of state terms; other terms may hold anywhere, surely nowhere.
 */
static void states(const struct filter_node *n, uint32_t *may, uint32_t *must)
{
	uint32_t may_a, must_a, may_b, must_b;

	switch (n->op) {
	case FOP_AND:
	case FOP_OR:
		states(n->a, &may_a, &must_a);
		states(n->b, &may_b, &must_b);
		if (n->op == FOP_AND) {
			*may = may_a & may_b;
			*must = must_a & must_b;
		} else {
			*may = may_a | may_b;
			*must = must_a | must_b;
		}
		return;
	case FOP_NOT:
		states(n->a, &may_a, &must_a);
		*may = ST_ALL_MASK & ~must_a;
		*must = ST_ALL_MASK & ~may_a;
		return;
	case FOP_TRUE:
		*may = *must = ST_ALL_MASK;
		return;
	case FOP_STATE:
		*may = *must = n->u.states & ST_ALL_MASK;
		return;
	default:
		*may = ST_ALL_MASK;
		*must = 0;
		return;
	}
}

uint32_t filter_states(const struct filter *f)
{
	uint32_t may, must;

	if (!f)
		return ST_ALL_MASK;
	states(f->root, &may, &must);
	return may;
}

const char *filter_text(const struct filter *f)
{
	return f ? f->text : "";
}

const struct filter_node *filter_root(const struct filter *f)
{
	return f ? f->root : NULL;
}
