/* scenario_verb.c - the script language's verbs: one table of how each is read and run. */
#include "config.h"
#include "scenario.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_int.h"
#include "util.h"

#define MAX_BYTES_ARG (64L << 20)

/* A word after what a verb takes: the message says what it does take. */
static int unexpected(struct sc_parser *p, const struct sc_verb *v, const char *word)
{
	return sc_perr(p, "%s: unexpected '%s' (write %s%s%s%s%s)", v->name, word,
		       v->action ? "ACTOR " : "", v->name, *v->usage ? " " : "", v->usage,
		       v->action ? " [fails ERROR]" : "");
}

/* The header: scenario NAME; about TEXT; actor NAME... */

static int parse_scenario(struct sc_parser *p, const struct sc_verb *v)
{
	struct scenario *sc = p->sc;

	(void)v;
	if (sc->name)
		return sc_perr(p, "a second 'scenario' line (the first names it '%s')", sc->name);
	if (p->ntok != 2 ||
	    strspn(p->tok[1], "abcdefghijklmnopqrstuvwxyz0123456789-_") != strlen(p->tok[1]))
		return sc_perr(p, "scenario: expected one name of a-z, 0-9, '-' and '_'");
	sc->name = xstrdup(p->tok[1]);
	return 0;
}

static void append(char **dst, const char *text)
{
	size_t old = *dst ? strlen(*dst) : 0, n = strlen(text);

	*dst = xrealloc(*dst, old + n + 2);
	if (old)
		(*dst)[old++] = ' ';
	memcpy(*dst + old, text, n + 1);
}

static int parse_about(struct sc_parser *p, const struct sc_verb *v)
{
	struct scenario *sc = p->sc;

	(void)v;
	if (!*p->rest)
		return sc_perr(p, "about: expected a description");
	if (!sc->about)
		sc->about = xstrdup(p->rest);
	append(&sc->desc, p->rest);
	return 0;
}

static int parse_actor(struct sc_parser *p, const struct sc_verb *v)
{
	struct scenario *sc = p->sc;

	(void)v;
	if (p->ntok < 2)
		return sc_perr(p, "actor: expected a name");
	for (int i = 1; i < p->ntok; i++) {
		const char *n = p->tok[i];
		if (strlen(n) >= SC_NAME_LEN || !islower((unsigned char)*n) ||
		    strspn(n, "abcdefghijklmnopqrstuvwxyz0123456789-_") != strlen(n))
			return sc_perr(
			    p,
			    "actor: bad name '%s' (a-z first, then a-z, 0-9, '-', '_'; at "
			    "most %d characters)",
			    n, SC_NAME_LEN - 1);
		/* A word of the language, a launcher's verb or an actor's, is never a name. */
		if (sc_verb_find(n, false) || sc_verb_find(n, true))
			return sc_perr(p, "actor: '%s' is a verb of the language", n);
		if (sc_find_actor(sc, n) >= 0)
			return sc_perr(p, "actor '%s' declared twice", n);
		if (sc->nactors == SC_MAX_ACTORS)
			return sc_perr(p, "too many actors (at most %d)", SC_MAX_ACTORS);
		snprintf(sc->actors[sc->nactors++].name, SC_NAME_LEN, "%s", n);
	}
	return 0;
}

/* Launcher steps: say, sleep, wait, expect, step. */

/* Each {ACTOR STATE} in a `say` names a declared actor and a state: its time is quoted. */
static int check_quotes(struct sc_parser *p, const char *text)
{
	for (const char *q = strchr(text, '{'); q; q = strchr(q + 1, '{')) {
		const char *end = strchr(q, '}');
		char inner[64], actor[SC_NAME_LEN + 1], state[32], extra[2];
		uint8_t st;

		if (!end || (size_t)(end - q) >= sizeof(inner))
			return sc_perr(p, "say: '{' without a '}' soon after (a quoted time is "
					  "written {ACTOR STATE})");
		snprintf(inner, sizeof(inner), "%.*s", (int)(end - q - 1), q + 1);
		if (sscanf(inner, "%16s %31s %1s", actor, state, extra) != 2)
			return sc_perr(p, "say: '{%s}' is no quoted time (write {ACTOR STATE})",
				       inner);
		if (sc_need_actor(p, actor, "say") < 0 || sc_parse_state(p, state, "say", &st) < 0)
			return -1;
	}
	return 0;
}

