#include "config.h"
#include "scenario.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scenario_int.h"
#include "util.h"

/*
 * Faults on demand: segments are dropped by nftables rules in the input hook
 * of the scenario's own network namespace, so the sender has really sent them
 * (it retransmits on its timer) and the peer never sees them. The rules and
 * the sysctls die with the namespace: nothing is left on the host.
 */

#define NFT_TABLE "ip tcpdwell"
/* nft answers in milliseconds; one that does not within this is stuck. */
#define NFT_TIMEOUT_MS 5000

/* The segment kinds a `drop` names, and how nft matches each. */
static const struct {
	const char *name;
	const char *match;
} segs[SG_MAX] = {
    [SG_SYN] = {"syn", "tcp flags & (syn | ack) == syn"},
    [SG_SYNACK] = {"synack", "tcp flags & (syn | ack) == syn | ack"},
    /* Only the ACK flag: a pure acknowledgement (data is sent with PSH). */
    [SG_ACK] = {"ack", "tcp flags == ack"},
    [SG_FIN] = {"fin", "tcp flags & fin == fin"},
    [SG_RST] = {"rst", "tcp flags & rst == rst"},
    [SG_ALL] = {"all", ""},
};

/* The sysctls a scenario may set: per namespace, and what the seed topics need. */
static const struct {
	const char *name;
	long lo, hi;
	int nvalues;
} knobs[] = {
    {"tcp_fin_timeout", 1, 600, 1},
    {"tcp_orphan_retries", 0, 15, 1},
    {"tcp_retries1", 1, 15, 1},
    {"tcp_retries2", 1, 15, 1},
    {"tcp_syn_retries", 1, 10, 1},
    {"tcp_synack_retries", 1, 10, 1},
    {"tcp_tw_reuse", 0, 2, 1},
    {"tcp_tw_reuse_delay", 1, 600000, 1},
    {"tcp_max_tw_buckets", 0, 1 << 20, 1},
    {"tcp_timestamps", 0, 2, 1},
    {"tcp_keepalive_time", 1, 7200, 1},
    {"tcp_keepalive_intvl", 1, 600, 1},
    {"tcp_keepalive_probes", 1, 50, 1},
    {"ip_local_port_range", 1024, 65535, 2},
};

static const char *const nft_paths[] = {"/usr/sbin/nft", "/sbin/nft", "/usr/local/sbin/nft",
					"/usr/bin/nft"};

int sc_seg_parse(const char *name)
{
	for (int i = 0; i < SG_MAX; i++)
		if (!strcasecmp(segs[i].name, name))
			return i;
	return -1;
}

const char *sc_seg_name(int seg)
{
	return seg >= 0 && seg < SG_MAX ? segs[seg].name : "?";
}

unsigned sc_seg_kinds(uint8_t f)
{
	unsigned k = 1u << SG_ALL;

	if ((f & (TH_SYN | TH_ACK)) == TH_SYN)
		k |= 1u << SG_SYN;
	if ((f & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK))
		k |= 1u << SG_SYNACK;
	/* nft's "tcp flags == ack" looks at all eight flags */
	if (f == TH_ACK)
		k |= 1u << SG_ACK;
	if (f & TH_FIN)
		k |= 1u << SG_FIN;
	if (f & TH_RST)
		k |= 1u << SG_RST;
	return k;
}

int sc_knob_find(const char *name)
{
	if (!strncmp(name, "net.ipv4.", 9))
		name += 9;
	for (size_t i = 0; i < ARRAY_SIZE(knobs); i++)
		if (!strcmp(knobs[i].name, name))
			return (int)i;
	return -1;
}

const char *sc_knob_name(int knob)
{
	return knobs[knob].name;
}

void sc_knob_range(int knob, long *lo, long *hi, int *nvalues)
{
	*lo = knobs[knob].lo;
	*hi = knobs[knob].hi;
	*nvalues = knobs[knob].nvalues;
}

static const char *nft_path(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(nft_paths); i++)
		if (access(nft_paths[i], X_OK) == 0)
			return nft_paths[i];
	return NULL;
}

