/*
 * unit_scenario.c - the scenario language: good scripts parse into the steps
 * they say, bad ones are refused with file:line and the exact reason, and
 * every bundled script parses.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <unistd.h>

#include "scenario.h"
#include "scenario_int.h"
#include "sock.h"
#include "unit.h"
#include "util.h"

static char err[512];

static struct scenario *parse(const char *text)
{
	err[0] = '\0';
	return scenario_parse_text("t.tcps", text, strlen(text), err, sizeof(err));
}

/* The error a script gets; the script must be refused. */
static const char *error_of(const char *text)
{
	struct scenario *sc = parse(text);

	CHECK(sc == NULL);
	scenario_free(sc);
	return err;
}

#define HEAD "scenario t\nabout A test.\nactor server client\n"

static void good_script(void)
{
	struct scenario *sc = parse("# a comment\n"
				    "scenario demo-1\n"
				    "about First line.\n"
				    "about Second line.\n"
				    "actor server client\n"
				    "actor client2\n"
				    "\n"
				    "server listen backlog 0 defer 5 reuseaddr rcvbuf 4096\n"
				    "client connect server sndbuf 4096   # trailing comment\n"
				    "client2 connect\n"
				    "server accept\n"
				    "say The client   closes # first.\n"
				    "client linger 0\n"
				    "client close\n"
				    "sleep 1.5\n"
				    "wait client FIN_WAIT_2 5\n"
				    "expect server close-wait for 2 within 4\n"
				    "expect client not time_wait\n"
				    "expect server gone\n"
				    "server shutdown wr\n"
				    "server send 100\n"
				    "server recv 10 fails ECONNRESET\n"
				    "server close listener\n"
				    "server bind-again reuseaddr fails EADDRINUSE\n"
				    "client write-after-close 50 fails EPIPE\n"
				    "step\n"
				    "client2 exit\r\n");
	const struct sc_step *s;

	CHECK(sc != NULL);
	if (!sc) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	CHECK_STR(scenario_name(sc), "demo-1");
	CHECK_STR(sc->about, "First line.");
	CHECK_STR(sc->desc, "First line. Second line.");
	CHECK(sc->nactors == 3);
	CHECK_STR(sc->actors[2].name, "client2");
	CHECK(sc->actors[0].listens && !sc->actors[1].listens);
	CHECK(sc->nsteps == 20);
	s = &sc->steps[0];
	CHECK(s->kind == SK_ACTION && s->act == SA_LISTEN && s->actor == 0 && s->backlog == 0 &&
	      s->defer == 5 && s->reuseaddr && s->rcvbuf == 4096 && s->line == 8);
	s = &sc->steps[1];
	CHECK(s->act == SA_CONNECT && s->target == 0 && s->sndbuf == 4096);
	CHECK_STR(s->text, "client connect server sndbuf 4096   # trailing comment");
	/* Without a target, connect goes to the first actor that listens. */
	CHECK(sc->steps[2].act == SA_CONNECT && sc->steps[2].target == 0);
	s = &sc->steps[4];
	CHECK(s->kind == SK_SAY);
	CHECK_STR(s->text, "The client   closes # first.");
	CHECK(sc->steps[5].act == SA_LINGER && sc->steps[5].n == 0);
	CHECK(sc->steps[7].kind == SK_SLEEP && sc->steps[7].ns == 1500 * NS_PER_MS);
	s = &sc->steps[8];
	CHECK(s->kind == SK_WAIT && s->actor == 1 && s->state == ST_FIN_WAIT2 &&
	      s->ns == 5 * NS_PER_SEC);
	s = &sc->steps[9];
	CHECK(s->kind == SK_EXPECT && s->state == ST_CLOSE_WAIT && s->hold_ns == 2 * NS_PER_SEC &&
	      s->ns == 4 * NS_PER_SEC && !s->negate);
	CHECK(sc->steps[10].negate && sc->steps[10].state == ST_TIME_WAIT);
	CHECK(sc->steps[11].state == ST_CLOSE);
	CHECK(sc->steps[12].act == SA_SHUTDOWN && sc->steps[12].n == 1);
	CHECK(sc->steps[13].act == SA_SEND && sc->steps[13].n == 100);
	CHECK(sc->steps[14].act == SA_RECV && sc->steps[14].fail_errno == ECONNRESET);
	CHECK(sc->steps[15].act == SA_CLOSE && sc->steps[15].listener);
	CHECK(sc->steps[16].act == SA_BIND_AGAIN && sc->steps[16].reuseaddr &&
	      sc->steps[16].fail_errno == EADDRINUSE);
	CHECK(sc->steps[17].act == SA_WRITE_AFTER_CLOSE && sc->steps[17].n == 50 &&
	      sc->steps[17].fail_errno == EPIPE);
	CHECK(sc->steps[18].kind == SK_STEP);
	CHECK(sc->steps[19].act == SA_EXIT && sc->steps[19].actor == 2);
	scenario_free(sc);
}

