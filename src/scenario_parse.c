#include "config.h"
#include "scenario.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scenario_int.h"
#include "sock.h"
#include "util.h"

#define MAX_TOKENS 24
#define MAX_BYTES_ARG (64L << 20)

/* The errors a scenario can expect or meet, by name. */
static const struct {
	int err;
	const char *name;
} errnames[] = {
	{ EPIPE, "EPIPE" },	      { ECONNRESET, "ECONNRESET" },
	{ ECONNREFUSED, "ECONNREFUSED" }, { EADDRINUSE, "EADDRINUSE" },
	{ EINPROGRESS, "EINPROGRESS" }, { EAGAIN, "EAGAIN" },
	{ ETIMEDOUT, "ETIMEDOUT" },   { ENOTCONN, "ENOTCONN" },
	{ EINVAL, "EINVAL" },	      { EBADF, "EBADF" },
	{ EACCES, "EACCES" },	      { EPERM, "EPERM" },
	{ EISCONN, "EISCONN" },	      { EALREADY, "EALREADY" },
	{ EINTR, "EINTR" },	      { ENOBUFS, "ENOBUFS" },
	{ EADDRNOTAVAIL, "EADDRNOTAVAIL" }, { ECONNABORTED, "ECONNABORTED" },
	{ EHOSTUNREACH, "EHOSTUNREACH" }, { ENETUNREACH, "ENETUNREACH" },
};

const char *sc_errno_name(int err)
{
	static char buf[24];

	for (size_t i = 0; i < ARRAY_SIZE(errnames); i++)
		if (errnames[i].err == err)
			return errnames[i].name;
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

int sc_errno_parse(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(errnames); i++)
		if (!strcasecmp(errnames[i].name, s))
			return errnames[i].err;
	return 0;
}

unsigned sc_norm_state(unsigned st)
{
	return st == ST_NEW_SYN_RECV ? ST_SYN_RECV : st;
}

static const char *const act_names[] = {
	[SA_LISTEN] = "listen",
	[SA_CONNECT] = "connect",
	[SA_ACCEPT] = "accept",
	[SA_SEND] = "send",
	[SA_FILL] = "fill",
	[SA_RECV] = "recv",
	[SA_DRAIN] = "drain",
	[SA_SHUTDOWN] = "shutdown",
	[SA_CLOSE] = "close",
	[SA_LINGER] = "linger",
	[SA_WRITE_AFTER_CLOSE] = "write-after-close",
	[SA_BIND_AGAIN] = "bind-again",
	[SA_EXIT] = "exit",
};

static const char *const launcher_verbs[] = { "scenario", "about", "actor",	  "say",
					      "sleep",	  "wait",  "expect",	  "step",
					      "drop",	  "heal",  "blackhole", "sysctl" };

/* The parse in progress: where we are, for messages. */
struct parser {
	struct scenario *sc;
	const char *file;
	int line;
	char *err;
	size_t errlen;
	char *tok[MAX_TOKENS];
	int ntok;
};

__attribute__((format(printf, 2, 3))) static int perr(struct parser *p, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->line > 0)
		snprintf(p->err, p->errlen, "%s:%d: %s", p->file, p->line, msg);
	else
		snprintf(p->err, p->errlen, "%s: %s", p->file, msg);
	return -1;
}

/* A whole decimal number in [lo, hi]. */
static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* Seconds as "2", "0.5", "1.5s" or "200ms", at most max_s. */
static int parse_secs(const char *s, double max_s, int64_t *out)
{
	int64_t ns;

	if (!s || !(isdigit((unsigned char)*s) || *s == '.'))
		return -1;
	ns = parse_duration(s);
	if (ns < 0 || ns > (int64_t)(max_s * NS_PER_SEC))
		return -1;
	*out = ns;
	return 0;
}

static int find_actor(const struct scenario *sc, const char *name)
{
	for (size_t i = 0; i < sc->nactors; i++)
		if (!strcmp(sc->actors[i].name, name))
			return (int)i;
	return -1;
}

/* A word of the language, a launcher's verb or an actor's: never an actor's name. */
static bool reserved(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(launcher_verbs); i++)
		if (!strcmp(launcher_verbs[i], name))
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(act_names); i++)
		if (act_names[i] && !strcmp(act_names[i], name))
			return true;
	return false;
}

