/* pop.c - the population: ESTABLISHED pairs held by child processes, TIME_WAIT generations. */
#include "config.h"
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "sock.h"
#include "util.h"

/*
 * At most 40,000 descriptors per holder: far below fs.nr_open, and several
 * holders share the cores; fewer where the hard limit is lower and cannot be raised.
 */
#define MAX_PAIRS_PER_HOLDER 20000
/* Connects in flight at once; the listen backlog is twice that, below the default somaxconn. */
#define BATCH 512
#define BACKLOG (2 * BATCH)
/* Client addresses: 127.1.0.0 upwards, 50,000 ports each, never reused within a run. */
#define PORT_BASE 10000
#define PORTS_PER_IP 50000
#ifndef TW_LEN
#define TW_LEN (60 * NS_PER_SEC)
#endif
/* The kernel's timer wheel fires a 60 s timer up to a few seconds late. */
#define TW_SLACK (8 * NS_PER_SEC)
#define ACCEPT_WAIT_MS 5000

struct holder {
	pid_t pid;
	int status; /* read end: the holder's one report */
};

struct pop {
	struct pop_plan plan;
	struct holder *h;
	size_t nh;
	pid_t rare;
	int tw_listen;
	int64_t tw_start, tw_done; /* when the live TIME_WAIT generation was built */
	size_t tw_n;
};

static uint32_t next_client;

void addr_client(uint32_t idx, uint32_t *ip, uint16_t *port)
{
	*ip = (127u << 24) | (1u << 16) | (idx / PORTS_PER_IP);
	*port = (uint16_t)(PORT_BASE + idx % PORTS_PER_IP);
}

static uint32_t reserve(size_t n)
{
	uint32_t base = next_client;

	next_client += (uint32_t)n;
	return base;
}

void pop_plan_for(size_t total, struct pop_plan *p)
{
	/* The reference machine: 100,000 ESTABLISHED and 60,000 TIME_WAIT. */
	size_t est = total * 5 / 8;

	p->established = est & ~(size_t)1;
	p->time_wait = total - p->established;
	p->rare_each = 3;
}

static struct sockaddr_in sin_of(uint32_t ip, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	a.sin_addr.s_addr = htonl(ip);
	return a;
}

int bench_listen(uint32_t ip, uint16_t port, int backlog, int flags)
{
	struct sockaddr_in a = sin_of(ip, port);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, backlog) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* A non-blocking connect from client address idx; the fd, or -1. */
