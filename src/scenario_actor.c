#include "config.h"
#include "scenario.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scenario_int.h"
#include "util.h"

/* Where actors run when tcpdwell is root: nobody. */
#define NOBODY 65534
/* How long one blocking action may take inside an actor. */
#define ACT_TIMEOUT_MS 5000
/* The descriptors an actor keeps: commands in, replies out. */
#define CMD_FD 3
#define REPLY_FD 4

/* An actor's own sockets, in its process. */
struct sc_actor_proc {
	const struct scenario *sc;
	int self;
	int lfd; /* listener */
	int cfd; /* the current connection */
	uint16_t last_lport; /* the local port of its last connect, for `connect again` */
};

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

__attribute__((format(printf, 2, 3))) static void say(struct sc_reply *r, const char *fmt, ...)
{
	size_t used = strlen(r->text);
	va_list ap;

	if (used >= sizeof(r->text) - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(r->text + used, sizeof(r->text) - used, fmt, ap);
	va_end(ap);
}

/* Record a failed call: "-1 ECONNRESET (Connection reset by peer)". */
static int failed(struct sc_reply *r, int err)
{
	r->ret = -1;
	r->err = err;
	say(r, "-1 %s (%s)", sc_errno_name(err), strerror(err));
	return -1;
}

static struct sockaddr_in loopback(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sa;
}

static void set_int(int fd, int level, int opt, int v)
{
	setsockopt(fd, level, opt, &v, sizeof(v));
}

static void report_ports(int fd, struct sc_reply *r)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		r->lport = ntohs(sa.sin_port);
	len = sizeof(sa);
	if (getpeername(fd, (struct sockaddr *)&sa, &len) == 0)
		r->rport = ntohs(sa.sin_port);
}

/* Wait for an event on fd, at most ms; 1 ready, 0 timeout. */
static int wait_fd(int fd, short events, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int r;

	do
		r = poll(&pfd, 1, ms);
	while (r < 0 && errno == EINTR);
	return r > 0;
}

/* The actions on the current connection need one. */
static int no_conn(struct sc_reply *r)
{
	say(r, "no connection: ");
	return failed(r, ENOTCONN);
}

int sc_do_listen(struct sc_actor_proc *a, const struct sc_step *st, struct sc_reply *r)
{
	uint16_t port = a->sc->actors[a->self].port;
	struct sockaddr_in sa = loopback(port);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return failed(r, errno);
	if (st->reuseaddr)
		set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (st->rcvbuf)
		set_int(fd, SOL_SOCKET, SO_RCVBUF, st->rcvbuf);
	if (st->sndbuf)
		set_int(fd, SOL_SOCKET, SO_SNDBUF, st->sndbuf);
	if (st->defer)
		set_int(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, st->defer);
	say(r, "bind(127.0.0.1:%u%s) ", port, st->reuseaddr ? ", SO_REUSEADDR" : "");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return failed(r, e);
	}
	say(r, "= 0, listen(backlog %d) ", st->backlog);
	if (listen(fd, st->backlog) < 0) {
		int e = errno;
		close(fd);
		return failed(r, e);
	}
	say(r, "= 0");
	if (st->defer)
		say(r, ", TCP_DEFER_ACCEPT %ds", st->defer);
	if (a->lfd >= 0)
		close(a->lfd);
	a->lfd = fd;
	return 0;
}

int sc_do_bind_again(struct sc_actor_proc *a, const struct sc_step *st, struct sc_reply *r)
{
	say(r, "restart: ");
	return sc_do_listen(a, st, r);
}