/* The network verbs parse into their steps and mark the script as needing a namespace. */
static void net_verbs(void)
{
	struct scenario *sc = parse(HEAD "server listen\n"
					 "sysctl net.ipv4.tcp_fin_timeout 2\n"
					 "client connect\n"
					 "drop client fin ack once\n"
					 "blackhole server\n"
					 "heal\n"
					 "sysctl ip_local_port_range 40000 40001\n"
					 "client connect again\n");

	CHECK(sc != NULL);
	if (!sc)
		return;
	CHECK(sc->net_line == 5 && sc->uses_nft);
	CHECK(sc->steps[1].kind == SK_SYSCTL && sc->steps[1].n == 2);
	CHECK_STR(sc_knob_name(sc->steps[1].knob), "tcp_fin_timeout");
	CHECK(sc->steps[3].kind == SK_DROP && sc->steps[3].actor == 1 && sc->steps[3].once);
	CHECK(sc->steps[3].segs == ((1u << SG_FIN) | (1u << SG_ACK)));
	CHECK(sc->steps[4].kind == SK_BLACKHOLE && sc->steps[4].actor == 0);
	CHECK(sc->steps[5].kind == SK_HEAL);
	CHECK(sc->steps[6].n == 40000 && sc->steps[6].n2 == 40001);
	CHECK(sc->steps[7].act == SA_CONNECT && sc->steps[7].again && sc->steps[7].target == 0);
	scenario_free(sc);
	/* Segment expectations, in both spellings; they need the capture of a namespace. */
	sc = parse(HEAD "server listen\nclient connect\n"
			"expect client sends FIN within 2\n"
			"expect server retransmits fin\n"
			"expect client sends no RST\n"
			"expect RST from server\n");
	CHECK(sc != NULL);
	if (sc) {
		CHECK(sc->net_line == 6 && !sc->uses_nft);
		CHECK(sc->steps[2].seg_check && !sc->steps[2].retrans && sc->steps[2].actor == 1);
		CHECK(sc->steps[2].segs == 1u << SG_FIN && sc->steps[2].ns == 2 * NS_PER_SEC);
		CHECK(sc->steps[3].retrans && sc->steps[3].segs == 1u << SG_FIN);
		CHECK(sc->steps[4].negate && sc->steps[4].segs == 1u << SG_RST);
		CHECK(sc->steps[5].seg_check && sc->steps[5].actor == 0 &&
		      sc->steps[5].segs == 1u << SG_RST);
	}
	scenario_free(sc);
	/* A script that changes nothing in the network needs no namespace. */
	sc = parse(HEAD "server listen\nclient connect\n");
	CHECK(sc && !sc->net_line && !sc->uses_nft);
	scenario_free(sc);
}

