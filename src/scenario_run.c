#include "config.h"
#include "scenario.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "scenario_int.h"
#include "sock.h"
#include "track.h"
#include "util.h"

/* Time limits when the script gives none. */
#define WAIT_DEFAULT (10 * NS_PER_SEC)
#define EXPECT_DEFAULT (3 * NS_PER_SEC)
#define EXPECT_NOT_DEFAULT (1 * NS_PER_SEC)
/* An actor that has not answered by then is stuck (its own actions give up after 5 s). */
#define ACTION_LIMIT (15 * NS_PER_SEC)
/* How often the runner looks at the table and its actors while running. */
#define TICK_NS (50 * NS_PER_MS)

static void put(struct scenario *sc, int64_t mono, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void put(struct scenario *sc, int64_t mono, const char *fmt, ...)
{
	va_list ap;

	if (!sc->o.batch || !sc->o.out)
		return;
	fprintf(sc->o.out, "[%7.3f] ", (double)(mono - sc->t0) / NS_PER_SEC);
	va_start(ap, fmt);
	vfprintf(sc->o.out, fmt, ap);
	va_end(ap);
	fputc('\n', sc->o.out);
	/* Nobody reads any more (`| head`): stop quietly, like the other printers. */
	if (fflush(sc->o.out) == EOF && errno == EPIPE && sc->l)
		loop_quit(sc->l, sc->status);
}

/* Bring loopback up in a fresh namespace, where it starts down. */
static int lo_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = -1;

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		r = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return r;
}

/* Write a whole small file of /proc; -1 on failure. */
static int write_proc(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/*
 * Without root: a user namespace of our own, in which we are root, holding a
 * network namespace of our own. Its loopback, packet sockets, nftables and
 * TCP sysctls are ours to change; nothing on the host is. 0; -1 with why
 * when there is none (go on without); -2 when half made (there is no way
 * back out of an unshare).
 */
static int enter_userns(char *why, size_t len)
{
	char map[64];
	uid_t uid = geteuid();
	gid_t gid = getegid();

	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0) {
		snprintf(why, len, "no user namespace: %s", strerror(errno));
		return -1;
	}
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
	/* An unprivileged gid_map needs setgroups denied first. */
	if (write_proc("/proc/self/setgroups", "deny") < 0 ||
	    write_proc("/proc/self/gid_map", map) < 0) {
		snprintf(why, len, "cannot map the group in a user namespace: %s", strerror(errno));
		return -2;
	}
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
	if (write_proc("/proc/self/uid_map", map) < 0) {
		snprintf(why, len, "cannot map the user in a user namespace: %s", strerror(errno));
		return -2;
	}
	return 0;
}

/* A loopback port nobody uses now (the kernel's choice of an ephemeral one). */
static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	if (fd < 0)
		return -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