static int parse_say(struct sc_parser *p, const struct sc_verb *v)
{
	struct sc_step *st;

	if (!*p->rest)
		return sc_perr(p, "say: expected the text to show");
	if (check_quotes(p, p->rest) < 0 || !(st = sc_new_step(p, v)))
		return -1;
	st->text = xstrdup(p->rest);
	return 0;
}

static int parse_sleep(struct sc_parser *p, const struct sc_verb *v)
{
	struct sc_step *st = sc_new_step(p, v);

	if (!st)
		return -1;
	if (p->ntok != 2 || sc_parse_secs(p->tok[1], 600, &st->ns) < 0)
		return sc_perr(p, "bad number '%s' for sleep (expected seconds, up to 600)",
			       p->ntok > 1 ? p->tok[1] : "");
	return 0;
}

static int parse_step(struct sc_parser *p, const struct sc_verb *v)
{
	if (p->ntok != 1)
		return unexpected(p, v, p->tok[1]);
	return sc_new_step(p, v) ? 0 : -1;
}

/*
 * expect ACTOR sends|retransmits [no] KIND, or expect KIND from ACTOR: about
 * the captured segments. Sets *i past what it read.
 */
static int parse_segment_check(struct sc_parser *p, struct sc_step *st, int *i)
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
		return sc_perr(p,
			       "expect: unknown segment kind '%s' (expected SYN, SYNACK, ACK, FIN, "
			       "RST or ALL)",
			       kind);
	st->segs = (uint8_t)(1u << seg);
	/* Segments are captured only in the scenario's own namespace. */
	if (!p->sc->net_line)
		p->sc->net_line = p->line;
	return 0;
}

/* wait ACTOR STATE [TIMEOUT]; expect ACTOR [not] STATE [for SECS] [within SECS]. */
static int parse_check(struct sc_parser *p, const struct sc_verb *v)
{
	const char *verb = v->name;
	bool expect = v->kind == SK_EXPECT;
	bool from = expect && p->ntok > 3 && !strcmp(p->tok[2], "from");
	int a = sc_need_actor(p, p->ntok > 1 ? p->tok[from ? 3 : 1] : NULL, verb), i = 2;
	struct sc_step *st;

	if (a < 0 || !(st = sc_new_step(p, v)))
		return -1;
	st->actor = (int8_t)a;
	if (expect && (from || (p->ntok > 2 && (!strcmp(p->tok[2], "sends") ||
						!strcmp(p->tok[2], "retransmits"))))) {
		if (parse_segment_check(p, st, &i) < 0)
			return -1;
		i--;
	} else {
		if (expect && i < p->ntok && !strcmp(p->tok[i], "not")) {
			st->negate = true;
			i++;
		}
		if (sc_parse_state(p, i < p->ntok ? p->tok[i] : NULL, verb, &st->state) < 0)
			return -1;
	}
	for (i++; i < p->ntok; i++) {
		const char *o = p->tok[i], *val = i + 1 < p->ntok ? p->tok[i + 1] : NULL;
		int64_t *dst = NULL;

		if (!expect && i == 3 && (isdigit((unsigned char)*o) || *o == '.')) {
			val = o;
			dst = &st->ns;
			i--;
		} else if (expect && !strcmp(o, "for") && !st->negate && !st->seg_check) {
			dst = &st->hold_ns;
		} else if (expect && !strcmp(o, "within")) {
			dst = &st->ns;
		} else {
			return unexpected(p, v, o);
		}
		if (sc_parse_secs(val, 600, dst) < 0)
			return sc_perr(p, "bad number '%s' for %s (expected seconds, up to 600)",
				       val ? val : "", verb);
		i++;
	}
	return 0;
}