/* A segment counts as the kinds the drop rules match, and its flags print as on the ladder. */
static void segment_kinds(void)
{
	char buf[40];

	CHECK(sc_seg_kinds(0x02) == ((1u << SG_SYN) | (1u << SG_ALL)));	  /* SYN */
	CHECK(sc_seg_kinds(0x12) == ((1u << SG_SYNACK) | (1u << SG_ALL))); /* SYN,ACK */
	CHECK(sc_seg_kinds(0x10) == ((1u << SG_ACK) | (1u << SG_ALL)));	  /* a bare ACK */
	CHECK(sc_seg_kinds(0x18) == (1u << SG_ALL));			  /* PSH,ACK: data */
	CHECK(sc_seg_kinds(0x11) == ((1u << SG_FIN) | (1u << SG_ALL)));	  /* FIN,ACK */
	CHECK(sc_seg_kinds(0x14) == ((1u << SG_RST) | (1u << SG_ALL)));	  /* RST,ACK */
	narrator_flags_text(buf, sizeof(buf), 0x11);
	CHECK_STR(buf, "FIN,ACK");
	narrator_flags_text(buf, sizeof(buf), 0x12);
	CHECK_STR(buf, "SYN,ACK");
	narrator_flags_text(buf, sizeof(buf), 0x18);
	CHECK_STR(buf, "PSH,ACK");
	narrator_flags_text(buf, sizeof(buf), 0);
	CHECK_STR(buf, "none");
	CHECK(sc_seg_parse("FIN") == SG_FIN && sc_seg_parse("synack") == SG_SYNACK &&
	      sc_seg_parse("data") < 0);
	CHECK(sc_knob_find("net.ipv4.tcp_orphan_retries") >= 0 && sc_knob_find("tcp_rmem") < 0);
}