int scenario_prepare(struct scenario *sc, char *err, size_t errlen)
{
	char ports[80] = "";
	size_t k = 0;

	const char *why = "not root";
	char uwhy[120];
	const char *env = getenv("TCPDWELL_SCENARIO_USERNS");

	if (geteuid() != 0 && env && !strcmp(env, "0")) {
		why = "not root, and TCPDWELL_SCENARIO_USERNS=0";
	} else if (geteuid() != 0) {
		int r = enter_userns(uwhy, sizeof(uwhy));

		if (r == -2) {
			snprintf(err, errlen, "%s", uwhy);
			return -1;
		}
		if (r < 0) {
			/* Unprivileged user namespaces are off here: the host's loopback. */
			why = uwhy;
		} else if (lo_up() < 0) {
			snprintf(err, errlen,
				 "cannot bring loopback up in the scenario's namespace: %s",
				 strerror(errno));
			return -1;
		} else {
			sc->netns = sc->userns = true;
		}
	} else {
		/* Else a container without CAP_SYS_ADMIN: share the host's loopback. */
		why = "unshare failed";
		if (unshare(CLONE_NEWNET) == 0) {
			if (lo_up() < 0) {
				snprintf(err, errlen,
					 "cannot bring loopback up in the scenario's namespace: %s",
					 strerror(errno));
				return -1;
			}
			sc->netns = true;
		}
	}
	/* Never the host's rules or settings: without a namespace of its own, refuse. */
	if (sc->net_line && !sc->netns) {
		snprintf(err, errlen,
			 "%s:%d: this scenario drops segments, checks them or sets TCP sysctls, "
			 "which it does only in a network namespace of its own; that needs root "
			 "or unprivileged user namespaces (here: %s)",
			 sc->path, sc->net_line, why);
		return -1;
	}
	if (sc_net_check(sc, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < sc->nactors; i++) {
		struct sc_actor *a = &sc->actors[i];
		int port = -1;

		if (!a->listens)
			continue;
		for (int tries = 0; tries < 20 && port < 0; tries++) {
			/*
			 * Free ones, even in a namespace of our own: the exact
			 * source's tracepoint sees every namespace, and another
			 * scenario's 8000 would pass for ours.
			 */
			port = free_port();
			for (size_t j = 0; j < i && port > 0; j++)
				if (sc->actors[j].port == port)
					port = -1;
		}
		if (port <= 0) {
			snprintf(err, errlen, "cannot find a free loopback port for %s: %s", a->name,
				 strerror(errno));
			return -1;
		}
		a->port = (uint16_t)port;
		snprintf(ports + strlen(ports), sizeof(ports) - strlen(ports), "%s%s %d",
			 k ? ", " : "", a->name, port);
		k++;
	}
	if (sc->netns)
		snprintf(sc->note, sizeof(sc->note), "in its own %snetwork namespace; listening ports: %s",
			 sc->userns ? "user and " : "", k ? ports : "none");
	else
		snprintf(sc->note, sizeof(sc->note),
			 "on the host's loopback (%.70s: no namespace of its own); listening ports: %s",
			 why, k ? ports : "none");
	sc->prepared = true;
	return 0;
}

static int actor_of_ports(const struct scenario *sc, uint16_t sport, uint16_t dport)
{
	for (size_t i = 0; i < sc->nactors; i++)
		for (size_t c = 0; c < sc->actors[i].nconns; c++)
			if (sc->actors[i].conns[c].lport == sport &&
			    sc->actors[i].conns[c].rport == dport)
				return (int)i;
	/* The listener, its request sockets and connections not accepted yet. */
	for (size_t i = 0; i < sc->nactors; i++)
		if (sc->actors[i].port && sc->actors[i].port == sport)
			return (int)i;
	/* A connect under way, its port not reported yet: the step's actor's. */
	if (sc->cur < sc->nsteps) {
		const struct sc_step *st = &sc->steps[sc->cur];

		if (st->kind == SK_ACTION && st->act == SA_CONNECT && st->target >= 0 &&
		    sc->actors[st->target].port == dport)
			return st->actor;
	}
	return -1;
}

int sc_actor_of(const struct scenario *sc, uint16_t sport, uint16_t dport)
{
	return actor_of_ports(sc, sport, dport);
}

void sc_put_segment(struct scenario *sc, const struct scenario_ladder *e)
{
	char flags[40];

	narrator_flags_text(flags, sizeof(flags), e->tcpflags);
	put(sc, e->mono < sc->t0 ? sc->t0 : e->mono,
	    "  %-8s > %-8s %-11s seq %u ack %u len %u%s%s",
	    e->actor >= 0 ? sc->actors[e->actor].name : "?",
	    e->peer >= 0 ? sc->actors[e->peer].name : "?", flags, e->seq, e->ack, e->len,
	    e->marks & SCENARIO_SEG_RETRANS ? " retransmission" : "",
	    e->marks & SCENARIO_SEG_LOST ? " (lost: a drop rule took it)" : "");
}

static bool loopback4(const struct sock *s)
{
	return s->family == AF_INET && s->src[0] == 127;
}

bool sc_owns(const struct scenario *sc, const struct sock *s)
{
	if (!sc || !sc->prepared || !loopback4(s))
		return false;
	for (size_t i = 0; i < sc->nactors; i++)
		if (sc->actors[i].port && (s->sport == sc->actors[i].port ||
					   s->dport == sc->actors[i].port))
			return true;
	return actor_of_ports(sc, s->sport, s->dport) >= 0;
}

static int actor_index(const struct scenario *sc, const struct sock *s)
{
	if (!sc_owns(sc, s))
		return -1;
	return actor_of_ports(sc, s->sport, s->dport);
}

const char *sc_actor(const struct scenario *sc, const struct sock *s)
{
	int a;

	if (!sc_owns(sc, s))
		return NULL;
	a = actor_of_ports(sc, s->sport, s->dport);
	/* A connect the actor has not reported yet: ours, but whose is not known. */
	return a >= 0 ? sc->actors[a].name : "?";
}

static void remember_conn(struct sc_actor *a, uint16_t lport, uint16_t rport)
{
	for (size_t c = 0; c < a->nconns; c++)
		if (a->conns[c].lport == lport && a->conns[c].rport == rport)
			return;
	/* The oldest goes when full: its socket is long gone by then. */
	if (a->nconns == SC_MAX_CONNS)
		memmove(a->conns, a->conns + 1, (SC_MAX_CONNS - 1) * sizeof(a->conns[0]));
	else
		a->nconns++;
	a->conns[a->nconns - 1] = (struct sc_conn){ lport, rport };
}

static void states_text(char *buf, size_t len, uint32_t mask)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < st_order_len && used < len; i++)
		if (mask & ST_MASK(st_order[i]) && st_order[i] != ST_CLOSE)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? " " : "",
						 st_name(st_order[i]));
	if (mask & ST_MASK(ST_CLOSE) && used < len)
		used += (size_t)snprintf(buf + used, len - used, "%sgone", used ? " " : "");
	if (!used)
		snprintf(buf, len, "nothing");
}