static int need_actor(struct parser *p, const char *name, const char *verb)
{
	int a;

	if (!name)
		return perr(p, "%s: expected an actor's name", verb);
	a = find_actor(p->sc, name);
	if (a < 0)
		return perr(p, "unknown actor '%s' (declare it first: actor %s)", name, name);
	return a;
}

static int parse_state(struct parser *p, const char *s, const char *verb, uint8_t *out)
{
	int st;

	if (!s)
		return perr(p, "%s: expected a TCP state after the actor", verb);
	st = st_parse(s);
	if (!strcasecmp(s, "gone"))
		st = ST_CLOSE;
	if (st <= 0 || st >= ST_MAX)
		return perr(p, "unknown state '%s' (expected a TCP state like FIN_WAIT_2, or gone)",
			    s);
	*out = (uint8_t)sc_norm_state((unsigned)st);
	return 0;
}

static struct sc_step *new_step(struct parser *p, enum sc_kind kind)
{
	struct scenario *sc = p->sc;
	struct sc_step *st;

	if (sc->nsteps == SC_MAX_STEPS)
		return NULL;
	if (sc->nsteps == sc->cap) {
		sc->cap = sc->cap ? sc->cap * 2 : 32;
		sc->steps = xreallocarray(sc->steps, sc->cap, sizeof(*sc->steps));
	}
	st = &sc->steps[sc->nsteps++];
	memset(st, 0, sizeof(*st));
	st->kind = (uint8_t)kind;
	st->actor = -1;
	st->target = -1;
	st->line = p->line;
	st->backlog = 16;
	return st;
}

/* The options after an action's name: `backlog N`, `reuseaddr`, `fails ERR`, ... */
static int parse_action_opts(struct parser *p, struct sc_step *st, int i)
{
	const char *verb = act_names[st->act];

	for (; i < p->ntok; i++) {
		const char *o = p->tok[i], *v = i + 1 < p->ntok ? p->tok[i + 1] : NULL;
		long n;

		if (!strcmp(o, "fails")) {
			if (!v || !(st->fail_errno = sc_errno_parse(v)))
				return perr(p, "%s: 'fails' wants an error name like EPIPE, got '%s'",
					    verb, v ? v : "nothing");
			i++;
		} else if (!strcmp(o, "reuseaddr") &&
			   (st->act == SA_LISTEN || st->act == SA_BIND_AGAIN)) {
			st->reuseaddr = true;
		} else if (!strcmp(o, "again") && st->act == SA_CONNECT) {
			st->again = true;
		} else if (!strcmp(o, "listener") && st->act == SA_CLOSE) {
			st->listener = true;
		} else if (!strcmp(o, "backlog") && st->act == SA_LISTEN) {
			if (parse_long(v, 0, 65535, &n) < 0)
				return perr(p, "bad number '%s' for backlog (expected 0 to 65535)",
					    v ? v : "");
			st->backlog = (int)n;
			i++;
		} else if (!strcmp(o, "defer") && st->act == SA_LISTEN) {
			if (parse_long(v, 1, 3600, &n) < 0)
				return perr(p, "bad number '%s' for defer (expected seconds, 1 to 3600)",
					    v ? v : "");
			st->defer = (int)n;
			i++;
		} else if ((!strcmp(o, "rcvbuf") || !strcmp(o, "sndbuf")) &&
			   (st->act == SA_LISTEN || st->act == SA_CONNECT)) {
			if (parse_long(v, 1024, 16L << 20, &n) < 0)
				return perr(p, "bad number '%s' for %s (expected bytes, 1024 to %ld)",
					    v ? v : "", o, 16L << 20);
			*(o[0] == 'r' ? &st->rcvbuf : &st->sndbuf) = (int)n;
			i++;
		} else {
			return perr(p, "%s: unexpected '%s'", verb, o);
		}
	}
	return 0;
}

