#include "config.h"
#include "procmap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* Without new sockets to look for, a full walk of /proc at most this often. */
#define PROCMAP_RETRY_NS (2 * NS_PER_SEC)
/* Look at the clock every so many descriptors of one process. */
#define PROCMAP_CLOCK_EVERY 64

struct entry {
	uint32_t inode; /* 0: a free slot */
	uint32_t pass;	/* the pass under way (or last done) when first wanted */
	bool known;
	bool wanted;	 /* since the last procmap_gc() */
	bool unreadable; /* counted in pm->unreadable */
	struct owner owner;
};

struct procmap {
	char *root;
	struct entry *tab;
	size_t cap, n;
	size_t unknown;	   /* entries without an owner */
	size_t unreadable; /* of those, the ones a pass with unreadable fd dirs missed */
	bool fresh;	   /* unknown entries added since the last pass began */
	bool ever;	   /* a pass has begun at least once */
	int64_t last_begin;

	/* The pass under way, resumed by the next call when the budget ran out. */
	uint32_t pass;
	DIR *proc;
	DIR *fds; /* the fd directory of pid */
	int pid;
	int comm_state; /* 0 not read yet, 1 read, -1 the process is gone */
	char comm[sizeof(((struct owner *)0)->comm)];
	size_t bad_dirs; /* fd directories this pass could not read */
};

static size_t slot(const struct procmap *pm, uint32_t inode)
{
	return (size_t)((inode * 2654435761u) ^ (inode >> 16)) & (pm->cap - 1);
}

static struct entry *find(const struct procmap *pm, uint32_t inode)
{
	if (!inode || !pm->cap)
		return NULL;
	for (size_t i = slot(pm, inode);; i = (i + 1) & (pm->cap - 1)) {
		if (pm->tab[i].inode == inode)
			return &pm->tab[i];
		if (!pm->tab[i].inode)
			return NULL;
	}
}

/* Reinsert the entries that keep(), into a table sized for them. */
static void rebuild(struct procmap *pm, size_t want_cap, bool gc)
{
	struct entry *old = pm->tab;
	size_t old_cap = pm->cap;

	pm->cap = 64;
	while (pm->cap < want_cap)
		pm->cap *= 2;
	pm->tab = xcalloc(pm->cap, sizeof(*pm->tab));
	pm->n = pm->unknown = pm->unreadable = 0;
	for (size_t i = 0; i < old_cap; i++) {
		struct entry *e = &old[i];
		size_t j;

		if (!e->inode || (gc && !e->wanted))
			continue;
		if (gc)
			e->wanted = false;
		for (j = slot(pm, e->inode); pm->tab[j].inode; j = (j + 1) & (pm->cap - 1))
			;
		pm->tab[j] = *e;
		pm->n++;
		pm->unknown += !e->known;
		pm->unreadable += e->unreadable;
	}
	free(old);
}

struct procmap *procmap_new(const char *proc_root)
{
	struct procmap *pm = xcalloc(1, sizeof(*pm));

	pm->root = proc_root ? xstrdup(proc_root) : NULL;
	rebuild(pm, 64, false);
	return pm;
}

static void end_pid(struct procmap *pm)
{
	if (pm->fds)
		closedir(pm->fds);
	pm->fds = NULL;
}

static void end_pass(struct procmap *pm)
{
	end_pid(pm);
	if (pm->proc)
		closedir(pm->proc);
	pm->proc = NULL;
}

void procmap_free(struct procmap *pm)
{
	if (!pm)
		return;
	end_pass(pm);
	free(pm->tab);
	free(pm->root);
	free(pm);
}

void procmap_want(struct procmap *pm, uint32_t inode)
{
	struct entry *e;
	size_t i;

	/* Inode 0 is TIME_WAIT, orphaned FIN_WAIT_2, SYN_RECV: no process holds it. */
	if (!inode)
		return;
	e = find(pm, inode);
	if (e) {
		e->wanted = true;
		return;
	}
	if (2 * (pm->n + 1) > pm->cap)
		rebuild(pm, 2 * pm->cap, false);
	for (i = slot(pm, inode); pm->tab[i].inode; i = (i + 1) & (pm->cap - 1))
		;
	e = &pm->tab[i];
	memset(e, 0, sizeof(*e));
	e->inode = inode;
	e->wanted = true;
	e->pass = pm->pass;
	pm->n++;
	pm->unknown++;
	pm->fresh = true;
}

const struct owner *procmap_lookup(const struct procmap *pm, uint32_t inode)
{
	const struct entry *e = find(pm, inode);

	return e && e->known ? &e->owner : NULL;
}

size_t procmap_unreadable(const struct procmap *pm)
{
	return pm->unreadable;
}

void procmap_set(struct procmap *pm, uint32_t inode, int pid, const char *comm)
{
	struct entry *e;

	procmap_want(pm, inode);
	e = find(pm, inode);
	if (!e)
		return;
	if (!e->known)
		pm->unknown--;
	e->known = true;
	e->owner.pid = pid;
	sanitize(e->owner.comm, sizeof(e->owner.comm), comm, strlen(comm));
}

void procmap_clear(struct procmap *pm)
{
	end_pass(pm);
	free(pm->tab);
	pm->tab = NULL;
	pm->cap = 0;
	rebuild(pm, 64, false);
}

void procmap_gc(struct procmap *pm)
{
	size_t keep = 0;

	/* Recorded owners are all there is to know: a socket scrolled back to needs its own. */
	if (!pm->root)
		return;
	for (size_t i = 0; i < pm->cap; i++)
		keep += pm->tab[i].inode && pm->tab[i].wanted;
	rebuild(pm, 2 * keep + 2, true);
}