int sc_do_connect(struct sc_actor_proc *a, const struct sc_step *st, struct sc_reply *r)
{
	uint16_t port = a->sc->actors[st->target].port;
	struct sockaddr_in sa = loopback(port);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), e;
	socklen_t len = sizeof(e);

	if (fd < 0)
		return failed(r, errno);
	if (st->rcvbuf)
		set_int(fd, SOL_SOCKET, SO_RCVBUF, st->rcvbuf);
	if (st->sndbuf)
		set_int(fd, SOL_SOCKET, SO_SNDBUF, st->sndbuf);
	if (st->again) {
		struct sockaddr_in from = loopback(a->last_lport);

		if (!a->last_lport) {
			close(fd);
			say(r, "connect again: no earlier connect ");
			return failed(r, EINVAL);
		}
		/* The same 4-tuple as before: what a SYN meets in TIME_WAIT. */
		say(r, "bind(127.0.0.1:%u, SO_REUSEADDR) ", a->last_lport);
		set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
		if (bind(fd, (struct sockaddr *)&from, sizeof(from)) < 0) {
			e = errno;
			close(fd);
			return failed(r, e);
		}
		say(r, "= 0, ");
	}
	say(r, "connect(127.0.0.1:%u) ", port);
	/* Non-blocking, so that a SYN nobody answers shows as SYN_SENT, not a hung actor. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		e = errno;
		close(fd);
		return failed(r, e);
	}
	report_ports(fd, r);
	r->rport = port;
	a->cfd = fd;
	a->last_lport = r->lport;
	if (!wait_fd(fd, POLLOUT, 1000)) {
		say(r, "in progress: no answer to the SYN yet (EINPROGRESS)");
		return 0;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == 0 && e)
		return failed(r, e);
	say(r, "= 0, local port %u", r->lport);
	return 0;
}

int sc_do_accept(struct sc_actor_proc *a, const struct sc_step *st, struct sc_reply *r)
{
	int fd;

	(void)st;
	say(r, "accept() ");
	if (a->lfd < 0)
		return failed(r, EINVAL);
	if (!wait_fd(a->lfd, POLLIN, ACT_TIMEOUT_MS)) {
		say(r, "nothing to accept after %d s: ", ACT_TIMEOUT_MS / 1000);
		return failed(r, ETIMEDOUT);
	}
	fd = accept4(a->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return failed(r, errno);
	/* Earlier connections stay open: their sockets keep showing. */
	a->cfd = fd;
	report_ports(fd, r);
	say(r, "= fd, peer port %u", r->rport);
	return 0;
}

int sc_do_send(struct sc_actor_proc *a, const struct sc_step *st, struct sc_reply *r)
{
	static char buf[65536];
	long done = 0;
	int64_t end = mono_ns() + ACT_TIMEOUT_MS * NS_PER_MS;

	if (a->cfd < 0)
		return no_conn(r);
	say(r, "send(%ld bytes) ", st->n);
	while (done < st->n) {
		size_t want = (size_t)(st->n - done) < sizeof(buf) ? (size_t)(st->n - done)
								   : sizeof(buf);
		ssize_t n = send(a->cfd, buf, want, MSG_NOSIGNAL);
		if (n >= 0) {
			done += n;
			continue;
		}
		if (errno != EAGAIN) {
			say(r, "after %ld bytes: ", done);
			return failed(r, errno);
		}
		if (mono_ns() >= end || !wait_fd(a->cfd, POLLOUT, 200)) {
			if (mono_ns() < end)
				continue;
			say(r, "only %ld sent, the peer's window stayed full: ", done);
			return failed(r, ETIMEDOUT);
		}
	}
	say(r, "= %ld", done);
	return 0;
}

/* Write until the socket stays unwritable: the peer's window is full, our queue too. */
int sc_do_fill(struct sc_actor_proc *a, const struct sc_step *st, struct sc_reply *r)
{
	static char buf[65536];
	long done = 0;
	int64_t end = mono_ns() + ACT_TIMEOUT_MS * NS_PER_MS;

	(void)st;
	if (a->cfd < 0)
		return no_conn(r);
	say(r, "fill: write until the peer's window is full: ");
	for (;;) {
		ssize_t n = send(a->cfd, buf, sizeof(buf), MSG_NOSIGNAL);
		if (n > 0) {
			done += n;
			continue;
		}
		if (n < 0 && errno != EAGAIN)
			return failed(r, errno);
		if (mono_ns() >= end || !wait_fd(a->cfd, POLLOUT, 150))
			break;
	}
	say(r, "%ld bytes queued", done);
	return 0;
}