/* ACTOR ACTION [ARG] [OPTIONS]. */
static int parse_action(struct parser *p, int actor)
{
	const char *verb = p->tok[1], *arg = p->ntok > 2 ? p->tok[2] : NULL;
	struct sc_step *st;
	int act = -1, i = 2;
	long n;

	if (!verb)
		return perr(p, "%s: expected an action (listen, connect, accept, ...)", p->tok[0]);
	for (size_t k = 0; k < ARRAY_SIZE(act_names); k++)
		if (!strcmp(act_names[k], verb))
			act = (int)k;
	if (act < 0)
		return perr(p,
			    "unknown action '%s' for %s (expected listen, connect, accept, send, "
			    "fill, recv, drain, shutdown, close, linger, write-after-close, "
			    "bind-again or exit)",
			    verb, p->tok[0]);
	if (!(st = new_step(p, SK_ACTION)))
		return perr(p, "too many steps (at most %d)", SC_MAX_STEPS);
	st->act = (uint8_t)act;
	st->actor = (int8_t)actor;
	switch (act) {
	case SA_LISTEN:
	case SA_BIND_AGAIN:
		p->sc->actors[actor].listens = true;
		break;
	case SA_CONNECT:
		if (arg && strcmp(arg, "fails") && strcmp(arg, "rcvbuf") && strcmp(arg, "sndbuf") &&
		    strcmp(arg, "again")) {
			int t = need_actor(p, arg, "connect");
			if (t < 0)
				return -1;
			st->target = (int8_t)t;
			i++;
		}
		break;
	case SA_SEND:
	case SA_RECV:
		if (parse_long(arg, 1, MAX_BYTES_ARG, &n) < 0)
			return perr(p, "bad number '%s' for %s (expected bytes, 1 to %ld)",
				    arg ? arg : "", verb, MAX_BYTES_ARG);
		st->n = n;
		i++;
		break;
	case SA_WRITE_AFTER_CLOSE:
		st->n = 100;
		if (arg && isdigit((unsigned char)*arg)) {
			if (parse_long(arg, 1, 65536, &n) < 0)
				return perr(p, "bad number '%s' for %s (expected bytes, 1 to 65536)",
					    arg, verb);
			st->n = n;
			i++;
		}
		break;
	case SA_LINGER:
		if (parse_long(arg, 0, 60, &n) < 0)
			return perr(p, "bad number '%s' for linger (expected seconds, 0 to 60)",
				    arg ? arg : "");
		st->n = n;
		i++;
		break;
	case SA_SHUTDOWN:
		if (!arg || (strcmp(arg, "rd") && strcmp(arg, "wr") && strcmp(arg, "rdwr")))
			return perr(p, "shutdown: expected rd, wr or rdwr, got '%s'",
				    arg ? arg : "nothing");
		st->n = !strcmp(arg, "rd") ? 0 : !strcmp(arg, "wr") ? 1 : 2;
		i++;
		break;
	default:
		break;
	}
	return parse_action_opts(p, st, i);
}

/* wait ACTOR STATE [TIMEOUT]; expect ACTOR [not] STATE [for SECS] [within SECS]. */
/*
 * expect ACTOR sends|retransmits [no] KIND, or expect KIND from ACTOR: about
 * the captured segments. Sets *i past what it read.
 */
static int parse_segment_check(struct parser *p, struct sc_step *st, int *i)
{
	const char *kind;
	int seg;

	st->seg_check = true;
	if (!strcmp(p->tok[2], "from")) {
		kind = p->tok[1];
		*i = 4;
	} else {
		st->retrans = !strcmp(p->tok[2], "retransmits");
		*i = 3;
		if (*i < p->ntok && !strcmp(p->tok[*i], "no")) {
			st->negate = true;
			(*i)++;
		}
		kind = *i < p->ntok ? p->tok[(*i)++] : "";
	}
	if ((seg = sc_seg_parse(kind)) < 0)
		return perr(p, "expect: unknown segment kind '%s' (expected SYN, SYNACK, ACK, FIN, "
			       "RST or ALL)",
			    kind);
	st->segs = (uint8_t)(1u << seg);
	/* Segments are captured only in the scenario's own namespace. */
	if (!p->sc->net_line)
		p->sc->net_line = p->line;
	return 0;
}

