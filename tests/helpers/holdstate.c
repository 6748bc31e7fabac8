/*
 * holdstate - hold TCP sockets on loopback in a known state, for the shell
 * tests (recipes from TCP-LAB.md).
 *
 *   holdstate [-6] RECIPE PORT [SECONDS]
 *	Set up RECIPE with a listener on 127.0.0.1:PORT (or [::1]:PORT), print
 *	"ready LOCAL PEER" (the held socket's addresses) once the state is
 *	verified, hold it SECONDS (default 600) or until killed, then exit.
 *   holdstate [-6] hold-ms RECIPE PORT MS
 *	Hold the state MS milliseconds from entering it, release it (the step
 *	that ends it, see below), print "released", then wait to be killed
 *	(at most 60 s).
 *   holdstate [-6] simultaneous-close PORT [STEP_SECONDS]
 *	The client goes ESTABLISHED ("ready LOCAL PEER"), FIN_WAIT_1
 *	("fin-wait-1"), CLOSING ("closing"), TIME_WAIT ("time-wait"), each held
 *	STEP_SECONDS (default 1).
 *
 * RECIPE	held socket	released by
 * listen	listener	closing it
 * established	client		both closing, the client first
 * syn-sent	2nd client	accepting the 1st from the full backlog (SYN retried)
 * syn-recv	server request	the client sending data (TCP_DEFER_ACCEPT)
 * fin-wait-1	client		the server reading: client to FIN_WAIT_2
 * fin-wait-2	client		the server closing: client to TIME_WAIT
 * close-wait	server		the server closing: LAST_ACK, then gone
 * last-ack	server		the client reading: client to TIME_WAIT
 * closing	client		the server reading: both to TIME_WAIT
 * time-wait	client		nothing (the kernel's 60 s)
 *
 * Exit status 0 when held and released as asked, 1 when a step failed (with a
 * message on stderr), 2 on bad usage.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/sockios.h>

#define BUF_SMALL 4096

static int family = AF_INET;
static int port;

struct ctx {
	int l, c, s, c2; /* listener, client, accepted server side, second client */
	int held;	 /* the socket whose addresses "ready" prints; -1: c/s tuple */
	bool held_server;
};

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "holdstate: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (errno)
		fprintf(stderr, ": %s", strerror(errno));
	fputc('\n', stderr);
	exit(1);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	if (ms <= 0)
		return;
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int tcp_state(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		die("TCP_INFO");
	return ti.tcpi_state;
}

/* Wait until fd is in state st, then check it stays there a moment. */
static void expect_state(int fd, int st, const char *name)
{
	long end = now_ms() + 5000;

	while (tcp_state(fd) != st) {
		if (now_ms() > end) {
			errno = 0;
			die("socket never reached %s (state %d)", name, tcp_state(fd));
		}
		sleep_ms(5);
	}
	sleep_ms(50);
	if (tcp_state(fd) != st) {
		errno = 0;
		die("socket left %s at once (state %d)", name, tcp_state(fd));
	}
}

static socklen_t loopback(struct sockaddr_storage *ss, int p)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		a->sin6_port = htons(p);
		return sizeof(*a);
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;

	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a->sin_port = htons(p);
	return sizeof(*a);
}

/* Small buffers make "fill the peer's window" quick; accepted sockets inherit them. */
static int tcp_socket(void)
{
	int fd = socket(family, SOCK_STREAM, 0), one = 1, small = BUF_SMALL;

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	return fd;
}

static int listener(int backlog)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(&ss, port);
	int fd = tcp_socket();

	if (bind(fd, (struct sockaddr *)&ss, len))
		die("bind port %d", port);
	if (listen(fd, backlog))
		die("listen");
	return fd;
}

static int client(bool nonblock)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(&ss, port);
	int fd = tcp_socket();

	if (nonblock)
		fcntl(fd, F_SETFL, O_NONBLOCK);
	if (connect(fd, (struct sockaddr *)&ss, len) && errno != EINPROGRESS)
		die("connect");
	return fd;
}

/* A connected pair; the listener is closed so only the pair remains. */
static void pair(struct ctx *x)
{
	x->l = listener(8);
	x->c = client(false);
	x->s = accept(x->l, NULL, NULL);
	if (x->s < 0)
		die("accept");
	close(x->l);
	x->l = -1;
	fcntl(x->c, F_SETFL, O_NONBLOCK);
	fcntl(x->s, F_SETFL, O_NONBLOCK);
}

/* Write until the peer's window is closed and data waits unsent behind it. */
static void fill(int fd)
{
	static char buf[BUF_SMALL];
	int unsent = 0;

	for (;;) {
		struct pollfd p = {fd, POLLOUT, 0};

		while (write(fd, buf, sizeof(buf)) > 0)
			;
		if (errno != EAGAIN)
			die("write");
		if (poll(&p, 1, 200) == 0)
			break;
	}
	if (ioctl(fd, SIOCOUTQNSD, &unsent) || unsent <= 0) {
		errno = 0;
		die("no data left unsent after filling the window");
	}
}