int sc_net_check(const struct scenario *sc, char *err, size_t len)
{
	if (sc->uses_nft && !nft_path()) {
		snprintf(err, len,
			 "%s: drops segments with nftables, but there is no nft command (install "
			 "Debian's package nftables)",
			 sc->path);
		return -1;
	}
	return 0;
}

/* Run nft with a script on its input; -1 with its complaint in err. */
static int nft_run(const char *script, char *err, size_t len)
{
	const char *nft = nft_path();
	int in[2], out[2], st, used = 0;
	int64_t end = mono_ns() + (int64_t)NFT_TIMEOUT_MS * NS_PER_MS;
	char buf[400];
	pid_t pid;

	if (!nft) {
		snprintf(err, len, "no nft command (install Debian's package nftables)");
		return -1;
	}
	if (pipe2(in, O_CLOEXEC) < 0)
		goto sys;
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		goto sys;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
			_exit(127);
		execl(nft, "nft", "-f", "-", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	if (pid < 0) {
		close(in[1]);
		close(out[0]);
		goto sys;
	}
	/* A few hundred bytes: the pipe holds them, nft reads them after. */
	if (write(in[1], script, strlen(script)) < 0)
		buf[0] = '\0';
	close(in[1]);
	for (;;) {
		struct pollfd pfd = {.fd = out[0], .events = POLLIN};
		int64_t left = (end - mono_ns()) / NS_PER_MS;
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			kill(pid, SIGKILL);
			snprintf(buf + used, sizeof(buf) - (size_t)used, " (no answer: killed)");
			break;
		}
		n = read(out[0], buf + used, sizeof(buf) - 1 - (size_t)used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += (int)n;
		if ((size_t)used == sizeof(buf) - 1)
			break;
	}
	buf[used] = '\0';
	close(out[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	/* nft's first line says what it refused; the rest repeats the input. */
	buf[strcspn(buf, "\n")] = '\0';
	sanitize(err, len, buf[0] ? buf : "nft failed", (size_t)-1);
	return -1;
sys:
	snprintf(err, len, "cannot run nft: %s", strerror(errno));
	return -1;
}

/* "tcp sport 40000" or "tcp dport { 40001, 40002 }": segments from (or to) actor a. */
static int actor_match(const struct scenario *sc, int a, bool to, char *buf, size_t len)
{
	const struct sc_actor *ac = &sc->actors[a];
	uint16_t ports[SC_MAX_CONNS + SC_MAX_ACTORS];
	size_t n = 0, used;
	bool by_own;

	if (ac->listens && ac->port) {
		ports[n++] = ac->port;
		by_own = true;
	} else if (ac->nconns) {
		for (size_t c = 0; c < ac->nconns; c++)
			ports[n++] = ac->conns[c].lport;
		by_own = true;
	} else {
		/* Before its first connection: what it connects to. */
		for (size_t i = 0; i < sc->nsteps; i++) {
			const struct sc_step *st = &sc->steps[i];
			if (st->kind == SK_ACTION && st->act == SA_CONNECT && st->actor == a &&
			    st->target >= 0 && sc->actors[st->target].port)
				ports[n++] = sc->actors[st->target].port;
			if (n == ARRAY_SIZE(ports))
				break;
		}
		by_own = false;
	}
	if (!n) {
		snprintf(buf, len, "%s has no port yet: it neither listens nor connects", ac->name);
		return -1;
	}
	used = (size_t)snprintf(buf, len, "tcp %s {", by_own != to ? "sport" : "dport");
	for (size_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s %u", i ? "," : "", ports[i]);
	if (used < len)
		snprintf(buf + used, len - used, " }");
	return 0;
}

/* Append one rule: the actor's match, a segment kind, and drop (once: the first only). */
static void add_rule(char *script, size_t len, const char *who, int seg, bool once, size_t id)
{
	size_t used = strlen(script);

	if (once)
		used += (size_t)snprintf(script + used, len - used,
					 "add set " NFT_TABLE " once%zu_%d { type inet_proto; "
					 "flags dynamic; }\n",
					 id, seg);
	if (used >= len)
		return;
	used += (size_t)snprintf(script + used, len - used, "add rule " NFT_TABLE " in %s %s", who,
				 segs[seg].match);
	if (used >= len)
		return;
	/* The first segment fills the set; the set then lets the others pass. */
	if (once)
		used += (size_t)snprintf(script + used, len - used,
					 " ip protocol != @once%zu_%d add @once%zu_%d { ip "
					 "protocol }",
					 id, seg, id, seg);
	if (used < len)
		snprintf(script + used, len - used, " drop\n");
}

static int apply_nft(struct scenario *sc, size_t i, char *msg, size_t len)
{
	const struct sc_step *st = &sc->steps[i];
	char script[2048], who[300], kinds[80] = "", err[300];
	size_t kused = 0;

	snprintf(script, sizeof(script),
		 "add table " NFT_TABLE "\n"
		 "add chain " NFT_TABLE " in { type filter hook input priority 0; policy accept; "
		 "}\n");
	switch (st->kind) {
	case SK_DROP:
		if (actor_match(sc, st->actor, false, who, sizeof(who)) < 0) {
			snprintf(msg, len, "drop: %s", who);
			return -1;
		}
		for (int s = 0; s < SG_MAX; s++) {
			if (!(st->segs & (1u << s)))
				continue;
			add_rule(script, sizeof(script), who, s, st->once, i);
			kused += (size_t)snprintf(kinds + kused, sizeof(kinds) - kused, "%s%s",
						  kused ? ", " : "", segs[s].name);
		}
		snprintf(msg, len, "nftables: dropping %s sent by %s (%s)%s", kinds,
			 sc->actors[st->actor].name, who,
			 st->once ? ", the first of each only" : "");
		break;
	case SK_BLACKHOLE:
		if (actor_match(sc, st->actor, false, who, sizeof(who)) < 0) {
			snprintf(msg, len, "blackhole: %s", who);
			return -1;
		}
		add_rule(script, sizeof(script), who, SG_ALL, false, i);
		actor_match(sc, st->actor, true, who, sizeof(who));
		add_rule(script, sizeof(script), who, SG_ALL, false, i);
		snprintf(msg, len, "nftables: every segment to or from %s is dropped",
			 sc->actors[st->actor].name);
		break;
	default:
		snprintf(script + strlen(script), sizeof(script) - strlen(script),
			 "flush chain " NFT_TABLE " in\n");
		snprintf(msg, len, "nftables: every drop removed, segments flow again");
		break;
	}
	if (nft_run(script, err, sizeof(err)) < 0) {
		snprintf(msg, len, "nft refused the rules: %s", err);
		return -1;
	}
	return 0;
}

/* Write a sysctl of the namespace this process is in, saying what it was. */
static int apply_sysctl(const struct sc_step *st, char *msg, size_t len)
{
	char path[128], old[64] = "?", val[48];
	const char *name = knobs[st->knob].name;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/%s", name);
	if (knobs[st->knob].nvalues == 2)
		snprintf(val, sizeof(val), "%ld %ld\n", st->n, st->n2);
	else
		snprintf(val, sizeof(val), "%ld\n", st->n);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(msg, len, "cannot set net.ipv4.%s: %s%s", name, strerror(errno),
			 errno == ENOENT ? " (this kernel has no such setting)" : "");
		return -1;
	}
	n = read(fd, old, sizeof(old) - 1);
	if (n > 0) {
		old[n] = '\0';
		old[strcspn(old, "\n")] = '\0';
		for (char *t = strchr(old, '\t'); t; t = strchr(t, '\t'))
			*t = ' ';
	}
	if (pwrite(fd, val, strlen(val), 0) < 0) {
		snprintf(msg, len, "cannot set net.ipv4.%s: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	val[strcspn(val, "\n")] = '\0';
	snprintf(msg, len, "net.ipv4.%s = %s in the scenario's namespace (was %s)", name, val, old);
	return 0;
}

int sc_net_apply(struct scenario *sc, size_t i, char *msg, size_t len)
{
	/* Never the host's rules or settings: the prepare step refused to run without. */
	if (!sc->netns) {
		snprintf(msg, len, "not in a network namespace of its own");
		return -1;
	}
	if (sc->steps[i].kind == SK_SYSCTL)
		return apply_sysctl(&sc->steps[i], msg, len);
	return apply_nft(sc, i, msg, len);
}