static int parse_check(struct parser *p, enum sc_kind kind)
{
	const char *verb = p->tok[0];
	struct sc_step *st;
	bool from = kind == SK_EXPECT && p->ntok > 3 && !strcmp(p->tok[2], "from");
	int a = need_actor(p, p->ntok > 1 ? p->tok[from ? 3 : 1] : NULL, verb), i = 2;

	if (a < 0)
		return -1;
	if (!(st = new_step(p, kind)))
		return perr(p, "too many steps (at most %d)", SC_MAX_STEPS);
	st->actor = (int8_t)a;
	if (kind == SK_EXPECT && (from || (p->ntok > 2 && (!strcmp(p->tok[2], "sends") ||
							     !strcmp(p->tok[2], "retransmits"))))) {
		if (parse_segment_check(p, st, &i) < 0)
			return -1;
		i--;
	} else {
		if (kind == SK_EXPECT && i < p->ntok && !strcmp(p->tok[i], "not")) {
			st->negate = true;
			i++;
		}
		if (parse_state(p, i < p->ntok ? p->tok[i] : NULL, verb, &st->state) < 0)
			return -1;
	}
	for (i++; i < p->ntok; i++) {
		const char *o = p->tok[i], *v = i + 1 < p->ntok ? p->tok[i + 1] : NULL;
		int64_t *dst = NULL;

		if (kind == SK_WAIT && i == 3 && (isdigit((unsigned char)*o) || *o == '.')) {
			v = o;
			dst = &st->ns;
			i--;
		} else if (kind == SK_EXPECT && !strcmp(o, "for") && !st->negate && !st->seg_check) {
			dst = &st->hold_ns;
		} else if (kind == SK_EXPECT && !strcmp(o, "within")) {
			dst = &st->ns;
		} else {
			return perr(p, "%s: unexpected '%s'", verb, o);
		}
		if (parse_secs(v, 600, dst) < 0)
			return perr(p, "bad number '%s' for %s (expected seconds, up to 600)",
				    v ? v : "", verb);
		i++;
	}
	return 0;
}

/* drop ACTOR KIND... [once]; blackhole ACTOR; heal. */
static int parse_fault(struct parser *p, enum sc_kind kind)
{
	const char *verb = p->tok[0];
	struct sc_step *st;
	int a = -1, i = 1;

	if (kind != SK_HEAL && (a = need_actor(p, p->ntok > 1 ? p->tok[1] : NULL, verb)) < 0)
		return -1;
	if (!(st = new_step(p, kind)))
		return perr(p, "too many steps (at most %d)", SC_MAX_STEPS);
	st->actor = (int8_t)a;
	i += kind != SK_HEAL;
	for (; kind == SK_DROP && i < p->ntok; i++) {
		int seg = sc_seg_parse(p->tok[i]);

		if (!strcmp(p->tok[i], "once") && i == p->ntok - 1 && st->segs)
			st->once = true;
		else if (seg < 0)
			return perr(p,
				    "drop: unknown segment kind '%s' (expected syn, synack, ack, "
				    "fin, rst or all, then once)",
				    p->tok[i]);
		else
			st->segs |= (uint8_t)(1u << seg);
	}
	if (kind == SK_DROP && !st->segs)
		return perr(p,
			    "drop: expected what to drop after %s (syn, synack, ack, fin, rst or all)",
			    p->tok[1]);
	if (i < p->ntok)
		return perr(p, "%s: unexpected '%s'", verb, p->tok[i]);
	p->sc->uses_nft = true;
	return 0;
}