/* "socket:[12345]" -> 12345; 0 for anything else (pipes, files, anon inodes). */
static uint32_t socket_inode(const char *link)
{
	unsigned long v = 0;
	const char *p;

	if (strncmp(link, "socket:[", 8))
		return 0;
	for (p = link + 8; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > UINT32_MAX)
			return 0;
	}
	return *p == ']' && !p[1] ? (uint32_t)v : 0;
}

static ssize_t read_small(int dirfd, const char *path, char *buf, size_t len)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* The command of pm->pid from comm, else from stat; false when the process is gone. */
static bool read_comm(struct procmap *pm)
{
	char path[32], buf[512];
	const char *name = buf;
	ssize_t n;
	size_t len;

	snprintf(path, sizeof(path), "%d/comm", pm->pid);
	n = read_small(dirfd(pm->proc), path, buf, sizeof(buf));
	if (n >= 0) {
		len = (size_t)n;
		if (len && buf[len - 1] == '\n')
			len--;
	} else {
		/* "pid (comm) state ...": comm may itself hold ')', so take the last. */
		char *open, *close;

		snprintf(path, sizeof(path), "%d/stat", pm->pid);
		n = read_small(dirfd(pm->proc), path, buf, sizeof(buf));
		if (n < 0)
			return false;
		open = strchr(buf, '(');
		close = strrchr(buf, ')');
		if (!open || !close || close < open)
			return false;
		name = open + 1;
		len = (size_t)(close - name);
	}
	sanitize(pm->comm, sizeof(pm->comm), name, len);
	return true;
}

static void attribute(struct procmap *pm, struct entry *e)
{
	e->known = true;
	e->owner.pid = pm->pid;
	memcpy(e->owner.comm, pm->comm, sizeof(e->owner.comm));
	pm->unknown--;
	if (e->unreadable) {
		e->unreadable = false;
		pm->unreadable--;
	}
}

/* Walk the descriptors of the current process; false when the budget ran out. */
static bool scan_fds(struct procmap *pm, int64_t deadline, size_t *found)
{
	struct dirent *de;
	unsigned count = 0;

	while (pm->unknown && (de = readdir(pm->fds))) {
		char link[64];
		struct entry *e;
		ssize_t n;

		if (deadline && ++count % PROCMAP_CLOCK_EVERY == 0 && mono_ns() >= deadline)
			return false;
		if (de->d_name[0] == '.')
			continue;
		/* A descriptor closed since readdir: skip it. */
		n = readlinkat(dirfd(pm->fds), de->d_name, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = '\0';
		e = find(pm, socket_inode(link));
		if (!e || e->known)
			continue;
		if (!pm->comm_state)
			pm->comm_state = read_comm(pm) ? 1 : -1;
		if (pm->comm_state < 0)
			break; /* the process exited meanwhile: silently skipped */
		attribute(pm, e);
		(*found)++;
	}
	end_pid(pm);
	return true;
}

static bool is_pid(const char *s, int *pid)
{
	long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 99999999)
			return false;
		v = v * 10 + (*s - '0');
	}
	*pid = (int)v;
	return v > 0;
}

/* Open the fd directory of the next process; false when the walk is over. */
static bool next_pid(struct procmap *pm)
{
	struct dirent *de;
	char path[32];
	int fd, pid;

	while ((de = readdir(pm->proc))) {
		if (!is_pid(de->d_name, &pid))
			continue;
		snprintf(path, sizeof(path), "%d/fd", pid);
		fd = openat(dirfd(pm->proc), path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			/* Gone since readdir is normal; anything else hides sockets from us. */
			if (errno != ENOENT && errno != ESRCH)
				pm->bad_dirs++;
			continue;
		}
		pm->fds = fdopendir(fd);
		if (!pm->fds) {
			close(fd);
			continue;
		}
		pm->pid = pid;
		pm->comm_state = 0;
		return true;
	}
	return false;
}

/* A pass is over: the inodes it could not place count as unreadable if it met closed doors. */
static void finish_pass(struct procmap *pm)
{
	end_pass(pm);
	pm->unreadable = 0;
	for (size_t i = 0; i < pm->cap; i++) {
		struct entry *e = &pm->tab[i];

		e->unreadable = e->inode && !e->known && pm->bad_dirs && e->pass < pm->pass;
		pm->unreadable += e->unreadable;
	}
}

bool procmap_first_pass(const struct procmap *pm)
{
	return pm->proc ? pm->pass == 1 : pm->root && pm->unknown && !pm->ever;
}

size_t procmap_scan(struct procmap *pm, int64_t now, int64_t budget_ns)
{
	int64_t deadline = budget_ns > 0 ? mono_ns() + budget_ns : 0;
	size_t found = 0;

	if (!pm->root)
		return 0;
	if (!pm->proc) {
		if (!pm->unknown)
			return 0;
		if (!pm->fresh && pm->ever && now - pm->last_begin < PROCMAP_RETRY_NS)
			return 0;
		pm->fresh = false;
		pm->ever = true;
		pm->last_begin = now;
		pm->proc = opendir(pm->root);
		if (!pm->proc)
			return 0;
		pm->pass++;
		pm->bad_dirs = 0;
	}
	/*
	 * Resume where the last call stopped. Each call gets at least one process
	 * or PROCMAP_CLOCK_EVERY descriptors done, so a tiny budget still progresses.
	 */
	for (bool first = true;; first = false) {
		if (pm->fds && !scan_fds(pm, deadline, &found))
			return found;
		if (!pm->unknown)
			break;
		if (!first && deadline && mono_ns() >= deadline)
			return found;
		if (!next_pid(pm))
			break;
	}
	finish_pass(pm);
	return found;
}
