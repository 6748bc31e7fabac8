/* measure.c - one run of each measured thing, through tcpdwell's own API or a child process. */
#include "config.h"
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/poll.h> /* not <poll.h>: src/poll.h is on the include path */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "diag.h"
#include "procmap.h"
#include "track.h"
#include "util.h"

struct meas {
	struct diag *d;
	struct track *t;
	struct snapshot full, fast;
};

/* As tcpdwell's main() sets the tracker up. */
static void track_defaults(struct track_opts *o)
{
	*o = (struct track_opts){
		.ghost_ns = 3 * NS_PER_SEC,
		.fin_timeout_ns = 60 * NS_PER_SEC,
		.universe = ST_ALL_MASK,
		.max_hist = 16,
	};
}

/* One poll as poll.c and loop.c do it: the dump with tcp_info, then the tracker. */
static int poll_once(struct diag *d, struct track *t, uint32_t states, struct snapshot *sn)
{
	int r = diag_dump(d, states, NULL, sn);

	if (r < 0)
		return r;
	if (sn->complete)
		track_apply(t, sn);
	track_expire(t, sn->mono);
	return 0;
}

struct meas *meas_new(int64_t *baseline_ns, char *err, size_t errlen)
{
	struct meas *m = xcalloc(1, sizeof(*m));
	struct track_opts o;
	int64_t t0;
	int r;

	m->d = diag_open();
	if (!m->d) {
		snprintf(err, errlen, "diag_open: %s", strerror(errno));
		free(m);
		return NULL;
	}
	track_defaults(&o);
	m->t = track_new(&o);
	snapshot_init(&m->full);
	snapshot_init(&m->fast);
	/* The baseline: the first dump, where every socket is new to the tracker. */
	t0 = mono_ns();
	r = poll_once(m->d, m->t, ST_ALL_MASK, &m->full);
	*baseline_ns = mono_ns() - t0;
	if (r < 0) {
		snprintf(err, errlen, "diag_dump: %s", strerror(-r));
		meas_free(m);
		return NULL;
	}
	return m;
}

void meas_free(struct meas *m)
{
	if (!m)
		return;
	diag_close(m->d);
	track_free(m->t);
	snapshot_free(&m->full);
	snapshot_free(&m->fast);
	free(m);
}

int64_t meas_bare(size_t *n)
{
	int64_t t0 = mono_ns();

	if (bare_dump(n) < 0)
		return -1;
	return mono_ns() - t0;
}

int64_t meas_poll(struct meas *m)
{
	int64_t t0 = mono_ns();

	if (poll_once(m->d, m->t, ST_ALL_MASK, &m->full) < 0)
		return -1;
	return mono_ns() - t0;
}

int64_t meas_fast(struct meas *m)
{
	int64_t t0 = mono_ns();

	if (poll_once(m->d, m->t, ST_RARE_MASK, &m->fast) < 0)
		return -1;
	return mono_ns() - t0;
}

size_t meas_tracked(const struct meas *m)
{
	return track_alive(m->t);
}

/* The first owner resolution of batch mode: every inode of the last full dump, no time bound. */
int64_t meas_owners(struct meas *m, size_t *resolved)
{
	struct procmap *pm = procmap_new("/proc");
	int64_t t0 = mono_ns(), dt;

	for (size_t i = 0; i < m->full.n; i++)
		if (m->full.v[i].inode)
			procmap_want(pm, m->full.v[i].inode);
	*resolved = procmap_scan(pm, mono_ns(), 0);
	dt = mono_ns() - t0;
	procmap_free(pm);
	return dt;
}

/*
 * Run argv with stdout (and stderr unless keep_err) on /dev/null, from spawn
 * to exit; the child's peak RSS in *maxrss_kb. -1 when it could not run or
 * did not exit 0. posix_spawn, not fork: a fork would share our tracker's
 * pages copy-on-write, and the next measured poll would pay a page fault
 * for every page it writes, a cost of the benchmark and not of tcpdwell.
 */