/* sysctl NAME VALUE [VALUE]: one of the namespace's own TCP settings. */
static int parse_sysctl(struct parser *p)
{
	struct sc_step *st;
	long lo, hi, v[2];
	int knob, nv;

	if (p->ntok < 2)
		return perr(p, "sysctl: expected a setting's name, like tcp_fin_timeout");
	if ((knob = sc_knob_find(p->tok[1])) < 0)
		return perr(p,
			    "sysctl: '%s' is not one a scenario may set (see tcpdwell-scenario(5): "
			    "tcp_fin_timeout, tcp_orphan_retries, tcp_retries2, tcp_tw_reuse, ...)",
			    p->tok[1]);
	sc_knob_range(knob, &lo, &hi, &nv);
	if (p->ntok != 2 + nv)
		return perr(p, "sysctl %s: expected %s", sc_knob_name(knob),
			    nv == 2 ? "two numbers" : "one number");
	for (int k = 0; k < nv; k++)
		if (parse_long(p->tok[2 + k], lo, hi, &v[k]) < 0)
			return perr(p, "bad number '%s' for %s (expected %ld to %ld)", p->tok[2 + k],
				    sc_knob_name(knob), lo, hi);
	if (nv == 2 && v[0] > v[1])
		return perr(p, "sysctl %s: the first number is above the second",
			    sc_knob_name(knob));
	if (!(st = new_step(p, SK_SYSCTL)))
		return perr(p, "too many steps (at most %d)", SC_MAX_STEPS);
	st->knob = (int8_t)knob;
	st->n = v[0];
	st->n2 = nv == 2 ? v[1] : 0;
	return 0;
}

/* The network verbs: what each changes, all of it inside the scenario's namespace. */
static const struct {
	const char *name;
	enum sc_kind kind;
} net_verbs[] = {
	{ "drop", SK_DROP },
	{ "blackhole", SK_BLACKHOLE },
	{ "heal", SK_HEAL },
	{ "sysctl", SK_SYSCTL },
};

/* 1 and parsed (0 or -1 in *r) when the line is a network verb, else 0. */
static int parse_net(struct parser *p, int *r)
{
	for (size_t k = 0; k < ARRAY_SIZE(net_verbs); k++) {
		if (strcmp(net_verbs[k].name, p->tok[0]))
			continue;
		if (!p->sc->net_line)
			p->sc->net_line = p->line;
		*r = net_verbs[k].kind == SK_SYSCTL ? parse_sysctl(p) :
						      parse_fault(p, net_verbs[k].kind);
		return 1;
	}
	return 0;
}

/* Each {ACTOR STATE} in a `say` names a declared actor and a state: its time is quoted. */
static int check_quotes(struct parser *p, const char *text)
{
	for (const char *q = strchr(text, '{'); q; q = strchr(q + 1, '{')) {
		const char *end = strchr(q, '}');
		char inner[64], actor[SC_NAME_LEN + 1], state[32], extra[2];
		uint8_t st;

		if (!end || (size_t)(end - q) >= sizeof(inner))
			return perr(p, "say: '{' without a '}' soon after (a quoted time is written "
				       "{ACTOR STATE})");
		snprintf(inner, sizeof(inner), "%.*s", (int)(end - q - 1), q + 1);
		if (sscanf(inner, "%16s %31s %1s", actor, state, extra) != 2)
			return perr(p, "say: '{%s}' is no quoted time (write {ACTOR STATE})", inner);
		if (need_actor(p, actor, "say") < 0 || parse_state(p, state, "say", &st) < 0)
			return -1;
	}
	return 0;
}

/* The text after the first word, as written (spacing inside kept). */
static const char *rest_of_line(const char *line)
{
	line += strspn(line, " \t");
	line += strcspn(line, " \t");
	return line + strspn(line, " \t");
}

static void append(char **dst, const char *text)
{
	size_t old = *dst ? strlen(*dst) : 0, n = strlen(text);

	*dst = xrealloc(*dst, old + n + 2);
	if (old)
		(*dst)[old++] = ' ';
	memcpy(*dst + old, text, n + 1);
}