/* Read up to want bytes (want < 0: until EOF or quiet for a moment). */
static int read_some(struct sc_actor_proc *a, long want, struct sc_reply *r)
{
	static char buf[65536];
	long done = 0;
	int64_t end = mono_ns() + ACT_TIMEOUT_MS * NS_PER_MS;

	if (want > 0)
		say(r, "recv(%ld bytes) ", want);
	else
		say(r, "drain: read until EOF or nothing more: ");
	while (want < 0 || done < want) {
		size_t cap = want < 0 || (size_t)(want - done) > sizeof(buf) ? sizeof(buf)
									 : (size_t)(want - done);
		ssize_t n = recv(a->cfd, buf, cap, 0);
		if (n > 0) {
			done += n;
			continue;
		}
		if (n == 0) {
			say(r, "= %ld bytes, then EOF (the peer's FIN)", done);
			return 0;
		}
		if (errno != EAGAIN) {
			if (done)
				say(r, "%ld bytes, then ", done);
			return failed(r, errno);
		}
		/* A drain stops when the data stops: 200 ms quiet. */
		if (!wait_fd(a->cfd, POLLIN, want < 0 ? 200 : 500) &&
		    (want < 0 || mono_ns() >= end))
			break;
		if (mono_ns() >= end)
			break;
	}
	if (want > 0 && done < want) {
		say(r, "only %ld bytes: ", done);
		return failed(r, ETIMEDOUT);
	}
	say(r, "= %ld bytes%s", done, want < 0 ? ", then nothing more (would block)" : "");
	return 0;
}

int sc_do_recv(struct sc_actor_proc *a, const struct sc_step *st, struct sc_reply *r)
{
	return a->cfd < 0 ? no_conn(r) : read_some(a, st->n, r);
}

int sc_do_drain(struct sc_actor_proc *a, const struct sc_step *st, struct sc_reply *r)
{
	(void)st;
	return a->cfd < 0 ? no_conn(r) : read_some(a, -1, r);
}

int sc_do_shutdown(struct sc_actor_proc *a, const struct sc_step *st, struct sc_reply *r)
{
	static const int hows[] = {SHUT_RD, SHUT_WR, SHUT_RDWR};
	static const char *const how_names[] = {"SHUT_RD", "SHUT_WR", "SHUT_RDWR"};

	if (a->cfd < 0)
		return no_conn(r);
	say(r, "shutdown(%s) ", how_names[st->n]);
	if (shutdown(a->cfd, hows[st->n]) < 0)
		return failed(r, errno);
	say(r, "= 0");
	return 0;
}

int sc_do_close(struct sc_actor_proc *a, const struct sc_step *st, struct sc_reply *r)
{
	int *fd = st->listener ? &a->lfd : &a->cfd;

	if (!st->listener && a->cfd < 0)
		return no_conn(r);
	say(r, "close(%s) ", st->listener ? "listener" : "connection");
	if (*fd < 0)
		return failed(r, EBADF);
	if (close(*fd) < 0) {
		*fd = -1;
		return failed(r, errno);
	}
	*fd = -1;
	say(r, "= 0");
	return 0;
}