/* Read everything up to the peer's FIN. */
static void drain(int fd)
{
	static char buf[65536];
	long end = now_ms() + 10000;

	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n == 0)
			return;
		if (n < 0 && errno != EAGAIN)
			die("read");
		if (now_ms() > end) {
			errno = 0;
			die("no FIN from the peer within 10 s");
		}
		poll(&p, 1, 100);
	}
}

static void setup_listen(struct ctx *x)
{
	x->l = listener(8);
	x->held = x->l;
}

static void setup_established(struct ctx *x)
{
	pair(x);
	expect_state(x->c, TCP_ESTABLISHED, "ESTABLISHED");
}

static void release_established(struct ctx *x)
{
	close(x->c);
	close(x->s);
	x->c = x->s = -1;
}

/* The backlog of 0 holds one connection; the next client's SYNs are dropped. */
static void setup_syn_sent(struct ctx *x)
{
	x->l = listener(0);
	x->c = client(false);
	expect_state(x->c, TCP_ESTABLISHED, "ESTABLISHED");
	x->c2 = client(true);
	expect_state(x->c2, TCP_SYN_SENT, "SYN_SENT");
	sleep_ms(200);
	if (tcp_state(x->c2) != TCP_SYN_SENT) {
		errno = 0;
		die("the second client was not held in SYN_SENT");
	}
	x->held = x->c2;
}

static void release_syn_sent(struct ctx *x)
{
	x->s = accept(x->l, NULL, NULL);
	if (x->s < 0)
		die("accept");
}

/* With TCP_DEFER_ACCEPT the server ignores the bare ACK: its request stays in SYN_RECV. */
static void setup_syn_recv(struct ctx *x)
{
	int secs = 3600;

	x->l = listener(8);
	if (setsockopt(x->l, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, sizeof(secs)))
		die("TCP_DEFER_ACCEPT");
	x->c = client(false);
	expect_state(x->c, TCP_ESTABLISHED, "ESTABLISHED");
	x->held = x->c;
	x->held_server = true;
}

static void release_syn_recv(struct ctx *x)
{
	if (write(x->c, "x", 1) != 1)
		die("write");
}

static void setup_fin_wait_1(struct ctx *x)
{
	pair(x);
	fill(x->c);
	if (shutdown(x->c, SHUT_WR))
		die("shutdown");
	expect_state(x->c, TCP_FIN_WAIT1, "FIN_WAIT_1");
}

static void release_fin_wait_1(struct ctx *x)
{
	drain(x->s);
	expect_state(x->c, TCP_FIN_WAIT2, "FIN_WAIT_2");
}

static void setup_fin_wait_2(struct ctx *x)
{
	pair(x);
	if (shutdown(x->c, SHUT_WR))
		die("shutdown");
	expect_state(x->c, TCP_FIN_WAIT2, "FIN_WAIT_2");
	expect_state(x->s, TCP_CLOSE_WAIT, "CLOSE_WAIT");
}

static void setup_close_wait(struct ctx *x)
{
	setup_fin_wait_2(x);
	x->held = x->s;
}

static void release_close_server(struct ctx *x)
{
	close(x->s);
	x->s = -1;
}

/* The server's FIN waits behind data the client does not read. */
static void setup_last_ack(struct ctx *x)
{
	pair(x);
	if (shutdown(x->c, SHUT_WR))
		die("shutdown");
	drain(x->s);
	fill(x->s);
	if (shutdown(x->s, SHUT_WR))
		die("shutdown");
	expect_state(x->s, TCP_LAST_ACK, "LAST_ACK");
	x->held = x->s;
}

static void release_last_ack(struct ctx *x)
{
	drain(x->c);
	expect_state(x->c, TCP_CLOSE, "TIME_WAIT (seen as CLOSE from the socket)");
}

/* Both FINs queued behind data; the client reads, gets the server's FIN first. */
static void setup_closing(struct ctx *x)
{
	pair(x);
	fill(x->c);
	fill(x->s);
	if (shutdown(x->c, SHUT_WR) || shutdown(x->s, SHUT_WR))
		die("shutdown");
	expect_state(x->c, TCP_FIN_WAIT1, "FIN_WAIT_1");
	drain(x->c);
	expect_state(x->c, TCP_CLOSING, "CLOSING");
}

static void release_closing(struct ctx *x)
{
	drain(x->s);
	expect_state(x->c, TCP_CLOSE, "TIME_WAIT (seen as CLOSE from the socket)");
}

/* A TIME_WAIT socket is a kernel mini-socket: the client's own fd reads CLOSE. */
static void setup_time_wait(struct ctx *x)
{
	pair(x);
	if (shutdown(x->c, SHUT_WR))
		die("shutdown");
	drain(x->s);
	if (shutdown(x->s, SHUT_WR))
		die("shutdown");
	drain(x->c);
	expect_state(x->c, TCP_CLOSE, "TIME_WAIT (seen as CLOSE from the socket)");
}

static void release_nothing(struct ctx *x)
{
	(void)x;
}