static int parse_line(struct parser *p, char *line)
{
	struct scenario *sc = p->sc;
	char copy[SC_MAX_LINE + 1], *save = NULL, *t;
	const char *verb, *rest = rest_of_line(line);
	struct sc_step *st;
	int a;

	snprintf(copy, sizeof(copy), "%s", line);
	p->ntok = 0;
	for (t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (*t == '#')
			break;
		if (p->ntok == MAX_TOKENS)
			return perr(p, "too many words (at most %d)", MAX_TOKENS);
		p->tok[p->ntok++] = t;
		/* Narration is free text: the rest of the line, '#' and all. */
		if (p->ntok == 1 && (!strcmp(t, "say") || !strcmp(t, "about")))
			break;
	}
	if (!p->ntok)
		return 0;
	verb = p->tok[0];
	if (!strcmp(verb, "scenario")) {
		if (sc->name)
			return perr(p, "a second 'scenario' line (the first names it '%s')", sc->name);
		if (p->ntok != 2 || strspn(verb = p->tok[1], "abcdefghijklmnopqrstuvwxyz0123456789-_") !=
					    strlen(p->tok[1]))
			return perr(p, "scenario: expected one name of a-z, 0-9, '-' and '_'");
		sc->name = xstrdup(p->tok[1]);
	} else if (!strcmp(verb, "about")) {
		if (!*rest)
			return perr(p, "about: expected a description");
		if (!sc->about)
			sc->about = xstrdup(rest);
		append(&sc->desc, rest);
	} else if (!strcmp(verb, "actor")) {
		if (p->ntok < 2)
			return perr(p, "actor: expected a name");
		for (int i = 1; i < p->ntok; i++) {
			const char *n = p->tok[i];
			if (strlen(n) >= SC_NAME_LEN || !islower((unsigned char)*n) ||
			    strspn(n, "abcdefghijklmnopqrstuvwxyz0123456789-_") != strlen(n))
				return perr(p, "actor: bad name '%s' (a-z first, then a-z, 0-9, "
					       "'-', '_'; at most %d characters)",
					    n, SC_NAME_LEN - 1);
			if (reserved(n))
				return perr(p, "actor: '%s' is a verb of the language", n);
			if (find_actor(sc, n) >= 0)
				return perr(p, "actor '%s' declared twice", n);
			if (sc->nactors == SC_MAX_ACTORS)
				return perr(p, "too many actors (at most %d)", SC_MAX_ACTORS);
			snprintf(sc->actors[sc->nactors++].name, SC_NAME_LEN, "%s", n);
		}
	} else if (!strcmp(verb, "say")) {
		if (!*rest)
			return perr(p, "say: expected the text to show");
		if (check_quotes(p, rest) < 0)
			return -1;
		if (!(st = new_step(p, SK_SAY)))
			return perr(p, "too many steps (at most %d)", SC_MAX_STEPS);
		st->text = xstrdup(rest);
		return 0;
	} else if (!strcmp(verb, "sleep")) {
		if (!(st = new_step(p, SK_SLEEP)))
			return perr(p, "too many steps (at most %d)", SC_MAX_STEPS);
		if (p->ntok != 2 || parse_secs(p->tok[1], 600, &st->ns) < 0)
			return perr(p, "bad number '%s' for sleep (expected seconds, up to 600)",
				    p->ntok > 1 ? p->tok[1] : "");
	} else if (parse_net(p, &a)) {
		return a;
	} else if (!strcmp(verb, "wait")) {
		return parse_check(p, SK_WAIT);
	} else if (!strcmp(verb, "expect")) {
		return parse_check(p, SK_EXPECT);
	} else if (!strcmp(verb, "step")) {
		if (p->ntok != 1)
			return perr(p, "step: unexpected '%s'", p->tok[1]);
		if (!new_step(p, SK_STEP))
			return perr(p, "too many steps (at most %d)", SC_MAX_STEPS);
	} else if ((a = find_actor(sc, verb)) >= 0) {
		return parse_action(p, a);
	} else if (p->ntok > 1) {
		bool action = false;
		for (size_t k = 0; k < ARRAY_SIZE(act_names); k++)
			action |= !strcmp(act_names[k], p->tok[1]);
		if (action)
			return perr(p, "unknown actor '%s' (declare it first: actor %s)", verb, verb);
		return perr(p, "unknown verb '%s' (expected scenario, about, actor, say, sleep, "
			       "wait, expect, step, drop, blackhole, heal, sysctl, or an actor's name)",
			    verb);
	} else {
		return perr(p, "unknown verb '%s' (expected scenario, about, actor, say, sleep, "
			       "wait, expect, step, drop, blackhole, heal, sysctl, or an actor's name)",
			    verb);
	}
	return 0;
}