int sc_do_linger(struct sc_actor_proc *a, const struct sc_step *st, struct sc_reply *r)
{
	struct linger lg = {.l_onoff = 1, .l_linger = (int)st->n};

	if (a->cfd < 0)
		return no_conn(r);
	say(r, "setsockopt(SO_LINGER, on, %lds) ", st->n);
	if (setsockopt(a->cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
		return failed(r, errno);
	say(r, "= 0%s", st->n ? "" : ": close() will send RST");
	return 0;
}

/* Write to a connection the peer closed: the first write draws an RST, the second EPIPE. */
int sc_do_write_after_close(struct sc_actor_proc *a, const struct sc_step *st, struct sc_reply *r)
{
	static char buf[65536];
	ssize_t n;

	if (a->cfd < 0)
		return no_conn(r);
	sigpipes = 0;
	n = write(a->cfd, buf, (size_t)st->n);
	if (n < 0) {
		say(r, "write(%ld) ", st->n);
		say(r, "= -1 %s, SIGPIPE %s; ", sc_errno_name(errno),
		    sigpipes ? "raised (caught)" : "not raised");
	} else {
		say(r, "write(%ld) = %zd (the peer answers with RST); ", st->n, n);
	}
	/* The RST arrives as an error on the socket. */
	wait_fd(a->cfd, POLLERR, 1000);
	sigpipes = 0;
	say(r, "write again ");
	n = write(a->cfd, buf, (size_t)st->n);
	if (n >= 0) {
		say(r, "= %zd", n);
		return 0;
	}
	failed(r, errno);
	say(r, ", SIGPIPE %s", sigpipes ? "raised (caught)" : "not raised");
	return -1;
}

int sc_do_exit(struct sc_actor_proc *a, const struct sc_step *st, struct sc_reply *r)
{
	(void)a;
	(void)st;
	say(r, "exit(0)");
	return 0;
}

static void send_reply(const struct sc_reply *r)
{
	ssize_t n;

	do
		n = write(REPLY_FD, r, sizeof(*r));
	while (n < 0 && errno == EINTR);
}

static __attribute__((noreturn)) void actor_main(const struct scenario *sc, int self)
{
	struct sc_actor_proc a = { .sc = sc, .self = self, .lfd = -1, .cfd = -1 };

	for (;;) {
		int32_t i;
		ssize_t n = read(CMD_FD, &i, sizeof(i));
		struct sc_reply r;

		if (n < 0 && errno == EINTR)
			continue;
		/* The runner is gone or confused: nothing left to do. */
		if (n != (ssize_t)sizeof(i) || i < 0 || (size_t)i >= sc->nsteps)
			_exit(0);
		memset(&r, 0, sizeof(r));
		r.step = i;
		r.actor = self;
		if (sc->steps[i].verb->perform(&a, &sc->steps[i], &r) == 0)
			r.ret = 0;
		if (r.lport == 0 && a.cfd >= 0 && sc->steps[i].act != SA_CLOSE)
			report_ports(a.cfd, &r);
		send_reply(&r);
		if (sc->steps[i].act == SA_EXIT)
			_exit(0);
	}
}

/*
 * In a user namespace of our own the actor is uid 0 with every capability
 * over the scenario's namespace, and has no other uid to become: it keeps
 * the uid and gives the capabilities up, for good.
 */
static int drop_capabilities(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return (int)syscall(SYS_capset, &h, d);
}

/* In the child: signals, descriptors, privileges, then the command loop. */
static __attribute__((noreturn)) void actor_child(const struct scenario *sc, int self, int cmd,
						  int reply, pid_t parent)
{
	struct sigaction sa;
	sigset_t none;
	int devnull;

	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	/* An actor shows EPIPE and SIGPIPE and lives on to report them. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigpipe;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGPIPE, &sa, NULL);

	/* Keep only the two pipes: not the poller's socket, not the terminal. */
	cmd = fcntl(cmd, F_DUPFD, 10);
	reply = fcntl(reply, F_DUPFD, 10);
	if (cmd < 0 || reply < 0 || dup2(cmd, CMD_FD) < 0 || dup2(reply, REPLY_FD) < 0)
		_exit(1);
	close_range(REPLY_FD + 1, ~0U, 0);
	devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		if (devnull > 2)
			close(devnull);
	}
	if (sc->userns) {
		if (drop_capabilities() < 0) {
			struct sc_reply r = { .step = -1, .actor = self, .ret = -1, .err = errno };
			snprintf(r.text, sizeof(r.text), "cannot give up capabilities: %s",
				 strerror(errno));
			send_reply(&r);
			_exit(1);
		}
	} else if (geteuid() == 0 || getuid() == 0) {
		if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0 ||
		    getuid() != NOBODY || geteuid() != NOBODY) {
			struct sc_reply r = { .step = -1, .actor = self, .ret = -1, .err = errno };
			snprintf(r.text, sizeof(r.text), "cannot drop privileges to uid %d: %s",
				 NOBODY, strerror(errno));
			send_reply(&r);
			_exit(1);
		}
	}
	/* After the uid change, which clears it; then make sure the parent is still there. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	actor_main(sc, self);
}

int sc_actors_start(struct scenario *sc, char *err, size_t errlen)
{
	int reply[2];
	pid_t parent = getpid();

	if (pipe2(reply, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "scenario: pipe: %s", strerror(errno));
		return -1;
	}
	fcntl(reply[0], F_SETFL, O_NONBLOCK);
	sc->reply_fd = reply[0];
	fflush(NULL);
	for (size_t i = 0; i < sc->nactors; i++) {
		struct sc_actor *a = &sc->actors[i];
		int cmd[2];
		pid_t pid;

		if (pipe2(cmd, O_CLOEXEC) < 0) {
			snprintf(err, errlen, "scenario: pipe: %s", strerror(errno));
			close(reply[1]);
			return -1;
		}
		pid = fork();
		if (pid < 0) {
			snprintf(err, errlen, "scenario: cannot start %s: fork: %s", a->name,
				 strerror(errno));
			close(cmd[0]);
			close(cmd[1]);
			close(reply[1]);
			return -1;
		}
		if (pid == 0)
			actor_child(sc, (int)i, cmd[0], reply[1], parent);
		/* Both sides set the group, so that a kill right after fork reaches it. */
		setpgid(pid, pid);
		close(cmd[0]);
		a->pid = pid;
		a->cmd_fd = cmd[1];
	}
	close(reply[1]);
	return 0;
}