/*
 * Whether an actor's sockets were seen in a state: now or earlier (hold 0), or
 * now and for at least hold. Also folds what the table shows into seen.
 */
static bool observed(struct scenario *sc, int a, unsigned st, int64_t hold, int64_t now,
		     char *now_text, size_t len)
{
	const struct tsock **v = NULL;
	size_t cap = 0, n = track_collect(loop_track(sc->l), &v, &cap), used = 0;
	struct sc_actor *ac = &sc->actors[a];
	bool held = false;

	if (now_text)
		now_text[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const struct tsock *ts = v[i];
		char dur[DUR_BUFSZ];

		if (actor_index(sc, &ts->s) != a)
			continue;
		for (size_t h = 0; h < ts->nhist; h++)
			ac->seen |= ST_MASK(sc_norm_state(ts->hist[h].state));
		ac->seen |= ST_MASK(sc_norm_state(ts->s.state));
		if (ts->gone || (ts->flags & TS_GHOST)) {
			ac->seen |= ST_MASK(ST_CLOSE);
			continue;
		}
		if (sc_norm_state(ts->s.state) == st && now - ts->since >= hold)
			held = true;
		fmt_dur(dur, now - ts->since, ts->since_kind, false);
		if (now_text && used < len)
			used += (size_t)snprintf(now_text + used, len - used, "%s%s for %s",
						 used ? ", " : "", st_name(ts->s.state),
						 dur + strspn(dur, " "));
	}
	free(v);
	return held || (!hold && (ac->seen & ST_MASK(st)));
}