static void bad_scripts(void)
{
	CHECK_STR(error_of(HEAD "server listen\nclient jump\n"),
		  "t.tcps:5: unknown action 'jump' for client (expected listen, connect, accept, "
		  "send, fill, recv, drain, shutdown, close, linger, write-after-close, "
		  "bind-again or exit)");
	CHECK_STR(error_of(HEAD "dance wildly\n"),
		  "t.tcps:4: unknown verb 'dance' (expected scenario, about, actor, say, sleep, "
		  "wait, expect, step, drop, blackhole, heal, sysctl, or an actor's name)");
	CHECK_STR(error_of(HEAD "frobnicate\n"),
		  "t.tcps:4: unknown verb 'frobnicate' (expected scenario, about, actor, say, "
"sleep, wait, expect, step, drop, blackhole, heal, sysctl, or an actor's name)");
	CHECK_STR(error_of(HEAD "drop client\n"),
		  "t.tcps:4: drop: expected what to drop after client (syn, synack, ack, fin, rst "
		  "or all)");
	CHECK_STR(error_of(HEAD "drop client fin twice\n"),
		  "t.tcps:4: drop: unknown segment kind 'twice' (expected syn, synack, ack, fin, "
		  "rst or all, then once)");
	CHECK_STR(error_of(HEAD "drop client once\n"),
		  "t.tcps:4: drop: unknown segment kind 'once' (expected syn, synack, ack, fin, "
		  "rst or all, then once)");
	CHECK_STR(error_of(HEAD "blackhole nobody\n"),
		  "t.tcps:4: unknown actor 'nobody' (declare it first: actor nobody)");
	CHECK_STR(error_of(HEAD "heal now\n"), "t.tcps:4: heal: unexpected 'now' (write heal)");
	CHECK_STR(error_of(HEAD "expect client sends PIGEON\n"),
		  "t.tcps:4: expect: unknown segment kind 'PIGEON' (expected SYN, SYNACK, ACK, FIN, "
		  "RST or ALL)");
	CHECK_STR(error_of(HEAD "expect client sends FIN for 2\n"),
		  "t.tcps:4: expect: unexpected 'for' (write expect ACTOR [not] STATE [for SECS] "
		  "[within SECS], or ACTOR sends|retransmits [no] KIND [within SECS], or KIND from "
		  "ACTOR)");
	CHECK_STR(error_of(HEAD "expect FIN from nobody\n"),
		  "t.tcps:4: unknown actor 'nobody' (declare it first: actor nobody)");
	CHECK_STR(error_of(HEAD "say FIN_WAIT_1 lasted {client FIN_WAIT_1\n"),
		  "t.tcps:4: say: '{' without a '}' soon after (a quoted time is written {ACTOR "
		  "STATE})");
	CHECK_STR(error_of(HEAD "say it took {client}\n"),
		  "t.tcps:4: say: '{client}' is no quoted time (write {ACTOR STATE})");
	CHECK_STR(error_of(HEAD "say it took {ghost FIN_WAIT_1}\n"),
		  "t.tcps:4: unknown actor 'ghost' (declare it first: actor ghost)");
	CHECK_STR(error_of(HEAD "say it took {client FIN_WAIT_9}\n"),
		  "t.tcps:4: unknown state 'FIN_WAIT_9' (expected a TCP state like FIN_WAIT_2, "
		  "or gone)");
	CHECK_STR(error_of(HEAD "sysctl tcp_rmem 4096\n"),
		  "t.tcps:4: sysctl: 'tcp_rmem' is not one a scenario may set (see "
		  "tcpdwell-scenario(5): tcp_fin_timeout, tcp_orphan_retries, tcp_retries2, "
		  "tcp_tw_reuse, ...)");
	CHECK_STR(error_of(HEAD "sysctl tcp_fin_timeout 0\n"),
		  "t.tcps:4: bad number '0' for tcp_fin_timeout (expected 1 to 600)");
	CHECK_STR(error_of(HEAD "sysctl ip_local_port_range 40000\n"),
		  "t.tcps:4: sysctl ip_local_port_range: expected two numbers");
	CHECK_STR(error_of(HEAD "sysctl ip_local_port_range 40001 40000\n"),
		  "t.tcps:4: sysctl ip_local_port_range: the first number is above the second");
	CHECK_STR(error_of("scenario t\nactor server drop\n"),
		  "t.tcps:2: actor: 'drop' is a verb of the language");
	CHECK_STR(error_of(HEAD "server listen\nclient send 12x\n"),
		  "t.tcps:5: bad number '12x' for send (expected bytes, 1 to 67108864)");
	CHECK_STR(error_of(HEAD "server listen\nclient send\n"),
		  "t.tcps:5: bad number '' for send (expected bytes, 1 to 67108864)");
	CHECK_STR(error_of(HEAD "server listen backlog -1\n"),
		  "t.tcps:4: bad number '-1' for backlog (expected 0 to 65535)");
	CHECK_STR(error_of(HEAD "sleep forever\n"),
		  "t.tcps:4: bad number 'forever' for sleep (expected seconds, up to 600)");
	CHECK_STR(error_of(HEAD "server linger 99999999999999999999\n"),
		  "t.tcps:4: bad number '99999999999999999999' for linger (expected seconds, 0 "
		  "to 60)");
	CHECK_STR(error_of(HEAD "server listen\nclient2 connect\n"),
		  "t.tcps:5: unknown actor 'client2' (declare it first: actor client2)");
	CHECK_STR(error_of(HEAD "server listen\nwait client3 ESTABLISHED\n"),
		  "t.tcps:5: unknown actor 'client3' (declare it first: actor client3)");
	CHECK_STR(error_of(HEAD "server listen\nclient connect ghost\n"),
		  "t.tcps:5: unknown actor 'ghost' (declare it first: actor ghost)");
	CHECK_STR(error_of(HEAD "server listen\nexpect client FIN_WAIT_3\n"),
		  "t.tcps:5: unknown state 'FIN_WAIT_3' (expected a TCP state like FIN_WAIT_2, or "
		  "gone)");
	CHECK_STR(error_of(HEAD "server listen\nexpect client\n"),
		  "t.tcps:5: expect: expected a TCP state after the actor");
	CHECK_STR(error_of(HEAD "server listen\nclient shutdown both\n"),
		  "t.tcps:5: shutdown: expected rd, wr or rdwr, got 'both'");
	CHECK_STR(error_of(HEAD "server listen\nclient close fails ENOPE\n"),
		  "t.tcps:5: close: 'fails' wants an error name like EPIPE, got 'ENOPE'");
	CHECK_STR(error_of(HEAD "server listen\nclient close now\n"),
		  "t.tcps:5: close: unexpected 'now' (write ACTOR close [listener] [fails ERROR])");
	CHECK_STR(error_of(HEAD "client connect\n"), "t.tcps:4: connect: no actor ever listens");
	CHECK_STR(error_of(HEAD "server listen\nclient connect client\n"),
		  "t.tcps:5: connect: client never listens");
	CHECK_STR(error_of("about x\nactor a\na listen\n"), "t.tcps: no 'scenario NAME' line");
	CHECK_STR(error_of("scenario x\n"), "t.tcps: no actors (declare them: actor server client)");
	CHECK_STR(error_of("scenario x\nactor a\n"), "t.tcps: no steps");
	CHECK_STR(error_of("scenario x\nscenario y\n"),
		  "t.tcps:2: a second 'scenario' line (the first names it 'x')");
	CHECK_STR(error_of("scenario X Y\n"),
		  "t.tcps:1: scenario: expected one name of a-z, 0-9, '-' and '_'");
	CHECK_STR(error_of("scenario x\nactor say\n"), "t.tcps:2: actor: 'say' is a verb of the language");
	CHECK_STR(error_of("scenario x\nactor a a\n"), "t.tcps:2: actor 'a' declared twice");
	CHECK_STR(error_of("scenario x\nactor a b c d e f g h i\n"),
		  "t.tcps:2: too many actors (at most 8)");
	CHECK_STR(error_of(HEAD "say \x1b[2Jhi\n"),
		  "t.tcps:4: control character 0x1b in the script");
}