/* Checks that need the whole script: a name, steps, every connect has a listener. */
static int check_script(struct parser *p)
{
	struct scenario *sc = p->sc;
	int first_listener = -1;

	p->line = 0;
	if (!sc->name)
		return perr(p, "no 'scenario NAME' line");
	if (!sc->nactors)
		return perr(p, "no actors (declare them: actor server client)");
	if (!sc->nsteps)
		return perr(p, "no steps");
	for (size_t i = 0; i < sc->nactors; i++)
		if (sc->actors[i].listens && first_listener < 0)
			first_listener = (int)i;
	for (size_t i = 0; i < sc->nsteps; i++) {
		struct sc_step *st = &sc->steps[i];
		if (st->kind != SK_ACTION || st->act != SA_CONNECT)
			continue;
		p->line = st->line;
		if (st->target < 0 && first_listener < 0)
			return perr(p, "connect: no actor ever listens");
		if (st->target < 0)
			st->target = (int8_t)first_listener;
		if (!sc->actors[st->target].listens)
			return perr(p, "connect: %s never listens", sc->actors[st->target].name);
	}
	return 0;
}

/* Parse a script held in memory; file names it in messages. */
static struct scenario *parse_text(const char *file, char *text, size_t len, char *err,
				   size_t errlen)
{
	struct scenario *sc = xcalloc(1, sizeof(*sc));
	struct parser p = { .sc = sc, .file = file, .err = err, .errlen = errlen };
	char *line = text, *end = text + len;

	sc->path = xstrdup(file);
	sc->reply_fd = -1;
	while (line < end) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t n = nl ? (size_t)(nl - line) : (size_t)(end - line);

		p.line++;
		if (memchr(line, '\0', n)) {
			perr(&p, "NUL byte in the script");
			goto fail;
		}
		if (n && line[n - 1] == '\r')
			n--;
		if (n > SC_MAX_LINE) {
			perr(&p, "line too long (more than %d characters)", SC_MAX_LINE);
			goto fail;
		}
		line[n] = '\0';
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)line[i] < 0x20 && line[i] != '\t') {
				perr(&p, "control character 0x%02x in the script", line[i]);
				goto fail;
			}
		size_t before = sc->nsteps;
		if (parse_line(&p, line) < 0)
			goto fail;
		/* Steps keep their line as written, to show while they run. */
		if (sc->nsteps > before && !sc->steps[sc->nsteps - 1].text)
			sc->steps[sc->nsteps - 1].text = xstrdup(line + strspn(line, " \t"));
		if (!nl)
			break;
		line = nl + 1;
	}
	if (check_script(&p) < 0)
		goto fail;
	for (size_t i = 0; i < SC_MAX_ACTORS; i++)
		sc->actors[i].cmd_fd = -1;
	return sc;
fail:
	scenario_free(sc);
	return NULL;
}

/* Read a whole file, refusing more than SC_MAX_BYTES. */
static char *read_script(const char *path, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	char *buf;
	size_t n = 0;

	if (fd < 0) {
		snprintf(err, errlen, "cannot open scenario '%s': %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) < 0 || S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "cannot read scenario '%s': %s", path,
			 S_ISDIR(sb.st_mode) ? "a directory" : strerror(errno));
		close(fd);
		return NULL;
	}
	buf = xmalloc(SC_MAX_BYTES + 1);
	for (;;) {
		ssize_t r = read(fd, buf + n, SC_MAX_BYTES + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "cannot read scenario '%s': %s", path,
				 strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > SC_MAX_BYTES) {
			snprintf(err, errlen, "%s: script too large (more than %d bytes)", path,
				 SC_MAX_BYTES);
			goto fail;
		}
	}
	close(fd);
	*len = n;
	return buf;
fail:
	close(fd);
	free(buf);
	return NULL;
}

/* Whether this binary runs from the tree it was built in (not installed). */
static bool uninstalled(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t blen = strlen(BUILD_DIR);

	if (n <= 0)
		return false;
	exe[n] = '\0';
	return !strncmp(exe, BUILD_DIR, blen) && exe[blen] == '/';
}

/*
 * The directories holding bundled scenarios, in the order searched: the
 * environment's, the source tree's for a binary run where it was built
 * (`./src/tcpdwell --scenario tour` before any install), the installed.
 */
