/*
 * churn - open and close N loopback connections as fast as one client can:
 * the churn test's workload (tests/churn_lives.sh).
 *
 * Usage: churn ADDR PORT N [SECONDS]
 *
 * With SECONDS, the connections are spread evenly over at least that long
 * (a poller then sees some of them mid-life, whatever its phase).
 *
 * A server thread accepts and closes at once, as a web server without
 * keep-alive does (it closes first: its sockets end in TIME_WAIT, the
 * client's pass CLOSE_WAIT and LAST_ACK). Every tenth client resets its
 * connection instead (SO_LINGER 0, no TIME_WAIT): its 4-tuple is free at
 * once, so the kernel may hand the same port to a later connection, and
 * one 4-tuple then holds several lives within a second.
 * Prints "N connections in S s" and exits 0, or says what failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int listener;

static void *serve(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept(listener, NULL, NULL);

		if (fd < 0) {
			/* The listener is shut down when the client is done. */
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		close(fd);
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int one = 1, n;
	pthread_t th;
	double t0, span;
	char buf[16];

	if ((argc != 4 && argc != 5) || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: churn ADDR PORT N [SECONDS]\n");
		return 2;
	}
	sa.sin_port = htons((uint16_t)atoi(argv[2]));
	n = atoi(argv[3]);
	span = argc == 5 ? atof(argv[4]) : 0;

	listener = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(listener, (struct sockaddr *)&sa, sizeof(sa)) || listen(listener, 1024)) {
		perror("churn: listen");
		return 1;
	}
	if (pthread_create(&th, NULL, serve, NULL)) {
		fprintf(stderr, "churn: cannot start the server thread\n");
		return 1;
	}

	t0 = now();
	for (int i = 0; i < n; i++) {
		double ahead = t0 + span * i / n - now();
		int fd;

		if (ahead > 0) {
			struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(ahead * 1e9)};
			nanosleep(&ts, NULL);
		}
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			perror("churn: connect");
			return 1;
		}
		if (i % 10 == 9) {
			struct linger lg = {.l_onoff = 1, .l_linger = 0};
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		} else {
			/* Wait for the server's FIN, so that the server closes first. */
			while (read(fd, buf, sizeof(buf)) > 0)
				;
		}
		close(fd);
	}
	printf("%d connections in %.2f s\n", n, now() - t0);

	/* Closing the listener ends the server thread's accept(). */
	shutdown(listener, SHUT_RDWR);
	pthread_join(th, NULL);
	close(listener);
	return 0;
}