static void nul_bytes(void)
{
	static const char text[] = "scenario t\nactor a\nsay hi\0there\na listen\n";
	struct scenario *sc = scenario_parse_text("n.tcps", text, sizeof(text) - 1, err,
						  sizeof(err));

	CHECK(sc == NULL);
	CHECK_STR(err, "n.tcps:3: NUL byte in the script");
}

static void long_line(void)
{
	char *text = xmalloc(5000);

	snprintf(text, 5000, HEAD "say ");
	memset(text + strlen(text), 'x', 2000);
	strcpy(text + strlen(HEAD) + 4 + 2000, "\n");
	CHECK_STR(error_of(text), "t.tcps:4: line too long (more than 1000 characters)");
	free(text);
}

/* Through scenario_load: files, a huge one, a missing one, a name not bundled. */
static void files(void)
{
	char path[] = "/tmp/unit_scenario.XXXXXX";
	int fd = mkstemp(path);
	struct scenario *sc;
	FILE *f;

	CHECK(fd >= 0);
	f = fdopen(fd, "w");
	/* Over the limit by comment lines alone: refused before parsing. */
	for (int i = 0; i < 40000; i++)
		fputs("# padding padding padding padding\n", f);
	fclose(f);
	sc = scenario_load(path, err, sizeof(err));
	CHECK(sc == NULL);
	{
		char want[200];
		snprintf(want, sizeof(want), "%s: script too large (more than 1048576 bytes)", path);
		CHECK_STR(err, want);
	}
	f = fopen(path, "w");
	fputs("scenario from-file\nabout x\nactor a\na listen\n", f);
	fclose(f);
	sc = scenario_load(path, err, sizeof(err));
	CHECK(sc && !strcmp(scenario_name(sc), "from-file"));
	scenario_free(sc);
	unlink(path);
	sc = scenario_load("/nonexistent/x.tcps", err, sizeof(err));
	CHECK(sc == NULL);
	CHECK_STR(err, "cannot open scenario '/nonexistent/x.tcps': No such file or directory");
	sc = scenario_load("no-such-scenario", err, sizeof(err));
	CHECK(sc == NULL);
	CHECK_STR(err, "unknown scenario 'no-such-scenario' (try --list-scenarios)");
	sc = scenario_load("Bad Name", err, sizeof(err));
	CHECK_STR(err, "bad scenario name 'Bad Name' (try --list-scenarios)");
}

/* Every bundled scenario parses, names itself after its file and describes itself. */
static void bundled(void)
{
	const char *dir = getenv("TCPDWELL_SCENARIO_DIR");
	struct dirent *de;
	int n = 0;
	DIR *d;

	if (!dir || !(d = opendir(dir))) {
		printf("(TCPDWELL_SCENARIO_DIR not set: bundled scripts not checked)\n");
		return;
	}
	while ((de = readdir(d))) {
		char name[256];
		size_t len = strlen(de->d_name);
		struct scenario *sc;

		if (len <= 5 || strcmp(de->d_name + len - 5, ".tcps"))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(len - 5), de->d_name);
		sc = scenario_load(name, err, sizeof(err));
		CHECK(sc != NULL);
		if (!sc) {
			fprintf(stderr, "%s\n", err);
			continue;
		}
		CHECK_STR(scenario_name(sc), name);
		CHECK(sc->about && strlen(sc->about) > 10);
		scenario_free(sc);
		n++;
	}
	closedir(d);
	CHECK(n >= 14);
}