static void set_step_text(struct scenario *sc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * What happened, for the status line. The step's index ("[8/40] ") is the
 * script's progress: only the verbose text keeps it.
 */
static void set_step_text(struct scenario *sc, const char *fmt, ...)
{
	char raw[sizeof(sc->step_text)];
	const char *plain = raw;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	sanitize(sc->step_text, sizeof(sc->step_text), raw, (size_t)-1);
	if (raw[0] == '[' && strstr(raw, "] "))
		plain = strstr(raw, "] ") + 2;
	sanitize(sc->happening, sizeof(sc->happening), plain, (size_t)-1);
}

/* The script's own progress (a step begun, a check met): for the verbose text only. */
static void set_progress(struct scenario *sc, const char *line, const char *detail)
{
	char raw[sizeof(sc->step_text)];

	snprintf(raw, sizeof(raw), "[%zu/%zu] %.200s%s%.80s", sc->cur + 1, sc->nsteps, line,
		 detail ? ": " : "", detail ? detail : "");
	sanitize(sc->step_text, sizeof(sc->step_text), raw, (size_t)-1);
}

/* How long a `say` stays before the next step: its words at the reading speed. */
static int64_t reading_ns(const struct scenario *sc, const char *text)
{
	double wps = sc->o.wps > 0 ? sc->o.wps : SCENARIO_WPS_DEFAULT;
	size_t words = 0;

	if (sc->o.batch)
		return 0;
	for (const char *p = text; *p; p++)
		words += *p != ' ' && (p == text || p[-1] == ' ');
	/* A few words' worth more, to find the line and look back at the table. */
	return (int64_t)((double)(words + 4) / wps * NS_PER_SEC);
}

/* A `say` with each {ACTOR STATE} replaced by how long that actor's socket was in it. */
static void expand_say(const struct scenario *sc, const char *text, char *out, size_t len)
{
	size_t used = 0;

	while (*text && used + 1 < len) {
		const char *end = *text == '{' ? strchr(text, '}') : NULL;
		char actor[SC_NAME_LEN], state[24], dur[DUR_BUFSZ];
		const char *what = NULL;
		int a = -1, st;

		if (!end || sscanf(text + 1, "%15s %23[^}]", actor, state) != 2) {
			out[used++] = *text++;
			continue;
		}
		for (size_t i = 0; i < sc->nactors; i++)
			if (!strcmp(sc->actors[i].name, actor))
				a = (int)i;
		st = st_parse(state);
		if (a >= 0 && st > 0 && st < ST_MAX) {
			const struct sc_actor *ac = &sc->actors[a];

			st = (int)sc_norm_state((unsigned)st);
			if (ac->left & ST_MASK(st)) {
				fmt_dur(dur, ac->dwell[st], ac->dwell_kind[st], false);
				what = dur + strspn(dur, " ");
			} else {
				/* Passed between two polls, or not left yet: no time to quote. */
				what = "too briefly to be seen";
			}
		}
		if (!what) {
			out[used++] = *text++;
			continue;
		}
		used += (size_t)snprintf(out + used, len - used, "%s", what);
		text = end + 1;
	}
	out[used < len ? used : len - 1] = '\0';
}

static void finish(struct scenario *sc, int64_t now)
{
	if (sc->finished)
		return;
	sc->finished = true;
	sc->waiting = false;
	if (sc->status == 2) {
		put(sc, now, "scenario %s stopped: runtime error", sc->name);
	} else {
		put(sc, now, "scenario %s done: %u expectations, %u met, %u failed", sc->name,
		    sc->n_expect, sc->n_expect - sc->n_failed, sc->n_failed);
		set_step_text(sc, "done: %u of %u expectations met", sc->n_expect - sc->n_failed,
			      sc->n_expect);
	}
	if (sc->o.svg) {
		char err[300];

		if (sc_svg_write(sc, sc->o.svg, err, sizeof(err)) < 0) {
			put(sc, now, "ERROR %s", err);
			if (!sc->o.batch && sc->l)
				loop_status(sc->l, "scenario: %s", err);
			sc->status = 2;
		} else {
			put(sc, now, "ladder and timeline drawn in %s", sc->o.svg);
		}
	}
	if (sc->o.batch)
		loop_quit(sc->l, sc->status);
}

/* Something went wrong that the script did not ask for: report it and stop. */
static void runtime_error(struct scenario *sc, int64_t now, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void runtime_error(struct scenario *sc, int64_t now, const char *fmt, ...)
{
	char msg[300], clean[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sanitize(clean, sizeof(clean), msg, (size_t)-1);
	sc->status = 2;
	put(sc, now, "ERROR %s", clean);
	set_step_text(sc, "stopped: %s", clean);
	if (!sc->o.batch && sc->l)
		loop_status(sc->l, "scenario: %s", clean);
	finish(sc, now);
}

static void verdict(struct scenario *sc, int64_t now, const struct sc_step *st, bool ok,
		    const char *detail)
{
	char line[SC_MAX_LINE + 1];

	sanitize(line, sizeof(line), st->text, (size_t)-1);
	sc->n_expect++;
	if (!ok) {
		sc->n_failed++;
		if (sc->status < 1)
			sc->status = 1;
	}
	put(sc, now, "%s line %d: %s: %s", ok ? "PASS" : "FAIL", st->line, line, detail);
	if (ok)
		set_progress(sc, line, detail);
	else
		set_step_text(sc, "[%zu/%zu] %s: FAILED %s", sc->cur + 1, sc->nsteps, line,
			      detail);
}

static int64_t check_limit(const struct sc_step *st)
{
	if (st->ns)
		return st->ns + st->hold_ns;
	if (st->kind == SK_WAIT)
		return WAIT_DEFAULT;
	return (st->negate ? EXPECT_NOT_DEFAULT : EXPECT_DEFAULT) + st->hold_ns;
}

/* wait and expect: 1 decided, 0 not yet. Sets *ok. */
static int check(struct scenario *sc, const struct sc_step *st, int64_t now, bool *ok,
		 char *detail, size_t len)
{
	struct sc_actor *a = &sc->actors[st->actor];
	char cur[160], seen[160], what[40];
	bool met = observed(sc, st->actor, st->state, st->hold_ns, now, cur, sizeof(cur));
	bool late = now >= sc->deadline;
	const char *want = st->state == ST_CLOSE ? "gone" : st_name(st->state);

	if (st->seg_check) {
		int seg = __builtin_ctz(st->segs);

		met = ((st->retrans ? a->resent : a->sent) & st->segs) != 0;
		snprintf(what, sizeof(what), "%s %s", st->retrans ? "retransmitting" : "sending",
			 sc_seg_name(seg));
		want = what;
		snprintf(cur, sizeof(cur), "%s", sc->cap_fd < 0 ? "no capture" : "captured");
	}

	if (!met && !late)
		return 0;
	if (st->negate && met) {
		*ok = false;
		snprintf(detail, len, "%s was seen in %s", a->name, want);
		return 1;
	}
	if (st->negate && !late)
		return 0;
	*ok = st->negate || met;
	if (*ok) {
		snprintf(detail, len, "%s", st->negate ? "not seen" : "seen");
		return 1;
	}
	if (st->seg_check)
		snprintf(seen, sizeof(seen), "segments listed above");
	else
		states_text(seen, sizeof(seen), a->seen);
	snprintf(detail, len, "%s not seen in %s%s within %.1f s (seen: %s; now: %s)", a->name,
		 want, st->hold_ns ? " long enough" : "",
		 (double)check_limit(st) / NS_PER_SEC,
		 seen, cur[0] ? cur : "no socket");
	return 1;
}

/* How each kind of step runs: sc_verbs[] points at these. */

static void begin_say(struct scenario *sc, struct sc_step *st, const char *line, int64_t now)
{
	char msg[400];

	(void)line;
	expand_say(sc, st->text, msg, sizeof(msg));
	sanitize(sc->narration, sizeof(sc->narration), msg, (size_t)-1);
	put(sc, now, "say: %s", sc->narration);
	sc->deadline = now + reading_ns(sc, sc->narration);
	sc->said = true;
}

static void begin_sleep(struct scenario *sc, struct sc_step *st, const char *line, int64_t now)
{
	sc->deadline = now + st->ns;
	put(sc, now, "line %d: %s", st->line, line);
}

static void begin_check(struct scenario *sc, struct sc_step *st, const char *line, int64_t now)
{
	sc->deadline = now + check_limit(st);
	put(sc, now, "line %d: %s", st->line, line);
}

static void begin_key(struct scenario *sc, struct sc_step *st, const char *line, int64_t now)
{
	(void)line;
	put(sc, now, "line %d: step%s", st->line,
	    sc->o.step_mode ? ": waiting for a key" : " (not in step mode: going on)");
	if (sc->o.step_mode)
		set_step_text(sc, "[%zu/%zu] waiting: press n for the next step", sc->cur + 1,
			      sc->nsteps);
}

static void begin_net(struct scenario *sc, struct sc_step *st, const char *line, int64_t now)
{
	char msg[400];

	put(sc, now, "line %d: %s", st->line, line);
	if (sc_net_apply(sc, sc->cur, msg, sizeof(msg)) < 0) {
		runtime_error(sc, now, "line %d: %s", st->line, msg);
		return;
	}
	put(sc, now, "  %s", msg);
	set_step_text(sc, "[%zu/%zu] %s", sc->cur + 1, sc->nsteps, msg);
	if (st->kind != SK_SYSCTL)
		sc_cap_rule(sc, sc->cur);
}

static void begin_action(struct scenario *sc, struct sc_step *st, const char *line, int64_t now)
{
	int r;

	put(sc, now, "line %d: %s", st->line, line);
	sc->deadline = now + ACTION_LIMIT + (st->act == SA_CLOSE ? 60 * NS_PER_SEC : 0);
	r = sc_actor_command(sc, sc->cur);
	if (r < 0)
		runtime_error(sc, now, "line %d: cannot reach %s: %s", st->line,
			      sc->actors[st->actor].name, strerror(-r));
}

/* say, sleep: done when their time is up. */
static bool done_timer(struct scenario *sc, struct sc_step *st, int64_t now)
{
	(void)st;
	return now >= sc->deadline;
}

static bool done_check(struct scenario *sc, struct sc_step *st, int64_t now)
{
	char detail[400];
	bool ok;

	if (!check(sc, st, now, &ok, detail, sizeof(detail)))
		return false;
	verdict(sc, now, st, ok, detail);
	/* The steps after a wait count on it: stop. */
	if (!ok && st->kind == SK_WAIT) {
		finish(sc, now);
		return false;
	}
	return true;
}

static bool done_key(struct scenario *sc, struct sc_step *st, int64_t now)
{
	(void)st;
	(void)now;
	if (sc->o.step_mode && !sc->advance) {
		sc->waiting = true;
		return false;
	}
	sc->waiting = false;
	sc->advance = false;
	sc->said = false;
	return true;
}

/* drop, blackhole, heal, sysctl: done once applied. */
static bool done_now(struct scenario *sc, struct sc_step *st, int64_t now)
{
	(void)sc;
	(void)st;
	(void)now;
	return true;
}

/* An action is done when its actor replies (on_reply); until then, only its time limit. */
static bool done_action(struct scenario *sc, struct sc_step *st, int64_t now)
{
	if (now >= sc->deadline)
		runtime_error(sc, now, "line %d: %s did not answer within %.0f s", st->line,
			      sc->actors[st->actor].name, (double)ACTION_LIMIT / NS_PER_SEC);
	return false;
}

const struct sc_run sc_run_say = {begin_say, done_timer};
const struct sc_run sc_run_sleep = {begin_sleep, done_timer};
const struct sc_run sc_run_check = {begin_check, done_check};
const struct sc_run sc_run_key = {begin_key, done_key};
const struct sc_run sc_run_net = {begin_net, done_now};
const struct sc_run sc_run_action = {begin_action, done_action};

/* Start the step at cur: print it, then as its verb says (a command, a timer, ...). */
static void begin_step(struct scenario *sc, int64_t now)
{
	struct sc_step *st = &sc->steps[sc->cur];
	char line[SC_MAX_LINE + 1];

	sc->cur_begun = true;
	sanitize(line, sizeof(line), st->text ? st->text : "", (size_t)-1);
	set_progress(sc, line, NULL);
	st->verb->run->begin(sc, st, line, now);
}

static void next_step(struct scenario *sc)
{
	sc->cur++;
	sc->cur_begun = false;
}

/* Run steps until one has to wait (a reply, a timer, the tracker, a key). */
static void run(struct scenario *sc, int64_t now)
{
	while (!sc->finished) {
		struct sc_step *st;

		if (sc->cur >= sc->nsteps) {
			finish(sc, now);
			return;
		}
		st = &sc->steps[sc->cur];
		/*
		 * What was seen before the first step is not the script's doing: the
		 * port probes of prepare live and die on the actors' ports.
		 */
		if (sc->cur == 0 && !sc->cur_begun)
			for (size_t i = 0; i < sc->nactors; i++)
				sc->actors[i].seen = sc->actors[i].left = 0;
		/* The view's pause holds the script too: nothing begins, no time runs out. */
		if (sc->paused)
			return;
		/* Step mode: a narration stays until a key, never replaced by the next. */
		if (!sc->cur_begun && st->kind == SK_SAY && sc->o.step_mode && sc->said) {
			if (!sc->advance) {
				sc->waiting = true;
				set_step_text(sc, "[%zu/%zu] waiting: press n for the next step",
					      sc->cur + 1, sc->nsteps);
				return;
			}
			sc->waiting = false;
			sc->advance = false;
			sc->said = false;
		}
		if (!sc->cur_begun) {
			begin_step(sc, now);
			if (sc->finished)
				return;
		}
		if (!st->verb->run->done(sc, st, now))
			return;
		next_step(sc);
	}
}

static void on_reply(struct scenario *sc, const struct sc_reply *r, int64_t now)
{
	struct sc_step *st;
	struct sc_actor *a;
	char text[sizeof(r->text)], detail[300];

	if (r->actor < 0 || (size_t)r->actor >= sc->nactors)
		return;
	a = &sc->actors[r->actor];
	sanitize(text, sizeof(text), r->text, sizeof(r->text));
	if (r->step < 0) {
		runtime_error(sc, now, "%s: %s", a->name, text);
		return;
	}
	if (r->lport && r->rport)
		remember_conn(a, r->lport, r->rport);
	put(sc, now, "  %s: %s", a->name, text);
	if ((size_t)r->step != sc->cur || !sc->cur_begun || sc->finished)
		return;
	st = &sc->steps[sc->cur];
	if (st->fail_errno) {
		bool ok = r->ret < 0 && r->err == st->fail_errno;
		snprintf(detail, sizeof(detail), "%s %s", ok ? "failed with" : "expected",
			 sc_errno_name(st->fail_errno));
		verdict(sc, now, st, ok, detail);
	} else if (r->ret < 0) {
		runtime_error(sc, now, "line %d: %s failed unexpectedly: %s", st->line, a->name,
			      text);
		return;
	} else {
		set_step_text(sc, "[%zu/%zu] %s: %s", sc->cur + 1, sc->nsteps, a->name, text);
	}
	next_step(sc);
	run(sc, now);
}

static void runner_event(void *ctx, const struct track_event *ev)
{
	struct scenario *sc = ctx;
	char la[ADDR_BUFSZ], pa[ADDR_BUFSZ], dur[DUR_BUFSZ];
	int a;

	if (!sc_owns(sc, &ev->s))
		return;
	a = actor_index(sc, &ev->s);
	if (a >= 0) {
		unsigned from = sc_norm_state(ev->from);

		/* The time a `say` may quote: how long this state lasted, as the table showed. */
		if (ev->from != ST_CLOSE && from < ST_MAX && ev->to != ev->from) {
			sc->actors[a].left |= ST_MASK(from);
			sc->actors[a].dwell[from] = ev->dwell;
			sc->actors[a].dwell_kind[from] = ev->dwell_kind;
		}
		if (ev->from != ST_CLOSE)
			sc->actors[a].seen |= ST_MASK(sc_norm_state(ev->from));
		sc_ladder_state(sc, ev->mono, a, ev->from, ev->to, ev->s.sport, ev->s.dport);
		sc->actors[a].seen |= ST_MASK(sc_norm_state(ev->to));
	}
	fmt_addr(la, sizeof(la), ev->s.family, ev->s.src, ev->s.sport);
	fmt_addr(pa, sizeof(pa), ev->s.family, ev->s.dst, ev->s.dport);
	fmt_dur(dur, ev->dwell, ev->dwell_kind, false);
	/* A socket appearing or going is no jump of the state machine, whatever it skipped. */
	put(sc, ev->mono < sc->t0 ? sc->t0 : ev->mono, "  %-8s %-21s %-21s %s -> %s%s%s%s",
	    a >= 0 ? sc->actors[a].name : "?", la, pa,
	    ev->from == ST_CLOSE ? "(new)" : st_name(ev->from),
	    ev->to == ST_CLOSE ? "gone" : st_name(ev->to), ev->from != ST_CLOSE ? " after " : "",
	    ev->from != ST_CLOSE ? dur + strspn(dur, " ") : "",
	    ev->jump && ev->from != ST_CLOSE && ev->to != ST_CLOSE ? " (jump)" : "");
}

static int runner_fd(void *ctx)
{
	struct scenario *sc = ctx;

	return sc->reply_fd;
}

static void runner_input(void *ctx, struct loop *l)
{
	struct scenario *sc = ctx;
	struct sc_reply r;
	ssize_t n;

	(void)l;
	while (sc->reply_fd >= 0) {
		n = read(sc->reply_fd, &r, sizeof(r));
		if (n == (ssize_t)sizeof(r)) {
			on_reply(sc, &r, mono_ns());
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) {
			/* Every actor is gone: nothing more will come. */
			close(sc->reply_fd);
			sc->reply_fd = -1;
		}
		break;
	}
}

static int64_t runner_next_due(void *ctx)
{
	struct scenario *sc = ctx;

	if (sc->finished)
		return INT64_MAX;
	return sc->last_tick + TICK_NS;
}

static void runner_tick(void *ctx, struct loop *l, int64_t now)
{
	struct scenario *sc = ctx;
	char why[160];
	int died;

	(void)l;
	sc->last_tick = now;
	died = sc_actors_reap(sc, why, sizeof(why));
	if (died >= 0 && !sc->finished) {
		/* What it managed to say before dying comes first. */
		runner_input(sc, l);
		runtime_error(sc, now, "%s died: %s", sc->actors[died].name, why);
	}
	/* The first dump is the baseline the tracker compares against: start after it. */
	if (sc->finished || !track_last_poll(loop_track(sc->l)))
		return;
	run(sc, now);
}

static void runner_close(void *ctx)
{
	scenario_stop(ctx);
}

static const struct sink_ops runner_ops = {
	.name = "scenario",
	.event = runner_event,
	.fd = runner_fd,
	.input = runner_input,
	.next_due = runner_next_due,
	.tick = runner_tick,
	.close = runner_close,
};

int scenario_start(struct scenario *sc, struct loop *l, const struct scenario_opts *o, char *err,
		   size_t errlen)
{
	char desc[600];

	if (!sc->prepared && scenario_prepare(sc, err, errlen) < 0)
		return -1;
	sc->l = l;
	sc->o = *o;
	/* Nobody can press a key in batch mode. */
	if (sc->o.batch)
		sc->o.step_mode = false;
	if (!sc->o.out)
		sc->o.out = stdout;
	sc->t0 = mono_ns();
	sc->last_tick = sc->t0;
	sanitize(desc, sizeof(desc), sc->desc ? sc->desc : "", (size_t)-1);
	put(sc, sc->t0, "scenario %s: %s", sc->name, desc);
	put(sc, sc->t0, "running %s", sc->note);
	sc->started = true;
	if (sc_cap_start(sc, l, err, errlen) < 0)
		return -1;
	if (sc_actors_start(sc, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < sc->nactors; i++)
		put(sc, sc->t0, "actor %s: pid %d%s", sc->actors[i].name, (int)sc->actors[i].pid,
		    sc->userns	       ? ", without capabilities" :
		    geteuid() == 0 ? ", running as nobody" :
				     "");
	sanitize(sc->narration, sizeof(sc->narration), sc->about ? sc->about : "", (size_t)-1);
	set_step_text(sc, "starting");
	loop_add_sink(l, &runner_ops, sc);
	/* An actor that ended is reaped at once, not at the next tick. */
	loop_on_signal(l, SIGCHLD, runner_tick, sc);
	return 0;
}

const char *sc_step_text(const struct scenario *sc)
{
	if (sc->paused && !sc->finished)
		return "paused: Space goes on";
	return sc->o.verbose ? sc->step_text : sc->happening;
}

const char *sc_narration(const struct scenario *sc)
{
	return sc->narration;
}

void sc_pause(struct scenario *sc, bool paused)
{
	int64_t now = mono_ns();

	if (!sc || paused == sc->paused)
		return;
	sc->paused = paused;
	if (paused) {
		sc->paused_at = now;
		return;
	}
	/* The step running gets the time it lost: a wait or a `say` is not cut short. */
	if (sc->cur_begun)
		sc->deadline += now - sc->paused_at;
}

void sc_advance(struct scenario *sc)
{
	if (sc->waiting)
		sc->advance = true;
}

bool sc_waiting(const struct scenario *sc)
{
	return sc->waiting;
}

int scenario_status(const struct scenario *sc)
{
	return sc->status;
}
