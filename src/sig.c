#include "config.h"
#include "sig.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static const int sig_loop[] = { SIGINT, SIGTERM, SIGHUP, SIGCHLD };
/* SIGQUIT (Ctrl-\ in the view) dumps core like a crash: the terminal must come back as well. */
static const int sig_crash[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGQUIT};
static void (*crash_restore)(void);

int sig_setup(void)
{
	static int fd = -1;
	sigset_t set, old;
	int e;

	if (fd >= 0)
		return fd;
	/* A closed pipe is an error from write(), not a death: `tcpdwell -b | head -1`. */
	signal(SIGPIPE, SIG_IGN);
	/* A file size limit is an error from write() that the recorder reports. */
	signal(SIGXFSZ, SIG_IGN);
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(sig_loop) / sizeof(sig_loop[0]); i++)
		sigaddset(&set, sig_loop[i]);
	if (sigprocmask(SIG_BLOCK, &set, &old) < 0)
		return -1;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0) {
		/* Blocked signals with nothing to read them: only SIGKILL would stop us. */
		e = errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		errno = e;
	}
	return fd;
}

int sig_read(int fd)
{
	struct signalfd_siginfo si;
	ssize_t n;

	do
		n = read(fd, &si, sizeof(si));
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(si) ? (int)si.ssi_signo : 0;
}

static void on_crash(int sig)
{
	if (crash_restore)
		crash_restore();
	/* Die of the same signal so that the crash is still reported as one. */
	signal(sig, SIG_DFL);
	raise(sig);
}

void sig_on_crash(void (*restore)(void))
{
	struct sigaction sa;

	crash_restore = restore;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_crash;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sig_crash) / sizeof(sig_crash[0]); i++)
		sigaction(sig_crash[i], &sa, NULL);
}

void sig_child_reset(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGXFSZ, SIG_DFL);
	for (size_t i = 0; i < sizeof(sig_crash) / sizeof(sig_crash[0]); i++)
		signal(sig_crash[i], SIG_DFL);
}