/*
 * Random damage to a good script, many times over (a fixed seed, so every run
 * checks the same inputs): never a crash or a sanitizer report, and every
 * script accepted is consistent (actors in range, connects to listeners).
 */
static void mutations(void)
{
	static const char base[] = "scenario m\nabout x\nactor server client client2\n"
				   "server listen backlog 0 defer 5 rcvbuf 4096\n"
				   "client connect server sndbuf 4096\nserver accept\n"
				   "say hi # there\nclient fill\nclient shutdown wr\n"
				   "wait client FIN_WAIT_1 5\nexpect server not TIME_WAIT within 1\n"
				   "expect client FIN_WAIT_1 for 1.5\nserver recv 10 fails ECONNRESET\n"
				   "server bind-again reuseaddr\nclient2 exit\nstep\nsleep 0.5\n";
	static const char pieces[] = " \n\t#0123456789.-_\0\x1b\xff";
	static const char *const words[] = { "actor ", "server ", "connect ", "wait ", "not ",
					     "for ", "within ", "fails ", "99999999999 ", "\n" };
	unsigned accepted = 0, checked = 0;

	srand(12345);
	for (int iter = 0; iter < 20000; iter++) {
		char buf[1024];
		size_t len = sizeof(base) - 1;
		struct scenario *sc;

		memcpy(buf, base, len);
		for (int m = rand() % 4; m >= 0; m--) {
			size_t at = (size_t)rand() % len, n;
			switch (rand() % 4) {
			case 0:
				buf[at] = pieces[rand() % (int)(sizeof(pieces) - 1)];
				break;
			case 1:
				n = (size_t)rand() % 20;
				if (at + n <= len) {
					memmove(buf + at, buf + at + n, len - at - n);
					len -= n;
				}
				break;
			case 2:
				buf[at] = (char)(rand() % 256);
				break;
			default: {
				const char *w = words[rand() % (int)ARRAY_SIZE(words)];
				n = strlen(w);
				if (len + n < sizeof(buf)) {
					memmove(buf + at + n, buf + at, len - at);
					memcpy(buf + at, w, n);
					len += n;
				}
			}
			}
		}
		sc = scenario_parse_text("m.tcps", buf, len, err, sizeof(err));
		checked++;
		if (!sc) {
			CHECK(!strncmp(err, "m.tcps", 6));
			continue;
		}
		accepted++;
		for (size_t i = 0; i < sc->nsteps; i++) {
			const struct sc_step *st = &sc->steps[i];
			if (st->kind == SK_ACTION || st->kind == SK_WAIT || st->kind == SK_EXPECT)
				CHECK(st->actor >= 0 && (size_t)st->actor < sc->nactors);
			if (st->kind == SK_ACTION && st->act == SA_CONNECT)
				CHECK(st->target >= 0 && sc->actors[st->target].listens);
			CHECK(st->text != NULL);
		}
		scenario_free(sc);
	}
	printf("  %u mutated scripts, %u accepted\n", checked, accepted);
	CHECK(accepted > 100 && accepted < checked);
}

/*
 * A replay's ladder store takes the entries handed through the loop, in
 * time order, and names the actors as the recording did, but only with
 * names a script could give (a file may hold markup), each once; an actor
 * never named gets a stand-in.
 */