/* The network, all of it inside the scenario's namespace: drop, blackhole, heal, sysctl. */

/* A network verb's step: it needs the scenario's own namespace. */
static struct sc_step *net_step(struct sc_parser *p, const struct sc_verb *v)
{
	if (!p->sc->net_line)
		p->sc->net_line = p->line;
	return sc_new_step(p, v);
}

/* drop ACTOR KIND... [once]; blackhole ACTOR; heal. */
static int parse_fault(struct sc_parser *p, const struct sc_verb *v)
{
	enum sc_kind kind = v->kind;
	struct sc_step *st;
	int a = -1, i = 1;

	if (kind != SK_HEAL && (a = sc_need_actor(p, p->ntok > 1 ? p->tok[1] : NULL, v->name)) < 0)
		return -1;
	if (!(st = net_step(p, v)))
		return -1;
	st->actor = (int8_t)a;
	i += kind != SK_HEAL;
	for (; kind == SK_DROP && i < p->ntok; i++) {
		int seg = sc_seg_parse(p->tok[i]);

		if (!strcmp(p->tok[i], "once") && i == p->ntok - 1 && st->segs)
			st->once = true;
		else if (seg < 0)
			return sc_perr(
			    p,
			    "drop: unknown segment kind '%s' (expected syn, synack, ack, "
			    "fin, rst or all, then once)",
			    p->tok[i]);
		else
			st->segs |= (uint8_t)(1u << seg);
	}
	if (kind == SK_DROP && !st->segs)
		return sc_perr(
		    p, "drop: expected what to drop after %s (syn, synack, ack, fin, rst or all)",
		    p->tok[1]);
	if (i < p->ntok)
		return unexpected(p, v, p->tok[i]);
	p->sc->uses_nft = true;
	return 0;
}

/* sysctl NAME VALUE [VALUE]: one of the namespace's own TCP settings. */
static int parse_sysctl(struct sc_parser *p, const struct sc_verb *v)
{
	struct sc_step *st;
	long lo, hi, val[2];
	int knob, nv;

	if (p->ntok < 2)
		return sc_perr(p, "sysctl: expected a setting's name, like tcp_fin_timeout");
	if ((knob = sc_knob_find(p->tok[1])) < 0)
		return sc_perr(p,
			       "sysctl: '%s' is not one a scenario may set (see "
			       "tcpdwell-scenario(5): tcp_fin_timeout, tcp_orphan_retries, "
			       "tcp_retries2, tcp_tw_reuse, ...)",
			       p->tok[1]);
	sc_knob_range(knob, &lo, &hi, &nv);
	if (p->ntok != 2 + nv)
		return sc_perr(p, "sysctl %s: expected %s", sc_knob_name(knob),
			       nv == 2 ? "two numbers" : "one number");
	for (int k = 0; k < nv; k++)
		if (sc_parse_long(p->tok[2 + k], lo, hi, &val[k]) < 0)
			return sc_perr(p, "bad number '%s' for %s (expected %ld to %ld)",
				       p->tok[2 + k], sc_knob_name(knob), lo, hi);
	if (nv == 2 && val[0] > val[1])
		return sc_perr(p, "sysctl %s: the first number is above the second",
			       sc_knob_name(knob));
	if (!(st = net_step(p, v)))
		return -1;
	st->knob = (int8_t)knob;
	st->n = val[0];
	st->n2 = nv == 2 ? val[1] : 0;
	return 0;
}

/* Actions: ACTOR VERB [ARG] [OPTIONS]. */