int64_t meas_exec(char *const argv[], bool keep_err, long *maxrss_kb, int *status)
{
	posix_spawn_file_actions_t fa;
	struct rusage ru;
	int64_t t0, dt;
	pid_t pid;
	int r;

	fflush(NULL);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	if (!keep_err)
		posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
	t0 = mono_ns();
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return -1;
	while (wait4(pid, status, 0, &ru) < 0)
		if (errno != EINTR)
			return -1;
	dt = mono_ns() - t0;
	if (maxrss_kb)
		*maxrss_kb = ru.ru_maxrss;
	return WIFEXITED(*status) && WEXITSTATUS(*status) == 0 ? dt : -1;
}

/*
 * Telling tcpdwell's first complete screen showing the table from what it
 * writes to the terminal. The view's first screen is already the table (it
 * is drawn once the first dump is applied), but nothing here relies on
 * that: a screen with the table has socket rows, and every socket of the
 * population has an address in 127.0.0.0/8, so "127." in the text (escape
 * sequences taken out) means the table's rows are being written. curses
 * writes a screen in one burst at refresh(), after all of it was computed
 * (counts, rows, sort), and the view draws at most ten screens a second
 * (DRAW_MIN_NS in src/view.c: 100 ms from one to the next). So the first
 * complete table screen is the burst of output that holds the first
 * "127.": its last byte, read before SCREEN_GAP_NS of silence (less than
 * those 100 ms), is when it was complete. Its time is when this process
 * read that byte.
 */
#define SCREEN_GAP_NS (40 * NS_PER_MS)
#define SCREEN_TIMEOUT_NS (120 * NS_PER_SEC)

struct strip {
	int st; /* 0 text, 1 after ESC, 2 in a CSI sequence, 3 in an OSC string, 4 charset */
	char tail[4];
};

/* Feed terminal output; true once "127." is in its text (escape sequences skipped). */
static bool strip_feed(struct strip *sp, const unsigned char *b, size_t n)
{
	bool hit = false;

	for (size_t i = 0; i < n && !hit; i++) {
		unsigned char c = b[i];

		switch (sp->st) {
		case 0:
			if (c == 0x1b) {
				sp->st = 1;
			} else if (c >= 0x20 && c != 0x7f) {
				memmove(sp->tail, sp->tail + 1, sizeof(sp->tail) - 1);
				sp->tail[sizeof(sp->tail) - 1] = (char)c;
				hit = !memcmp(sp->tail, "127.", 4);
			}
			break;
		case 1:
			sp->st = c == '[' ? 2 : c == ']' ? 3 : (c == '(' || c == ')') ? 4 : 0;
			break;
		case 2:
			if (c >= 0x40 && c <= 0x7e)
				sp->st = 0;
			break;
		case 3:
			if (c == 0x07 || c == 0x1b)
				sp->st = c == 0x1b ? 1 : 0;
			break;
		default:
			sp->st = 0;
			break;
		}
	}
	return hit;
}

/* The environment with TERM set to what the benchmark's terminal is. */
static char **screen_env(void)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	env = xcalloc(n + 2, sizeof(*env));
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "TERM=", 5) && strncmp(environ[i], "LINES=", 6) &&
		    strncmp(environ[i], "COLUMNS=", 8))
			env[k++] = environ[i];
	env[k++] = "TERM=xterm-256color";
	env[k] = NULL;
	return env;
}

