/* nswatch.c - namespaces by name, path or a scan of /run/netns and /proc; setns there and back. */
#include "config.h"
#include "nswatch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "util.h"

#define RUN_NETNS "/run/netns"
#ifndef NS_GET_NSTYPE
#define NS_GET_NSTYPE _IO(0xb7, 0x3)
#endif

#define NSFS_MAGIC_	  0x6e736673
#define PROC_SUPER_MAGIC_ 0x9fa0

/*
 * fd is a network namespace. Kernels before 4.11 cannot say which kind: a
 * namespace file there is at least one (nsfs, or proc before 3.19), and
 * setns() tells the rest.
 */
static bool is_netns(int fd)
{
	int t = ioctl(fd, NS_GET_NSTYPE);
	struct statfs sf;

	if (t >= 0)
		return t == CLONE_NEWNET;
	return fstatfs(fd, &sf) == 0 &&
	       (sf.f_type == NSFS_MAGIC_ || sf.f_type == PROC_SUPER_MAGIC_);
}

int nswatch_resolve(const char *arg, struct nswatch_ns *ns, char *err, size_t errlen)
{
	bool named = !strchr(arg, '/') && strcmp(arg, ".") && strcmp(arg, "..");
	struct stat st;
	int fd, e;

	memset(ns, 0, sizeof(*ns));
	if (!*arg) {
		snprintf(err, errlen,
			 "empty network namespace name (ip netns list shows the named ones)");
		return -EINVAL;
	}
	if (named)
		snprintf(ns->path, sizeof(ns->path), "%s/%s", RUN_NETNS, arg);
	else
		snprintf(ns->path, sizeof(ns->path), "%s", arg);
	snprintf(ns->label, sizeof(ns->label), "%s", arg);
	fd = open(ns->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		if (e == ENOENT)
			snprintf(err, errlen, "cannot open network namespace '%s': no such file%s",
				 arg, named ? " (ip netns list shows the named ones)" : "");
		else
			snprintf(err, errlen, "cannot open network namespace '%s': %s%s", arg,
				 strerror(e), e == EACCES ? " (run as root)" : "");
		return -e;
	}
	if (fstat(fd, &st) < 0 || !is_netns(fd)) {
		close(fd);
		snprintf(err, errlen,
			 "cannot use '%s' as a network namespace: not a network namespace file "
			 "(a name under " RUN_NETNS " or a path such as /proc/PID/ns/net)",
			 arg);
		return -EINVAL;
	}
	ns->dev = st.st_dev;
	ns->ino = st.st_ino;
	close(fd);
	return 0;
}

static bool stat_ns(const char *path, dev_t *dev, ino_t *ino)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return false;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return true;
}

static struct nswatch_ns *find(struct nswatch_ns *v, size_t n, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].dev == dev && v[i].ino == ino)
			return &v[i];
	return NULL;
}

static struct nswatch_ns *add(struct nswatch_ns **v, size_t *n, size_t *cap, dev_t dev, ino_t ino)
{
	struct nswatch_ns *ns;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*v = xreallocarray(*v, *cap, sizeof(**v));
	}
	ns = &(*v)[(*n)++];
	memset(ns, 0, sizeof(*ns));
	ns->dev = dev;
	ns->ino = ino;
	return ns;
}

/* "pid 1234 (nginx)", the command sanitised: a process name is not trusted text. */
static void pid_label(struct nswatch_ns *ns, pid_t pid)
{
	char path[64], comm[64] = "", safe[40];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, comm, sizeof(comm) - 1);
		close(fd);
		comm[n > 0 ? n : 0] = '\0';
		comm[strcspn(comm, "\n")] = '\0';
	}
	sanitize(safe, sizeof(safe), comm, strlen(comm));
	snprintf(ns->label, sizeof(ns->label), "pid %d (%s)", (int)pid, safe);
}

size_t nswatch_scan(struct nswatch_ns **v, size_t *cap, size_t *unreadable)
{
	size_t n = 0;
	dev_t dev, idev;
	ino_t ino, iino;
	struct nswatch_ns *ns;
	struct dirent *de;
	DIR *d;

	*unreadable = 0;
	if (!stat_ns("/proc/self/ns/net", &dev, &ino))
		return 0;
	ns = add(v, &n, cap, dev, ino);
	snprintf(ns->path, sizeof(ns->path), "/proc/self/ns/net");
	snprintf(ns->label, sizeof(ns->label), "%s",
		 stat_ns("/proc/1/ns/net", &idev, &iino) && idev == dev && iino == ino ? "host"
										       : "self");
	if ((d = opendir(RUN_NETNS))) {
		while ((de = readdir(d))) {
			char path[288];

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", RUN_NETNS, de->d_name);
			if (!stat_ns(path, &dev, &ino))
				continue;
			ns = find(*v, n, dev, ino);
			if (!ns) {
				ns = add(v, &n, cap, dev, ino);
				snprintf(ns->path, sizeof(ns->path), "%s", path);
			} else if (ns != *v || strcmp(ns->label, "self")) {
				/* Two names for one namespace: the first listed; "host" says more.
				 */
				continue;
			}
			snprintf(ns->label, sizeof(ns->label), "%.*s", NETNS_LABEL_MAX - 1,
				 de->d_name);
		}
		closedir(d);
	}
	if (!(d = opendir("/proc")))
		return n;
	while ((de = readdir(d))) {
		char path[64], *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/ns/net", pid);
		if (!stat_ns(path, &dev, &ino)) {
			/* Gone since readdir, or not ours to look at. */
			if (errno == EACCES || errno == EPERM)
				(*unreadable)++;
			continue;
		}
		ns = find(*v, n, dev, ino);
		if (!ns) {
			ns = add(v, &n, cap, dev, ino);
			ns->pid = (pid_t)pid;
			snprintf(ns->path, sizeof(ns->path), "%s", path);
			pid_label(ns, (pid_t)pid);
		} else if (ns->pid && pid < ns->pid) {
			/* /proc is listed in order, but pids wrap: the lowest names it. */
			ns->pid = (pid_t)pid;
			snprintf(ns->path, sizeof(ns->path), "%s", path);
			pid_label(ns, (pid_t)pid);
		}
	}
	closedir(d);
	return n;
}

int nswatch_run_in(const struct nswatch_ns *ns, int (*fn)(void *arg), void *arg)
{
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), fd, r, e;
	struct stat st;

	if (self < 0)
		return -errno;
	fd = open(ns->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		close(self);
		return e == ENOENT ? -ESRCH : -e;
	}
	/* A pid may be reused, a name given to another namespace since it was found. */
	if (fstat(fd, &st) < 0 || st.st_dev != ns->dev || st.st_ino != ns->ino) {
		close(fd);
		close(self);
		return -ESRCH;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		e = errno;
		close(fd);
		close(self);
		return -e;
	}
	close(fd);
	r = fn(arg);
	/*
	 * Back home: we could enter, so we can return. If not, every socket
	 * opened from now on would be in the wrong namespace: the caller stops.
	 */
	e = setns(self, CLONE_NEWNET) < 0;
	close(self);
	return e ? -ENOTRECOVERABLE : r;
}

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

uint64_t nswatch_cookie_here(void)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);
	/* Any socket tells its namespace; a datagram one in AF_UNIX needs nothing else. */
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) < 0 || len != sizeof(cookie))
		cookie = 0;
	close(fd);
	return cookie;
}