/* The options after an action's argument: `fails ERR`, and those of its entry's opts. */
static int parse_action_opts(struct sc_parser *p, const struct sc_verb *v, struct sc_step *st,
			     int i)
{
	for (; i < p->ntok; i++) {
		const char *o = p->tok[i], *val = i + 1 < p->ntok ? p->tok[i + 1] : NULL;
		long n;

		if (!strcmp(o, "fails")) {
			if (!val || !(st->fail_errno = sc_errno_parse(val)))
				return sc_perr(
				    p, "%s: 'fails' wants an error name like EPIPE, got '%s'",
				    v->name, val ? val : "nothing");
			i++;
		} else if (!strcmp(o, "reuseaddr") && (v->opts & SC_OPT_REUSEADDR)) {
			st->reuseaddr = true;
		} else if (!strcmp(o, "again") && (v->opts & SC_OPT_AGAIN)) {
			st->again = true;
		} else if (!strcmp(o, "listener") && (v->opts & SC_OPT_LISTENER)) {
			st->listener = true;
		} else if (!strcmp(o, "backlog") && (v->opts & SC_OPT_BACKLOG)) {
			if (sc_parse_long(val, 0, 65535, &n) < 0)
				return sc_perr(p,
					       "bad number '%s' for backlog (expected 0 to 65535)",
					       val ? val : "");
			st->backlog = (int)n;
			i++;
		} else if (!strcmp(o, "defer") && (v->opts & SC_OPT_DEFER)) {
			if (sc_parse_long(val, 1, 3600, &n) < 0)
				return sc_perr(
				    p, "bad number '%s' for defer (expected seconds, 1 to 3600)",
				    val ? val : "");
			st->defer = (int)n;
			i++;
		} else if ((!strcmp(o, "rcvbuf") || !strcmp(o, "sndbuf")) &&
			   (v->opts & SC_OPT_BUFS)) {
			if (sc_parse_long(val, 1024, 16L << 20, &n) < 0)
				return sc_perr(
				    p, "bad number '%s' for %s (expected bytes, 1024 to %ld)",
				    val ? val : "", o, 16L << 20);
			*(o[0] == 'r' ? &st->rcvbuf : &st->sndbuf) = (int)n;
			i++;
		} else {
			return unexpected(p, v, o);
		}
	}
	return 0;
}

/* An action's step for the parser's actor, or NULL with the error set. */
static struct sc_step *action_step(struct sc_parser *p, const struct sc_verb *v)
{
	struct sc_step *st = sc_new_step(p, v);

	if (st)
		st->actor = (int8_t)p->actor;
	return st;
}

/* The word after the action: its argument, or NULL. */
static const char *action_arg(const struct sc_parser *p)
{
	return p->ntok > 2 ? p->tok[2] : NULL;
}

/* accept, fill, drain, close, exit: options only. */
static int parse_plain(struct sc_parser *p, const struct sc_verb *v)
{
	struct sc_step *st = action_step(p, v);

	return st ? parse_action_opts(p, v, st, 2) : -1;
}

/* listen, bind-again: the actor's port is reserved for it. */
static int parse_listen(struct sc_parser *p, const struct sc_verb *v)
{
	p->sc->actors[p->actor].listens = true;
	return parse_plain(p, v);
}

static int parse_connect(struct sc_parser *p, const struct sc_verb *v)
{
	const char *arg = action_arg(p);
	struct sc_step *st = action_step(p, v);
	int i = 2;

	if (!st)
		return -1;
	if (arg && strcmp(arg, "fails") && strcmp(arg, "rcvbuf") && strcmp(arg, "sndbuf") &&
	    strcmp(arg, "again")) {
		int t = sc_need_actor(p, arg, "connect");
		if (t < 0)
			return -1;
		st->target = (int8_t)t;
		i++;
	}
	return parse_action_opts(p, v, st, i);
}

/* The action's argument, a number in [lo, hi] of unit, into st->n; -1 with the error set. */
static int action_number(struct sc_parser *p, const struct sc_verb *v, struct sc_step *st, long lo,
			 long hi, const char *unit)
{
	const char *arg = action_arg(p);

	if (sc_parse_long(arg, lo, hi, &st->n) < 0)
		return sc_perr(p, "bad number '%s' for %s (expected %s, %ld to %ld)",
			       arg ? arg : "", v->name, unit, lo, hi);
	return 0;
}

/* send N, recv N. */
static int parse_bytes(struct sc_parser *p, const struct sc_verb *v)
{
	struct sc_step *st = action_step(p, v);

	if (!st || action_number(p, v, st, 1, MAX_BYTES_ARG, "bytes") < 0)
		return -1;
	return parse_action_opts(p, v, st, 3);
}

