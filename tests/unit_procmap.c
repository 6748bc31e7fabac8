/*
 * unit_procmap.c - proves that socket inodes are attributed to the right
 * pid and sanitised command from a fake /proc tree (and the real one), that
 * vanished processes are skipped silently, unreadable fd directories are
 * counted, inode 0 is never matched, rescans are rate-limited but run at once
 * for new inodes, a small budget resumes the walk, and gc forgets.
 */
#include "config.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "procmap.h"
#include "util.h"

static char root[256];

static void mkdirf(const char *fmt, ...)
{
	char path[512], rel[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (mkdir(path, 0755) && errno != EEXIST) {
		perror(path);
		exit(1);
	}
}

static void writef(const char *rel, const char *data, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void linkf(const char *target, const char *fmt, ...)
{
	char path[512], rel[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (symlink(target, path)) {
		perror(path);
		exit(1);
	}
}

/* A process with a comm file and descriptors pointing at the given targets. */
static void proc(int pid, const char *comm, size_t comm_len, const char *const *fds, int nfd)
{
	char rel[64];

	mkdirf("%d", pid);
	mkdirf("%d/fd", pid);
	if (comm) {
		snprintf(rel, sizeof(rel), "%d/comm", pid);
		writef(rel, comm, comm_len);
	}
	for (int i = 0; i < nfd; i++)
		linkf(fds[i], "%d/fd/%d", pid, i + 3);
}

static void build_tree(void)
{
	const char *nginx[] = {"socket:[123]", "socket:[124]", "/dev/null", "pipe:[125]"};
	const char *evil[] = {"socket:[200]"};
	const char *gone[] = {"socket:[555]"};
	const char *zero[] = {"socket:[0]", "anon_inode:[eventpoll]", "socket:[99999999999]",
			      "socket:[12x]", "socket:[300"};
	const char *statonly[] = {"socket:[300]"};
	static const char evil_comm[] = "ev\033[31mil)\a\r\xff\n";

	proc(100, "nginx\n", 6, nginx, 4);
	/* ESC, CSI, ')', BEL, CR, invalid UTF-8 and the newline the kernel adds. */
	proc(200, evil_comm, sizeof(evil_comm) - 1, evil, 1);
	/* No comm: the name comes from stat, where it may contain ") (". */
	proc(300, NULL, 0, statonly, 1);
	writef("300/stat", "300 (we) (ird) S 1 300 300 0 -1 4194560 0 0\n", 45);
	/* Listed, but its comm and stat are gone: it exited during the walk. */
	proc(500, NULL, 0, gone, 1);
	proc(600, "zero\n", 5, zero, 5);
	/* A process that exited between readdir of /proc and opening its fd dir. */
	mkdirf("700");
	/* Things in /proc that are not processes. */
	mkdirf("sys");
	mkdirf("net");
	mkdirf("0");
	linkf("100", "self");
}

static void test_attribution(void)
{
	struct procmap *pm = procmap_new(root);
	const struct owner *o;

	procmap_want(pm, 123);
	procmap_want(pm, 124);
	procmap_want(pm, 125);
	procmap_want(pm, 200);
	procmap_want(pm, 300);
	procmap_want(pm, 555);
	procmap_want(pm, 0);
	CHECK(procmap_scan(pm, 0, 0) == 4);

	o = procmap_lookup(pm, 123);
	CHECK(o && o->pid == 100);
	if (o)
		CHECK_STR(o->comm, "nginx");
	o = procmap_lookup(pm, 124);
	CHECK(o && o->pid == 100);
	o = procmap_lookup(pm, 200);
	CHECK(o && o->pid == 200);
	if (o)
		CHECK_STR(o->comm, "ev\\e[31mil)\\a\\r\\xff");
	o = procmap_lookup(pm, 300);
	CHECK(o && o->pid == 300);
	if (o)
		CHECK_STR(o->comm, "we) (ird");
	/* A pipe with the same number is not a socket. */
	CHECK(procmap_lookup(pm, 125) == NULL);
	/* The process that vanished is skipped without a trace. */
	CHECK(procmap_lookup(pm, 555) == NULL);
	CHECK(procmap_lookup(pm, 0) == NULL);
	CHECK(procmap_lookup(pm, 999) == NULL);
	/* Every fd dir was readable: nothing counts as unattributable. */
	CHECK(procmap_unreadable(pm) == 0);
	procmap_free(pm);
}

static void test_rate_limit(void)
{
	struct procmap *pm = procmap_new(root);
	const char *late[] = {"socket:[777]"};
	const char *later[] = {"socket:[888]"};

	procmap_want(pm, 123);
	procmap_want(pm, 888);
	CHECK(procmap_scan(pm, 10 * NS_PER_SEC, 0) == 1);
	/* Nothing new wanted, the last walk 1 s ago: no walk (888 appears unseen). */
	proc(800, "late\n", 5, later, 1);
	CHECK(procmap_scan(pm, 11 * NS_PER_SEC, 0) == 0);
	CHECK(procmap_lookup(pm, 888) == NULL);
	/* A newly wanted inode walks at once, and finds 888 on the way. */
	proc(801, "later\n", 6, late, 1);
	procmap_want(pm, 777);
	CHECK(procmap_scan(pm, 11 * NS_PER_SEC + 1, 0) == 2);
	CHECK(procmap_lookup(pm, 777) && procmap_lookup(pm, 777)->pid == 801);
	CHECK(procmap_lookup(pm, 888) && procmap_lookup(pm, 888)->pid == 800);
	/* Wanting a known inode again is no reason to walk. */
	procmap_want(pm, 123);
	CHECK(procmap_scan(pm, 11 * NS_PER_SEC + 2, 0) == 0);

	/* Unknown and not new: retried only after 2 s. */
	procmap_want(pm, 4242);
	CHECK(procmap_scan(pm, 12 * NS_PER_SEC, 0) == 0);
	const char *found[] = {"socket:[4242]"};

	proc(802, "found\n", 6, found, 1);
	CHECK(procmap_scan(pm, 13 * NS_PER_SEC, 0) == 0);
	CHECK(procmap_lookup(pm, 4242) == NULL);
	CHECK(procmap_scan(pm, 14 * NS_PER_SEC + 1, 0) == 1);
	CHECK(procmap_lookup(pm, 4242) && procmap_lookup(pm, 4242)->pid == 802);
	procmap_free(pm);
}

static void test_unreadable(void)
{
	struct procmap *pm = procmap_new(root);
	char path[512];

	/* As root chmod does not stop us: an fd that is a file fails like EACCES would. */
	mkdirf("900");
	writef("900/fd", "", 0);
	writef("900/comm", "secret\n", 7);
	procmap_want(pm, 123);
	procmap_want(pm, 31337);
	procmap_want(pm, 31338);
	CHECK(procmap_scan(pm, 0, 0) == 1);
	CHECK(procmap_unreadable(pm) == 2);
	/* One goes away: the count follows. */
	procmap_gc(pm);
	procmap_want(pm, 123);
	procmap_want(pm, 31337);
	procmap_gc(pm);
	CHECK(procmap_unreadable(pm) == 1);
	/* Wanted after the walk: not yet counted. */
	procmap_want(pm, 31339);
	CHECK(procmap_unreadable(pm) == 1);
	/* Once every fd dir reads, a full walk clears the note. */
	snprintf(path, sizeof(path), "%s/900/fd", root);
	unlink(path);
	mkdirf("900/fd");
	CHECK(procmap_scan(pm, 1, 0) == 0);
	CHECK(procmap_unreadable(pm) == 0);
	procmap_free(pm);
}

static void test_gc_and_growth(void)
{
	struct procmap *pm = procmap_new(root);

	/* Many inodes: the table grows and every lookup still answers. */
	for (uint32_t i = 1; i <= 20000; i++)
		procmap_want(pm, 1000000 + i);
	procmap_want(pm, 123);
	procmap_want(pm, 200);
	CHECK(procmap_scan(pm, 0, 0) == 2);
	CHECK(procmap_lookup(pm, 1000001) == NULL);
	CHECK(procmap_lookup(pm, 123) && procmap_lookup(pm, 123)->pid == 100);

	/* gc keeps what was wanted since the last gc, and only that. */
	procmap_gc(pm);
	procmap_want(pm, 123);
	procmap_gc(pm);
	CHECK(procmap_lookup(pm, 123) && procmap_lookup(pm, 123)->pid == 100);
	CHECK(procmap_lookup(pm, 200) == NULL);
	CHECK(procmap_lookup(pm, 1000001) == NULL);
	/* Nothing unknown is left: no walk at all. */
	CHECK(procmap_scan(pm, 100 * NS_PER_SEC, 0) == 0);
	/* Wanted again after being forgotten: found again. */
	procmap_want(pm, 200);
	CHECK(procmap_scan(pm, 100 * NS_PER_SEC, 0) == 1);
	procmap_free(pm);
}

/*
 * 300 processes, the sockets in the last ones: a 1 ns budget resumes across
 * calls; the first walk says so until it ends, a later one does not.
 */
static void test_budget(void)
{
	struct procmap *pm;
	char link[32];
	size_t found = 0;
	int calls = 0, first = 0;

	for (int pid = 2000; pid < 2300; pid++) {
		const char *fds[1] = {link};

		snprintf(link, sizeof(link), "socket:[%d]", 50000 + pid);
		proc(pid, "many\n", 5, fds, 1);
	}
	pm = procmap_new(root);
	CHECK(!procmap_first_pass(pm)); /* nothing to look for yet */
	for (int pid = 2000; pid < 2300; pid++)
		procmap_want(pm, 50000 + pid);
	CHECK(procmap_first_pass(pm));
	while (found < 300 && calls < 10000) {
		found += procmap_scan(pm, 0, 1);
		calls++;
		first += found < 300 && procmap_first_pass(pm);
	}
	CHECK(found == 300);
	CHECK(calls > 1 && first == calls - 1);
	/* Done; a later walk for a new inode is not the first one. */
	CHECK(!procmap_first_pass(pm));
	procmap_want(pm, 99999);
	procmap_scan(pm, 0, 1);
	CHECK(!procmap_first_pass(pm));
	for (int pid = 2000; pid < 2300; pid++) {
		const struct owner *o = procmap_lookup(pm, 50000 + pid);

		CHECK(o && o->pid == pid);
	}
	procmap_free(pm);
}

/* The real /proc: our own socket belongs to us, under our own name. */
static void test_real_proc(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct procmap *pm = procmap_new("/proc");
	char comm[64] = "";
	const struct owner *o;
	struct stat st;
	FILE *f;

	f = fopen("/proc/self/comm", "r");
	CHECK(f && fgets(comm, sizeof(comm), f));
	if (f)
		fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	CHECK(fd >= 0 && fstat(fd, &st) == 0);
	procmap_want(pm, (uint32_t)st.st_ino);
	CHECK(procmap_scan(pm, mono_ns(), 0) == 1);
	o = procmap_lookup(pm, (uint32_t)st.st_ino);
	CHECK(o && o->pid == getpid());
	if (o)
		CHECK_STR(o->comm, comm);
	procmap_free(pm);
	close(fd);
}

/* A missing root is no crash, just no owners. */
static void test_missing_root(void)
{
	struct procmap *pm = procmap_new("/nonexistent/proc");

	procmap_want(pm, 1);
	CHECK(procmap_scan(pm, 0, 0) == 0);
	CHECK(procmap_lookup(pm, 1) == NULL);
	procmap_free(pm);
}

/*
 * A replay's map (no root): owners come from procmap_set(), sanitised; it
 * never scans, keeps them through procmap_gc() (a row scrolled back to
 * needs its owner), and forgets them all on procmap_clear().
 */
static void test_recorded(void)
{
	struct procmap *pm = procmap_new(NULL);
	const struct owner *o;

	procmap_want(pm, 7);
	CHECK(procmap_scan(pm, 0, 0) == 0);
	CHECK(!procmap_first_pass(pm));
	CHECK(procmap_lookup(pm, 7) == NULL);
	procmap_set(pm, 7, 42, "nginx\x1b[2J");
	procmap_set(pm, 9, 43, "sshd");
	o = procmap_lookup(pm, 7);
	CHECK(o && o->pid == 42 && !strchr(o->comm, '\x1b'));
	procmap_set(pm, 9, 44, "sshd");
	procmap_gc(pm);
	procmap_gc(pm);
	o = procmap_lookup(pm, 9);
	CHECK(o && o->pid == 44);
	CHECK(procmap_unreadable(pm) == 0);
	procmap_clear(pm);
	CHECK(procmap_lookup(pm, 7) == NULL && procmap_lookup(pm, 9) == NULL);
	procmap_set(pm, 7, 45, "cat");
	o = procmap_lookup(pm, 7);
	CHECK(o && o->pid == 45);
	procmap_free(pm);
}

int main(void)
{
	char cmd[300];
	int rc;

	snprintf(root, sizeof(root), "%s/procmap.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	build_tree();
	RUN(test_attribution);
	RUN(test_rate_limit);
	RUN(test_unreadable);
	RUN(test_gc_and_growth);
	RUN(test_budget);
	RUN(test_real_proc);
	RUN(test_missing_root);
	RUN(test_recorded);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	rc = system(cmd);
	CHECK(rc == 0);
	return unit_done();
}