static int64_t reap(pid_t pid, bool kill_it)
{
	int status;

	if (kill_it)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int64_t meas_screen(const char *tcpdwell, int64_t *quit_ns)
{
	char *argv[] = { (char *)tcpdwell, NULL }, slave[64], **env;
	struct winsize ws = { .ws_row = 40, .ws_col = 120 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	struct strip sp = { 0 };
	unsigned char buf[65536];
	int64_t t0, last = 0, done = -1, quit_at = 0;
	bool seen = false;
	pid_t pid;
	int m, r;

	*quit_ns = -1;
	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return -1;
	if (grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, slave, sizeof(slave)) != 0 ||
	    ioctl(m, TIOCSWINSZ, &ws) < 0) {
		close(m);
		return -1;
	}
	env = screen_env();
	fflush(NULL);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID); /* the pty becomes its terminal */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, slave, O_RDWR, 0);
	posix_spawn_file_actions_adddup2(&fa, STDIN_FILENO, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, STDIN_FILENO, STDERR_FILENO);
	t0 = mono_ns();
	r = posix_spawn(&pid, tcpdwell, &fa, &at, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	free(env);
	if (r != 0) {
		close(m);
		return -1;
	}
	for (;;) {
		int64_t now = mono_ns(), wait = SCREEN_TIMEOUT_NS - (now - t0);
		struct pollfd p = { .fd = m, .events = POLLIN };
		ssize_t n;

		if (seen && done < 0)
			wait = last + SCREEN_GAP_NS - now;
		if (wait < 0)
			wait = 0;
		r = poll(&p, 1, (int)(wait / NS_PER_MS));
		now = mono_ns();
		if (r == 0) {
			if (seen && done < 0) {
				/* The screen is complete: a key now must be answered at once. */
				done = last - t0;
				quit_at = mono_ns();
				if (write(m, "q", 1) != 1)
					break;
				continue;
			}
			break; /* timed out */
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		n = read(m, buf, sizeof(buf));
		if (n <= 0)
			break; /* EIO: the last holder of the terminal's other side is gone */
		if (done < 0) {
			last = now;
			if (!seen)
				seen = strip_feed(&sp, buf, (size_t)n);
		}
	}
	close(m);
	if (reap(pid, done < 0) < 0 || done < 0)
		return -1;
	*quit_ns = mono_ns() - quit_at;
	return done;
}

size_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, res = 0;

	if (f) {
		if (fscanf(f, "%lu %lu", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return res * (size_t)sysconf(_SC_PAGESIZE);
}

/*
 * The memory probe, run in a fresh process (the benchmark's own heap would
 * blur it): resident memory of the poller and tracker after two polls, less
 * what they hold before the first, per tracked socket. Prints "n total tracker".
 */
int meas_memory_probe(void)
{
	struct track_opts o;
	struct diag *d = diag_open();
	struct snapshot sn;
	struct track *t;
	size_t base, full, track_only, n;

	if (!d) {
		fprintf(stderr, "tcpdwell-bench: memory probe: diag_open: %s\n", strerror(errno));
		return 1;
	}
	track_defaults(&o);
	t = track_new(&o);
	snapshot_init(&sn);
	base = rss_bytes();
	for (int i = 0; i < 2; i++) {
		if (poll_once(d, t, ST_ALL_MASK, &sn) < 0) {
			fprintf(stderr, "tcpdwell-bench: memory probe: dump failed\n");
			return 1;
		}
	}
	full = rss_bytes();
	n = track_alive(t);
	/* Without the snapshot the poll keeps between dumps: the tracker's share. */
	snapshot_free(&sn);
	track_only = rss_bytes();
	printf("%zu %zu %zu\n", n, full > base ? full - base : 0,
	       track_only > base ? track_only - base : 0);
	track_free(t);
	diag_close(d);
	return 0;
}

int meas_memory(double *per_sock, double *per_sock_track)
{
	char *argv[] = { "/proc/self/exe", "--memory-probe", NULL };
	size_t n = 0, total = 0, tr = 0;
	int pfd[2], status;
	FILE *f;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	if (!f || fscanf(f, "%zu %zu %zu", &n, &total, &tr) != 3)
		n = 0;
	if (f)
		fclose(f);
	else
		close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!n)
		return -1;
	*per_sock = (double)total / (double)n;
	*per_sock_track = (double)tr / (double)n;
	return 0;
}
