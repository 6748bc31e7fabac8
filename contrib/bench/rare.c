/* rare.c - a few sockets held in each rare state, by the recipes of TCP-LAB.md. */
#include "config.h"
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

/* Small buffers make "fill until the window is zero" quick. */
#define SMALL 4096
#define WAIT_MS 5000

static char why[160];

static int fail(const char *what)
{
	snprintf(why, sizeof(why), "%s: %s", what, strerror(errno));
	return -1;
}

static void small_bufs(int fd)
{
	int v = SMALL;

	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
}

static struct sockaddr_in at(unsigned host, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	a.sin_addr.s_addr = htonl((127u << 24) | host);
	return a;
}

/* A listener on 127.0.0.host:port with small buffers (accepted sockets inherit them). */
static int listener(unsigned host, uint16_t port, int backlog)
{
	struct sockaddr_in a = at(host, port);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return fail("socket");
	small_bufs(fd);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, backlog) < 0)
		return fail("listen");
	return fd;
}

/* A client with small buffers; blocking unless nonblock. */
static int client(unsigned host, uint16_t port, bool nonblock)
{
	struct sockaddr_in a = at(host, port);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);

	if (fd < 0)
		return fail("socket");
	small_bufs(fd);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS)
		return fail("connect");
	return fd;
}

static int pair(int lfd, unsigned host, uint16_t port, int *c, int *s)
{
	if ((*c = client(host, port, false)) < 0)
		return -1;
	if ((*s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
		return fail("accept");
	return 0;
}

/* Write until the send buffer is full: the peer, not reading, closes its window. */
static int fill(int fd)
{
	static const char junk[SMALL];
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	for (;;) {
		ssize_t n = send(fd, junk, sizeof(junk), MSG_NOSIGNAL);
		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		return fail("send");
	}
	fcntl(fd, F_SETFL, fl);
	return 0;
}

/* Read until the peer's FIN, with a deadline per wait. */
static int drain(int fd)
{
	char buf[SMALL];

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, WAIT_MS) <= 0) {
			errno = ETIMEDOUT;
			return fail("drain");
		}
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0)
			return 0;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return fail("recv");
	}
}

static int build(unsigned each)
{
	int l, c, s, a, b;

	/* SYN_SENT: a backlog of 0 is full after one connection; later SYNs are dropped. */
	if ((l = listener(20, 7100, 0)) < 0 || client(20, 7100, false) < 0)
		return -1;
	for (unsigned i = 0; i < each; i++)
		if (client(20, 7100, true) < 0)
			return -1;

	/* SYN_RECV: with deferred accept, the server waits for data that never comes. */
	int defer = 600;
	if ((l = listener(21, 7101, 64)) < 0)
		return -1;
	setsockopt(l, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof(defer));
	for (unsigned i = 0; i < each; i++)
		if (client(21, 7101, false) < 0)
			return -1;

	if ((l = listener(22, 7102, 64)) < 0)
		return -1;
	for (unsigned i = 0; i < each; i++) {
		/* FIN_WAIT_1: the FIN is queued behind data the peer does not read. */
		if (pair(l, 22, 7102, &c, &s) < 0 || fill(c) < 0)
			return -1;
		shutdown(c, SHUT_WR);
		/* FIN_WAIT_2 and CLOSE_WAIT: a half-close the peer never answers. */
		if (pair(l, 22, 7102, &c, &s) < 0)
			return -1;
		shutdown(c, SHUT_WR);
		/* LAST_ACK: the passive closer's FIN is queued behind data the closer does not read. */
		if (pair(l, 22, 7102, &c, &s) < 0 || shutdown(c, SHUT_WR) < 0 || drain(s) < 0 ||
		    fill(s) < 0)
			return -1;
		shutdown(s, SHUT_WR);
		/* CLOSING: both FINs queued; a reads b's data and FIN while its own FIN waits. */
		if (pair(l, 22, 7102, &a, &b) < 0 || fill(a) < 0 || fill(b) < 0)
			return -1;
		shutdown(a, SHUT_WR);
		shutdown(b, SHUT_WR);
		if (drain(a) < 0)
			return -1;
	}
	return 0;
}

void rare_hold(unsigned each, int out)
{
	struct bench_report rep = { .ok = 1 };

	if (build(each) < 0) {
		rep.ok = 0;
		snprintf(rep.msg, sizeof(rep.msg), "rare states: %s", why);
	}
	if (write(out, &rep, sizeof(rep)) != sizeof(rep) || !rep.ok)
		_exit(1);
	close(out);
	for (;;)
		pause();
}