static int connect_from(uint32_t idx, const struct sockaddr_in *to)
{
	struct sockaddr_in from;
	uint32_t ip;
	uint16_t port;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	addr_client(idx, &ip, &port);
	from = sin_of(ip, port);
	if (bind(fd, (struct sockaddr *)&from, sizeof(from)) < 0 ||
	    (connect(fd, (const struct sockaddr *)to, sizeof(*to)) < 0 && errno != EINPROGRESS)) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Accept n connections into fds; loopback handshakes finish at once, so a stall is an error. */
static int accept_n(int lfd, int *fds, size_t n)
{
	for (size_t got = 0; got < n;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			fds[got++] = fd;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -1;
		struct pollfd pfd = { .fd = lfd, .events = POLLIN };
		int r = poll(&pfd, 1, ACCEPT_WAIT_MS);
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (r < 0 && errno != EINTR)
			return -1;
	}
	return 0;
}

/*
 * One batch of connections from client addresses base.. to the listener;
 * cli and srv get both ends.
 */
static int connect_batch(int lfd, const struct sockaddr_in *to, uint32_t base, size_t n, int *cli,
			 int *srv, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		cli[i] = connect_from(base + (uint32_t)i, to);
		if (cli[i] < 0) {
			snprintf(err, errlen, "connect: %s", strerror(errno));
			return -1;
		}
	}
	if (accept_n(lfd, srv, n) < 0) {
		snprintf(err, errlen, "accept: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Raise the soft open-file limit to n, and the hard one only where it must (and may). */
static int raise_nofile(rlim_t n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	if (rl.rlim_cur >= n)
		return 0;
	rl.rlim_cur = n;
	if (rl.rlim_max < n)
		rl.rlim_max = n; /* needs CAP_SYS_RESOURCE */
	return setrlimit(RLIMIT_NOFILE, &rl);
}

/* Pairs one holder may keep: two descriptors each, within the hard limit it cannot pass. */
static size_t pairs_per_holder(void)
{
	struct rlimit rl;
	rlim_t max = MAX_PAIRS_PER_HOLDER;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
	    (rl.rlim_max - 64) / 2 < max) {
		/* Try for more first: root with CAP_SYS_RESOURCE may raise it. */
		struct rlimit want = { .rlim_cur = rl.rlim_cur, .rlim_max = 2 * max + 64 };
		if (setrlimit(RLIMIT_NOFILE, &want) < 0)
			max = rl.rlim_max > 1024 ? (rl.rlim_max - 64) / 2 : 480;
	}
	return (size_t)max;
}

/* In a holder: the population must not outlive the benchmark. */
static void die_with_parent(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
}

/* The holder's body: build pairs ESTABLISHED pairs, report, then hold them until killed. */
static void hold_pairs(unsigned k, uint32_t base, size_t pairs, int out)
{
	struct bench_report rep = { .ok = 1 };
	uint32_t lip = (127u << 24) | (1 + k % 8);
	uint16_t lport = (uint16_t)(5000 + k);
	struct sockaddr_in to = sin_of(lip, lport);
	int *cli = xmalloc(BATCH * sizeof(int)), *srv = xmalloc(BATCH * sizeof(int));
	int lfd;

	if (raise_nofile(2 * pairs + 64) < 0) {
		snprintf(rep.msg, sizeof(rep.msg), "cannot raise the open-file limit to %zu: %s",
			 2 * pairs + 64, strerror(errno));
		rep.ok = 0;
	} else if ((lfd = bench_listen(lip, lport, BACKLOG, SOCK_NONBLOCK)) < 0) {
		snprintf(rep.msg, sizeof(rep.msg), "listen: %s", strerror(errno));
		rep.ok = 0;
	} else {
		for (size_t done = 0; done < pairs && rep.ok;) {
			size_t n = pairs - done < BATCH ? pairs - done : BATCH;

			if (connect_batch(lfd, &to, base + (uint32_t)done, n, cli, srv, rep.msg,
					  sizeof(rep.msg)) < 0)
				rep.ok = 0;
			done += n;
		}
	}
	if (write(out, &rep, sizeof(rep)) != sizeof(rep) || !rep.ok)
		_exit(1);
	close(out);
	for (;;)
		pause();
}

static int read_report(int fd, char *err, size_t errlen)
{
	struct bench_report rep;
	ssize_t n;

	do
		n = read(fd, &rep, sizeof(rep));
	while (n < 0 && errno == EINTR);
	if (n != sizeof(rep)) {
		snprintf(err, errlen, "a socket holder died while building");
		return -1;
	}
	if (!rep.ok) {
		rep.msg[sizeof(rep.msg) - 1] = 0;
		snprintf(err, errlen, "a socket holder failed: %s", rep.msg);
		return -1;
	}
	return 0;
}

/* Fork a child that runs fn and reports on a pipe; its pid, and the read end in *status. */
static pid_t spawn(void (*fn)(void *arg, int out), void *arg, int *status)
{
	pid_t parent = getpid(), pid;
	int pfd[2];

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		close(pfd[0]);
		die_with_parent(parent);
		fn(arg, pfd[1]);
		_exit(0);
	}
	close(pfd[1]);
	*status = pfd[0];
	return pid;
}

struct hold_args {
	unsigned k;
	uint32_t base;
	size_t pairs;
};

static void hold_pairs_fn(void *arg, int out)
{
	struct hold_args *a = arg;

	hold_pairs(a->k, a->base, a->pairs, out);
}

static void hold_rare_fn(void *arg, int out)
{
	rare_hold(*(unsigned *)arg, out);
}

/*
 * One generation of TIME_WAIT sockets: connect, accept, close the client
 * first (it becomes the active closer), wait until each server end has
 * seen the FIN so that the close is not simultaneous, then close the server.
 */
static int tw_batches(struct pop *p, size_t n, char *err, size_t errlen)
{
	uint32_t lip = (127u << 24) | 9;
	struct sockaddr_in to = sin_of(lip, 7000);
	int cli[BATCH], srv[BATCH];
	struct pollfd pfd[BATCH];
	uint32_t base = reserve(n);

	if (p->tw_listen < 0 && (p->tw_listen = bench_listen(lip, 7000, BACKLOG,
							     SOCK_NONBLOCK)) < 0) {
		snprintf(err, errlen, "listen for TIME_WAIT: %s", strerror(errno));
		return -1;
	}
	for (size_t done = 0; done < n;) {
		size_t b = n - done < BATCH ? n - done : BATCH, left = b;

		if (connect_batch(p->tw_listen, &to, base + (uint32_t)done, b, cli, srv, err,
				  errlen) < 0)
			return -1;
		for (size_t i = 0; i < b; i++) {
			close(cli[i]);
			pfd[i] = (struct pollfd){ .fd = srv[i], .events = POLLRDHUP };
		}
		while (left) {
			int r = poll(pfd, b, ACCEPT_WAIT_MS);
			if (r == 0) {
				snprintf(err, errlen, "TIME_WAIT: a FIN did not arrive");
				return -1;
			}
			for (size_t i = 0; r > 0 && i < b; i++) {
				if (pfd[i].fd >= 0 && pfd[i].revents) {
					close(pfd[i].fd);
					pfd[i].fd = -1;
					left--;
				}
			}
		}
		done += b;
	}
	return 0;
}

/* The kernel's counters of this namespace that say why a socket ended early. */
static void abort_counters(char *buf, size_t len)
{
	static const char *const want[] = { "TCPAbortOnMemory", "TCPTimeWaitOverflow",
					    "TCPAbortOnClose", "TCPAbortOnData",
					    "TCPAbortOnTimeout", "TCPAbortOnLinger" };
	char names[4096], vals[4096];
	FILE *f = fopen("/proc/net/netstat", "r");
	size_t n = 0;

	buf[0] = 0;
	while (f && fgets(names, sizeof(names), f) && fgets(vals, sizeof(vals), f)) {
		char *sn, *sv, *a = strtok_r(names, " \n", &sn), *v = strtok_r(vals, " \n", &sv);

		if (!a || !v || strcmp(a, "TcpExt:"))
			continue;
		while ((a = strtok_r(NULL, " \n", &sn)) && (v = strtok_r(NULL, " \n", &sv)))
			for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
				if (!strcmp(a, want[i]) && n < len)
					n += (size_t)snprintf(buf + n, len - n, " %s %s", a, v);
	}
	if (f)
		fclose(f);
}

/*
 * A generation of n, checked: what the kernel holds once the last FINs are
 * through. Twice in a full test run beside the churn tests a fifth of a
 * small generation was gone at once; the cause is not known yet, so what
 * vanished is said, with the kernel's abort counters, and built again.
 */
static int tw_build(struct pop *p, size_t n, char *err, size_t errlen)
{
	size_t want = n;

	p->tw_start = mono_ns();
	for (int round = 0; round < 3 && want; round++) {
		size_t have = 0, by[16];
		int64_t until;
		char why[512];

		if (tw_batches(p, want, err, errlen) < 0)
			return -1;
		until = mono_ns() + 2 * NS_PER_SEC;
		do {
			memset(by, 0, sizeof(by));
			if (bare_count(ST_MASK(ST_TIME_WAIT), by) < 0)
				break;
			have = by[ST_TIME_WAIT];
			if (have >= n)
				break;
			usleep(20 * 1000);
		} while (mono_ns() < until);
		if (have >= n)
			break;
		abort_counters(why, sizeof(why));
		fprintf(stderr, "tcpdwell-bench: %zu of %zu TIME_WAIT vanished as they were built; "
			"building them again (the kernel's counters:%s)\n",
			n - have, n, why[0] ? why : " none");
		want = n - have;
	}
	p->tw_done = mono_ns();
	p->tw_n = n;
	return 0;
}

static void set_sysctl(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return;
	fputs(val, f);
	fclose(f);
}

struct pop *pop_build(const struct pop_plan *plan, char *err, size_t errlen)
{
	struct pop *p = xcalloc(1, sizeof(*p));
	size_t pairs = plan->established / 2, per;
	unsigned rare_each = plan->rare_each;
	int rare_status = -1;

	p->plan = *plan;
	p->tw_listen = -1;
	p->rare = -1;
	/* Per namespace: room for every TIME_WAIT, and SYN_SENT that lives through the run. */
	set_sysctl("/proc/sys/net/ipv4/tcp_max_tw_buckets", "2000000");
	set_sysctl("/proc/sys/net/ipv4/tcp_syn_retries", "12");
	if (raise_nofile(4 * BATCH + 256) < 0) {
		snprintf(err, errlen, "cannot raise the open-file limit: %s", strerror(errno));
		goto fail;
	}
	per = pairs_per_holder();
	p->nh = (pairs + per - 1) / per;
	p->h = xcalloc(p->nh ? p->nh : 1, sizeof(*p->h));
	for (size_t k = 0; k < p->nh; k++)
		p->h[k].status = -1;
	for (size_t k = 0; k < p->nh; k++) {
		size_t n = pairs - k * per;
		struct hold_args a = { .k = (unsigned)k, .pairs = n < per ? n : per };

		a.base = reserve(a.pairs);
		p->h[k].pid = spawn(hold_pairs_fn, &a, &p->h[k].status);
		if (p->h[k].pid < 0) {
			snprintf(err, errlen, "fork: %s", strerror(errno));
			p->nh = k;
			goto fail;
		}
	}
	if (rare_each && (p->rare = spawn(hold_rare_fn, &rare_each, &rare_status)) < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		goto fail;
	}
	/* The holders build while this process makes the TIME_WAIT generation: two cores. */
	if (plan->time_wait && tw_build(p, plan->time_wait, err, errlen) < 0)
		goto fail;
	for (size_t k = 0; k < p->nh; k++) {
		int r = read_report(p->h[k].status, err, errlen);
		close(p->h[k].status);
		p->h[k].status = -1;
		if (r < 0)
			goto fail;
	}
	if (rare_status >= 0) {
		int r = read_report(rare_status, err, errlen);
		close(rare_status);
		rare_status = -1;
		if (r < 0)
			goto fail;
	}
	return p;
fail:
	if (rare_status >= 0)
		close(rare_status);
	pop_free(p);
	return NULL;
}

/* Poll the TIME_WAIT count until at most target remain, or the deadline. */
static int wait_tw_below(size_t target, int64_t deadline)
{
	for (;;) {
		size_t by[16] = { 0 };

		if (bare_count(ST_MASK(ST_TIME_WAIT), by) < 0)
			return -1;
		if (by[ST_TIME_WAIT] <= target)
			return 0;
		if (mono_ns() > deadline)
			return -1;
		usleep(200 * 1000);
	}
}

int pop_keep(struct pop *p, int64_t need_ns, char *err, size_t errlen)
{
	int64_t now = mono_ns();
	size_t gone;

	if (!p->tw_n || now + need_ns + NS_PER_SEC < p->tw_start + TW_LEN)
		return 0;
	/*
	 * It would start to expire during the measurement: end it now where
	 * the kernel lets us (SOCK_DESTROY), else wait for it to go; build anew.
	 */
	if (bare_destroy(ST_MASK(ST_TIME_WAIT), &gone) < 0)
		gone = 0;
	if (wait_tw_below(p->plan.time_wait / 100, p->tw_done + TW_LEN + TW_SLACK) < 0) {
		snprintf(err, errlen, "the TIME_WAIT generation did not expire in time");
		return -1;
	}
	fprintf(stderr, "tcpdwell-bench: renewing %zu TIME_WAIT (%zu destroyed, the rest expired)\n",
		p->plan.time_wait, gone);
	return tw_build(p, p->plan.time_wait, err, errlen);
}

void pop_describe(struct pop *p, const char *what, FILE *out)
{
	size_t by[16] = { 0 }, total = 0;

	(void)p;
	if (bare_count(ST_ALL_MASK, by) < 0) {
		fprintf(out, "%s: cannot count (sock_diag failed)\n", what);
		return;
	}
	fprintf(out, "%s:", what);
	for (size_t i = 0; i < st_order_len; i++) {
		unsigned st = st_order[i];
		if (by[st])
			fprintf(out, " %s %zu", st_name(st), by[st]);
		total += by[st];
	}
	fprintf(out, " (%zu sockets)\n", total);
}

void pop_free(struct pop *p)
{
	if (!p)
		return;
	for (size_t k = 0; k < p->nh; k++) {
		if (p->h[k].pid > 0) {
			kill(p->h[k].pid, SIGKILL);
			waitpid(p->h[k].pid, NULL, 0);
		}
		if (p->h[k].status >= 0)
			close(p->h[k].status);
	}
	if (p->rare > 0) {
		kill(p->rare, SIGKILL);
		waitpid(p->rare, NULL, 0);
	}
	if (p->tw_listen >= 0)
		close(p->tw_listen);
	free(p->h);
	free(p);
}