static void replay_ladder(void)
{
	struct track_opts to = {.universe = ST_ALL_MASK, .max_hist = 16};
	struct track *t = track_new(&to);
	struct loop *l = loop_new(t);
	struct scenario *sc = scenario_replay(l, "rec.tcpd", NULL);
	const struct scenario_ladder e[] = {
	    {.mono = 20, .type = SCENARIO_LADDER_SEG, .actor = 0, .peer = 1, .tcpflags = 2},
	    {.mono = 10, .type = SCENARIO_LADDER_STATE, .actor = 1, .peer = -1, .to = ST_LISTEN},
	    {.mono = 30, .type = SCENARIO_LADDER_SEG, .actor = 3, .peer = 0, .tcpflags = 0x12},
	};
	const char *names[][2] = {{"client", "<a href=x>"}, {"server", NULL}, {NULL, "evil"}};
	struct sock s = {.family = AF_INET, .src = {127, 0, 0, 1}, .sport = 1, .dport = 2};
	const struct narrator *n;

	for (size_t i = 0; i < ARRAY_SIZE(e); i++) {
		struct obs o = {.kind = OBS_SEGMENT,
				.mono = e[i].mono,
				.seg = &e[i],
				.seg_names = {names[i][0], names[i][1]}};
		loop_observe(l, &o);
	}
	CHECK(scenario_ladder_len(sc) == 3);
	CHECK(scenario_ladder_at(sc, 0)->mono == 10 && scenario_ladder_at(sc, 2)->mono == 30);
	/* The view has it through the narrator: a ladder, no script, every socket shown. */
	n = scenario_narrator(sc);
	CHECK(!narrator_scripted(n) && narrator_shows(n, &s));
	CHECK(n->ops->ladder_len(n->ctx) == 3 && n->ops->ladder_at(n->ctx, 1)->mono == 20);
	CHECK_STR(n->ops->actor_name(n->ctx, 0), "client");
	CHECK_STR(n->ops->name(n->ctx), "rec.tcpd");
	/* Actor 0 keeps its first name: "evil" came later. */
	CHECK_STR(scenario_actor_name(sc, 0), "client");
	CHECK_STR(scenario_actor_name(sc, 1), "server");
	CHECK_STR(scenario_actor_name(sc, 2), "actor2");
	CHECK_STR(scenario_actor_name(sc, 3), "actor3");
	CHECK(scenario_actor_name(sc, 4) == NULL);
	/* A replay that seeks back starts the ladder again. */
	loop_reset(l);
	CHECK(scenario_ladder_len(sc) == 0);
	loop_free(l);
	track_free(t);
	scenario_free(sc);
}

/* A script's narrator: its name, and before prepare no socket is its own yet. */
static void script_narrator(void)
{
	struct scenario *sc = parse(HEAD "server listen\nclient connect\n");
	const struct narrator *n = scenario_narrator(sc);
	struct sock s = {.family = AF_INET, .src = {127, 0, 0, 1}, .sport = 1, .dport = 2};

	CHECK(narrator_scripted(n) && n->ops->owns && n->ops->step_text);
	CHECK_STR(n->ops->name(n->ctx), "t");
	CHECK(!narrator_shows(n, &s));
	/* No scenario: every socket, no script. */
	CHECK(narrator_shows(NULL, &s) && !narrator_scripted(NULL));
	scenario_free(sc);
}

/* Each verb is one whole entry: found by its name, read, and run by the runner or its actor. */
static void verb_table(void)
{
	char list[400], *save = NULL;

	for (int action = 0; action < 2; action++) {
		size_t n = 0;

		sc_verb_names(list, sizeof(list), action, ", ");
		for (char *w = strtok_r(list, ", ", &save); w; w = strtok_r(NULL, ", ", &save)) {
			const struct sc_verb *v = sc_verb_find(w, action);

			n++;
			CHECK(v && !strcmp(v->name, w) && v->parse && v->usage);
			CHECK(!sc_verb_find(w, !action));
			if (v && action)
				CHECK(v->run == &sc_run_action && v->perform);
			else if (v)
				CHECK(!v->perform);
		}
		CHECK(n == (action ? 13 : 12));
	}
	CHECK(!sc_verb_find("server", false) && !sc_verb_find("say", true));
}

int main(void)
{
	RUN(good_script);
	RUN(net_verbs);
	RUN(segment_kinds);
	RUN(bad_scripts);
	RUN(nul_bytes);
	RUN(long_line);
	RUN(files);
	RUN(bundled);
	RUN(mutations);
	RUN(replay_ladder);
	RUN(script_narrator);
	RUN(verb_table);
	return unit_done();
}