static const struct recipe {
	const char *name;
	void (*setup)(struct ctx *x);
	void (*release)(struct ctx *x);
} recipes[] = {
    {"listen", setup_listen, NULL},
    {"established", setup_established, release_established},
    {"syn-sent", setup_syn_sent, release_syn_sent},
    {"syn-recv", setup_syn_recv, release_syn_recv},
    {"fin-wait-1", setup_fin_wait_1, release_fin_wait_1},
    {"fin-wait-2", setup_fin_wait_2, release_close_server},
    {"close-wait", setup_close_wait, release_close_server},
    {"last-ack", setup_last_ack, release_last_ack},
    {"closing", setup_closing, release_closing},
    {"time-wait", setup_time_wait, release_nothing},
};

/* "127.0.0.1:80" or "[::1]:80", as tcpdwell prints addresses. */
static void fmt_sa(char *buf, size_t len, const struct sockaddr_storage *ss)
{
	char ip[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(a->sin6_port));
	} else {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(a->sin_port));
	}
}

static void say_ready(const struct ctx *x)
{
	struct sockaddr_storage a, b;
	socklen_t la = sizeof(a), lb = sizeof(b);
	char local[80], peer[80];
	int fd = x->held >= 0 ? x->held : x->c;

	if (getsockname(fd, (struct sockaddr *)&a, &la))
		die("getsockname");
	fmt_sa(local, sizeof(local), &a);
	if (fd == x->l) {
		snprintf(peer, sizeof(peer), family == AF_INET6 ? "[::]:*" : "0.0.0.0:*");
	} else if (getpeername(fd, (struct sockaddr *)&b, &lb)) {
		/* Not connected (SYN_SENT) or no longer (TIME_WAIT): the peer is the listener. */
		loopback(&b, port);
		fmt_sa(peer, sizeof(peer), &b);
	} else {
		fmt_sa(peer, sizeof(peer), &b);
	}
	/* The server side of the client's connection: the tuple reversed. */
	if (x->held_server)
		printf("ready %s %s\n", peer, local);
	else
		printf("ready %s %s\n", local, peer);
	fflush(stdout);
}

static void say(const char *word)
{
	printf("%s\n", word);
	fflush(stdout);
}

static void simultaneous_close(struct ctx *x, long step_ms)
{
	pair(x);
	expect_state(x->c, TCP_ESTABLISHED, "ESTABLISHED");
	say_ready(x);
	sleep_ms(step_ms);
	fill(x->c);
	fill(x->s);
	if (shutdown(x->c, SHUT_WR) || shutdown(x->s, SHUT_WR))
		die("shutdown");
	expect_state(x->c, TCP_FIN_WAIT1, "FIN_WAIT_1");
	say("fin-wait-1");
	sleep_ms(step_ms);
	drain(x->c);
	expect_state(x->c, TCP_CLOSING, "CLOSING");
	say("closing");
	sleep_ms(step_ms);
	drain(x->s);
	expect_state(x->c, TCP_CLOSE, "TIME_WAIT (seen as CLOSE from the socket)");
	say("time-wait");
	sleep_ms(step_ms);
}

static int usage(void)
{
	fprintf(stderr, "usage: holdstate [-6] RECIPE PORT [SECONDS]\n"
			"       holdstate [-6] hold-ms RECIPE PORT MS\n"
			"       holdstate [-6] simultaneous-close PORT [STEP_SECONDS]\n"
			"recipes:");
	for (size_t i = 0; i < sizeof(recipes) / sizeof(recipes[0]); i++)
		fprintf(stderr, " %s", recipes[i].name);
	fputc('\n', stderr);
	return 2;
}

static int parse_num(const char *s, double max, double *v)
{
	char *end;

	*v = strtod(s, &end);
	return end != s && !*end && *v >= 0 && *v <= max ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct ctx x = {-1, -1, -1, -1, -1, false};
	const struct recipe *r = NULL;
	bool hold_ms = false;
	double p, t = 600;

	/* Never outlive the test that started us. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_IGN);
	argv++, argc--;
	if (argc && !strcmp(argv[0], "-6")) {
		family = AF_INET6;
		argv++, argc--;
	}
	if (argc && !strcmp(argv[0], "hold-ms")) {
		hold_ms = true;
		argv++, argc--;
		if (argc != 3)
			return usage();
	}
	if (argc < 2 || argc > 3 || parse_num(argv[1], 65535, &p) || p < 1)
		return usage();
	port = (int)p;
	if (argc == 3 && parse_num(argv[2], hold_ms ? 3600000 : 3600, &t))
		return usage();
	if (!strcmp(argv[0], "simultaneous-close") && !hold_ms) {
		simultaneous_close(&x, argc == 3 ? (long)(t * 1000) : 1000);
		return 0;
	}
	for (size_t i = 0; i < sizeof(recipes) / sizeof(recipes[0]); i++)
		if (!strcmp(argv[0], recipes[i].name))
			r = &recipes[i];
	if (!r)
		return usage();

	r->setup(&x);
	long entered = now_ms();

	say_ready(&x);
	if (!hold_ms) {
		sleep_ms((long)(t * 1000));
		return 0;
	}
	sleep_ms(entered + (long)t - now_ms());
	if (r->release)
		r->release(&x);
	else
		close(x.l);
	say("released");
	sleep_ms(60000);
	return 0;
}