static size_t scenario_dirs(const char *dirs[3])
{
	const char *env = getenv("TCPDWELL_SCENARIO_DIR");
	size_t n = 0;

	if (env && *env)
		dirs[n++] = env;
	if (uninstalled())
		dirs[n++] = SOURCE_SCENARIO_DIR;
	dirs[n++] = SCENARIO_DIR;
	return n;
}

static bool is_path(const char *s)
{
	size_t n = strlen(s);

	return strchr(s, '/') || (n > 5 && !strcmp(s + n - 5, ".tcps"));
}

struct scenario *scenario_load(const char *name_or_path, char *err, size_t errlen)
{
	char path[4096], *text;
	const char *dirs[3];
	struct scenario *sc;
	size_t len, nd = scenario_dirs(dirs);

	if (is_path(name_or_path)) {
		snprintf(path, sizeof(path), "%s", name_or_path);
	} else {
		bool found = false;
		if (strspn(name_or_path, "abcdefghijklmnopqrstuvwxyz0123456789-_") !=
			    strlen(name_or_path) ||
		    !*name_or_path) {
			snprintf(err, errlen, "bad scenario name '%s' (try --list-scenarios)",
				 name_or_path);
			return NULL;
		}
		for (size_t i = 0; i < nd && !found; i++) {
			snprintf(path, sizeof(path), "%s/%s.tcps", dirs[i], name_or_path);
			found = access(path, R_OK) == 0;
		}
		if (!found) {
			snprintf(err, errlen, "unknown scenario '%s' (try --list-scenarios)",
				 name_or_path);
			return NULL;
		}
	}
	if (!(text = read_script(path, &len, err, errlen)))
		return NULL;
	sc = parse_text(path, text, len, err, errlen);
	free(text);
	return sc;
}

void scenario_free(struct scenario *sc)
{
	if (!sc)
		return;
	scenario_stop(sc);
	for (size_t i = 0; i < sc->nsteps; i++)
		free(sc->steps[i].text);
	free(sc->steps);
	free(sc->ladder);
	free(sc->path);
	free(sc->name);
	free(sc->about);
	free(sc->desc);
	free(sc);
}

const char *scenario_name(const struct scenario *sc)
{
	return sc->name;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int scenario_list(FILE *out)
{
	const char *dirs[3];
	size_t nd = scenario_dirs(dirs), n = 0, cap = 0;
	char **names = NULL;
	int printed = 0;

	for (size_t i = 0; i < nd; i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *de;

		if (!d)
			continue;
		while ((de = readdir(d))) {
			size_t len = strlen(de->d_name);
			bool dup = false;
			if (len <= 5 || strcmp(de->d_name + len - 5, ".tcps"))
				continue;
			/* The first directory wins: the same name later is shadowed. */
			for (size_t k = 0; k < n; k++)
				dup |= !strncmp(names[k], de->d_name, len - 5) &&
				       !names[k][len - 5];
			if (dup)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 32;
				names = xreallocarray(names, cap, sizeof(*names));
			}
			names[n] = xstrdup(de->d_name);
			names[n++][len - 5] = '\0';
		}
		closedir(d);
	}
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		char err[256], about[200];
		struct scenario *sc = scenario_load(names[i], err, sizeof(err));
		if (sc) {
			sanitize(about, sizeof(about), sc->about ? sc->about : "", (size_t)-1);
			fprintf(out, "%-24s %s\n", names[i], about);
			printed++;
			scenario_free(sc);
		} else {
			fprintf(stderr, "tcpdwell: %s\n", err);
		}
		free(names[i]);
	}
	free(names);
	if (!printed)
		fprintf(stderr, "tcpdwell: no scenarios found in %s%s%s\n", dirs[0],
			nd > 1 ? " or " : "", nd > 1 ? dirs[1] : "");
	return printed ? 0 : -1;
}

struct scenario *scenario_parse_text(const char *file, const char *text, size_t len, char *err,
				     size_t errlen)
{
	char *copy = xmalloc(len + 1);
	struct scenario *sc;

	memcpy(copy, text, len);
	copy[len] = '\0';
	sc = parse_text(file, copy, len, err, errlen);
	free(copy);
	return sc;
}