int sc_actor_command(struct scenario *sc, size_t i)
{
	struct sc_actor *a = &sc->actors[sc->steps[i].actor];
	int32_t idx = (int32_t)i;
	ssize_t n;

	if (a->cmd_fd < 0 || !a->pid)
		return -EPIPE;
	if (sc->steps[i].act == SA_EXIT)
		a->exiting = true;
	do
		n = write(a->cmd_fd, &idx, sizeof(idx));
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(idx) ? 0 : -(n < 0 ? errno : EIO);
}

static void describe_status(char *why, size_t len, int st)
{
	if (WIFSIGNALED(st))
		snprintf(why, len, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(why, len, "exited with status %d", WEXITSTATUS(st));
}

int sc_actors_reap(struct scenario *sc, char *why, size_t len)
{
	int died = -1;

	for (size_t i = 0; i < sc->nactors; i++) {
		struct sc_actor *a = &sc->actors[i];
		int st;

		if (!a->pid || waitpid(a->pid, &st, WNOHANG) != a->pid)
			continue;
		a->pid = 0;
		if (a->cmd_fd >= 0)
			close(a->cmd_fd);
		a->cmd_fd = -1;
		if (!a->exiting && died < 0) {
			died = (int)i;
			describe_status(why, len, st);
		}
	}
	return died;
}

void scenario_stop(struct scenario *sc)
{
	if (!sc || !sc->started || sc->stopped)
		return;
	sc->stopped = true;
	if (!sc->finished && sc->o.batch && sc->o.out && sc->cur < sc->nsteps) {
		fprintf(sc->o.out, "scenario %s interrupted at line %d: %u expectations checked, %u "
				   "failed\n",
			sc->name, sc->steps[sc->cur].line, sc->n_expect, sc->n_failed);
		fflush(sc->o.out);
	}
	for (size_t i = 0; i < sc->nactors; i++) {
		struct sc_actor *a = &sc->actors[i];

		if (a->pid > 0) {
			/* The group first: anything an actor might have started goes too. */
			kill(-a->pid, SIGKILL);
			kill(a->pid, SIGKILL);
			while (waitpid(a->pid, NULL, 0) < 0 && errno == EINTR)
				;
			a->pid = 0;
		}
		if (a->cmd_fd >= 0)
			close(a->cmd_fd);
		a->cmd_fd = -1;
	}
	if (sc->reply_fd >= 0)
		close(sc->reply_fd);
	sc->reply_fd = -1;
}