static int parse_write_after_close(struct sc_parser *p, const struct sc_verb *v)
{
	const char *arg = action_arg(p);
	struct sc_step *st = action_step(p, v);
	int i = 2;

	if (!st)
		return -1;
	st->n = 100;
	if (arg && isdigit((unsigned char)*arg)) {
		if (action_number(p, v, st, 1, 65536, "bytes") < 0)
			return -1;
		i++;
	}
	return parse_action_opts(p, v, st, i);
}

static int parse_linger(struct sc_parser *p, const struct sc_verb *v)
{
	struct sc_step *st = action_step(p, v);

	if (!st || action_number(p, v, st, 0, 60, "seconds") < 0)
		return -1;
	return parse_action_opts(p, v, st, 3);
}

static int parse_shutdown(struct sc_parser *p, const struct sc_verb *v)
{
	const char *arg = action_arg(p);
	struct sc_step *st = action_step(p, v);

	if (!st)
		return -1;
	if (!arg || (strcmp(arg, "rd") && strcmp(arg, "wr") && strcmp(arg, "rdwr")))
		return sc_perr(p, "shutdown: expected rd, wr or rdwr, got '%s'",
			       arg ? arg : "nothing");
	st->n = !strcmp(arg, "rd") ? 0 : !strcmp(arg, "wr") ? 1 : 2;
	return parse_action_opts(p, v, st, 3);
}

/*
 * Every verb, in the order the messages list them. The header's make no
 * step; an action is performed by its actor (scenario_actor.c), the other
 * steps by the runner.
 */
static const struct sc_verb sc_verbs[] = {
    {.name = "scenario", .usage = "NAME", .parse = parse_scenario},
    {.name = "about", .usage = "TEXT", .free_text = true, .parse = parse_about},
    {.name = "actor", .usage = "NAME...", .parse = parse_actor},
    {.name = "say",
     .usage = "TEXT",
     .free_text = true,
     .kind = SK_SAY,
     .parse = parse_say,
     .run = &sc_run_say},
    {.name = "sleep",
     .usage = "SECONDS",
     .kind = SK_SLEEP,
     .parse = parse_sleep,
     .run = &sc_run_sleep},
    {.name = "wait",
     .usage = "ACTOR STATE [TIMEOUT]",
     .kind = SK_WAIT,
     .parse = parse_check,
     .run = &sc_run_check},
    {.name = "expect",
     .usage = "ACTOR [not] STATE [for SECS] [within SECS], or ACTOR sends|retransmits [no] "
	      "KIND [within SECS], or KIND from ACTOR",
     .kind = SK_EXPECT,
     .parse = parse_check,
     .run = &sc_run_check},
    {.name = "step", .usage = "", .kind = SK_STEP, .parse = parse_step, .run = &sc_run_key},
    {.name = "drop",
     .usage = "ACTOR KIND... [once]",
     .kind = SK_DROP,
     .parse = parse_fault,
     .run = &sc_run_net},
    {.name = "blackhole",
     .usage = "ACTOR",
     .kind = SK_BLACKHOLE,
     .parse = parse_fault,
     .run = &sc_run_net},
    {.name = "heal", .usage = "", .kind = SK_HEAL, .parse = parse_fault, .run = &sc_run_net},
    {.name = "sysctl",
     .usage = "NAME VALUE [VALUE]",
     .kind = SK_SYSCTL,
     .parse = parse_sysctl,
     .run = &sc_run_net},
    {.name = "listen",
     .usage = "[backlog N] [defer SECS] [reuseaddr] [rcvbuf N] [sndbuf N]",
     .action = true,
     .kind = SK_ACTION,
     .act = SA_LISTEN,
     .opts = SC_OPT_BACKLOG | SC_OPT_DEFER | SC_OPT_REUSEADDR | SC_OPT_BUFS,
     .parse = parse_listen,
     .run = &sc_run_action,
     .perform = sc_do_listen},
    {.name = "connect",
     .usage = "[ACTOR] [again] [rcvbuf N] [sndbuf N]",
     .action = true,
     .kind = SK_ACTION,
     .act = SA_CONNECT,
     .opts = SC_OPT_AGAIN | SC_OPT_BUFS,
     .parse = parse_connect,
     .run = &sc_run_action,
     .perform = sc_do_connect},
    {.name = "accept",
     .usage = "",
     .action = true,
     .kind = SK_ACTION,
     .act = SA_ACCEPT,
     .parse = parse_plain,
     .run = &sc_run_action,
     .perform = sc_do_accept},
    {.name = "send",
     .usage = "N",
     .action = true,
     .kind = SK_ACTION,
     .act = SA_SEND,
     .parse = parse_bytes,
     .run = &sc_run_action,
     .perform = sc_do_send},
    {.name = "fill",
     .usage = "",
     .action = true,
     .kind = SK_ACTION,
     .act = SA_FILL,
     .parse = parse_plain,
     .run = &sc_run_action,
     .perform = sc_do_fill},
    {.name = "recv",
     .usage = "N",
     .action = true,
     .kind = SK_ACTION,
     .act = SA_RECV,
     .parse = parse_bytes,
     .run = &sc_run_action,
     .perform = sc_do_recv},
    {.name = "drain",
     .usage = "",
     .action = true,
     .kind = SK_ACTION,
     .act = SA_DRAIN,
     .parse = parse_plain,
     .run = &sc_run_action,
     .perform = sc_do_drain},
    {.name = "shutdown",
     .usage = "rd|wr|rdwr",
     .action = true,
     .kind = SK_ACTION,
     .act = SA_SHUTDOWN,
     .parse = parse_shutdown,
     .run = &sc_run_action,
     .perform = sc_do_shutdown},
    {.name = "close",
     .usage = "[listener]",
     .action = true,
     .kind = SK_ACTION,
     .act = SA_CLOSE,
     .opts = SC_OPT_LISTENER,
     .parse = parse_plain,
     .run = &sc_run_action,
     .perform = sc_do_close},
    {.name = "linger",
     .usage = "SECS",
     .action = true,
     .kind = SK_ACTION,
     .act = SA_LINGER,
     .parse = parse_linger,
     .run = &sc_run_action,
     .perform = sc_do_linger},
    {.name = "write-after-close",
     .usage = "[N]",
     .action = true,
     .kind = SK_ACTION,
     .act = SA_WRITE_AFTER_CLOSE,
     .parse = parse_write_after_close,
     .run = &sc_run_action,
     .perform = sc_do_write_after_close},
    {.name = "bind-again",
     .usage = "[reuseaddr]",
     .action = true,
     .kind = SK_ACTION,
     .act = SA_BIND_AGAIN,
     .opts = SC_OPT_REUSEADDR,
     .parse = parse_listen,
     .run = &sc_run_action,
     .perform = sc_do_bind_again},
    {.name = "exit",
     .usage = "",
     .action = true,
     .kind = SK_ACTION,
     .act = SA_EXIT,
     .parse = parse_plain,
     .run = &sc_run_action,
     .perform = sc_do_exit},
};

const struct sc_verb *sc_verb_find(const char *name, bool action)
{
	for (size_t i = 0; i < ARRAY_SIZE(sc_verbs); i++)
		if (sc_verbs[i].action == action && !strcmp(sc_verbs[i].name, name))
			return &sc_verbs[i];
	return NULL;
}

void sc_verb_names(char *buf, size_t len, bool action, const char *last)
{
	size_t used = 0, n = 0, total = 0;

	for (size_t i = 0; i < ARRAY_SIZE(sc_verbs); i++)
		total += sc_verbs[i].action == action;
	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(sc_verbs) && used < len; i++) {
		if (sc_verbs[i].action != action)
			continue;
		n++;
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 n == 1	      ? ""
					 : n == total ? last
						      : ", ",
					 sc_verbs[i].name);
	}
}
