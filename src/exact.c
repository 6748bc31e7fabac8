#include "config.h"
#include "exact.h"

/*
 * The exact source: sock:inet_sock_set_state through perf_event_open, one
 * event per online CPU, each with its own ring. Samples from different
 * CPUs are merged by time before they reach the tracker, so that one
 * socket's changes (which may happen on several CPUs) arrive in order.
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "narrator.h"
#include "util.h"

#define TP_DIR "events/sock/inet_sock_set_state"
/*
 * 128 data pages + the control page is 516 KiB, exactly the default
 * perf_event_mlock_kb allowance per CPU of an unprivileged (CAP_PERFMON) user.
 */
#define RING_PAGES 128
#define MAX_CPUS 4096
/* How long a connect()'s SYN_SENT waits for its local port (see exact_release). */
#define HOLD_NS (NS_PER_SEC)

struct ring {
	int fd;
	void *base; /* the control page, then the data area */
	size_t maplen;
	uint8_t *data;
	uint64_t size;
};

struct exact {
	struct exact_format fmt;
	int epfd;
	int nring;
	struct ring *rings;
	uint8_t *scratch;
	struct exact_pending *pend;
	size_t npend, cap;
	uint64_t seq;
	uint64_t lost, bad;
	int64_t next_drain;
	const struct narrator *only;
	int64_t horizon; /* see exact_horizon() */
};

/* Which tracefs is mounted: its path, or NULL with err saying what is wrong. */
static const char *tracefs_find(char *err, size_t errlen)
{
	static const char *const dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	bool denied = false;

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		char path[256];
		struct stat st;
		snprintf(path, sizeof(path), "%s/events", dirs[i]);
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			return dirs[i];
		if (errno == EACCES)
			denied = true;
	}
	/*
	 * Not mounted: a fresh machine, or `ip netns exec`, which mounts a
	 * sysfs of its own. Root mounts it where it belongs, as perf does.
	 */
	if (!denied && geteuid() == 0 && mount("nodev", dirs[0], "tracefs", 0, NULL) == 0) {
		char path[256];
		struct stat st;
		snprintf(path, sizeof(path), "%s/events", dirs[0]);
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			return dirs[0];
	}
	if (denied)
		snprintf(err, errlen,
			 "exact: cannot read tracefs (permission denied): the exact source needs "
			 "root (or CAP_PERFMON with read access to /sys/kernel/tracing)");
	else
		snprintf(err, errlen,
			 "exact: tracefs is not mounted (looked in /sys/kernel/tracing and "
			 "/sys/kernel/debug/tracing%s); mount it as root with "
			 "'mount -t tracefs nodev /sys/kernel/tracing'",
			 geteuid() == 0 ? ", and could not mount it" : "");
	return NULL;
}

/* Read a small text file whole; NULL with errno set. */
static char *read_text(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t len = 0, cap = 8192;
	char *buf = xmalloc(cap);
	for (;;) {
		if (len + 1 >= cap) {
			if (cap >= (1 << 20)) {
				errno = EFBIG;
				break;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (n == 0) {
			buf[len] = '\0';
			close(fd);
			return buf;
		}
		len += (size_t)n;
	}
	int e = errno;
	free(buf);
	close(fd);
	errno = e;
	return NULL;
}

static int load_format(struct exact_format *f, char *err, size_t errlen)
{
	const char *tfs = tracefs_find(err, errlen);
	if (!tfs)
		return -1;
	char path[256];
	snprintf(path, sizeof(path), "%s/" TP_DIR "/format", tfs);
	char *text = read_text(path);
	if (!text) {
		if (errno == EACCES || errno == EPERM)
			snprintf(err, errlen,
				 "exact: cannot read %s (permission denied): the exact source needs "
				 "root (or CAP_PERFMON with read access to tracefs)",
				 path);
		else if (errno == ENOENT)
			snprintf(err, errlen,
				 "exact: %s is missing: this kernel has no sock:inet_sock_set_state "
				 "tracepoint (Linux 4.16 or later with CONFIG_TRACEPOINTS)",
				 path);
		else
			snprintf(err, errlen, "exact: cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	char why[256];
	int r = exact_parse_format(text, f, why, sizeof(why));
	free(text);
	if (r < 0) {
		snprintf(err, errlen, "exact: %s (%s)", why, path);
		return -1;
	}
	if (f->id == 0) {
		snprintf(path, sizeof(path), "%s/" TP_DIR "/id", tfs);
		text = read_text(path);
		if (text)
			f->id = (uint32_t)strtoul(text, NULL, 10);
		free(text);
		if (f->id == 0) {
			snprintf(err, errlen, "exact: no tracepoint id in %s", path);
			return -1;
		}
	}
	return 0;
}

static int paranoid_level(void)
{
	char *t = read_text("/proc/sys/kernel/perf_event_paranoid");
	int v = t ? atoi(t) : 2;
	free(t);
	return v;
}

static int open_ring(struct exact *x, struct ring *r, int cpu, char *err, size_t errlen)
{
	struct perf_event_attr a;
	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_TRACEPOINT;
	a.size = sizeof(a);
	a.config = x->fmt.id;
	a.sample_period = 1;
	a.sample_type = PERF_SAMPLE_TIME | PERF_SAMPLE_RAW;
	a.use_clockid = 1;
	a.clockid = CLOCK_MONOTONIC;
	/*
	 * Wake at every sample: quiet when nothing changes, and the changes
	 * reach the tracker before the next poll. In a burst the loop drains
	 * many samples per wakeup.
	 */
	a.wakeup_events = 1;

	r->fd = (int)syscall(SYS_perf_event_open, &a, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
	if (r->fd < 0) {
		int e = errno;
		if (e == EACCES || e == EPERM)
			snprintf(err, errlen,
				 "exact: perf_event_open refused (%s): the exact source needs root "
				 "or CAP_PERFMON (kernel.perf_event_paranoid is %d)",
				 strerror(e), paranoid_level());
		else if (e == ENOENT || e == EINVAL)
			snprintf(err, errlen,
				 "exact: perf_event_open on tracepoint %u failed on cpu %d: %s "
				 "(a kernel without CONFIG_PERF_EVENTS or without clockid support)",
				 x->fmt.id, cpu, strerror(e));
		else
			snprintf(err, errlen, "exact: perf_event_open on cpu %d: %s", cpu,
				 strerror(e));
		return -1;
	}
	/* Leave other protocols (SCTP, MPTCP) in the kernel; failure only costs decoding. */
	if (x->fmt.protocol.present)
		(void)ioctl(r->fd, PERF_EVENT_IOC_SET_FILTER, "protocol == 6");

	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	r->maplen = (RING_PAGES + 1) * page;
	r->base = mmap(NULL, r->maplen, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (r->base == MAP_FAILED) {
		int e = errno;
		r->base = NULL;
		snprintf(err, errlen,
			 "exact: cannot map the perf ring of cpu %d: %s%s", cpu, strerror(e),
			 e == EPERM ? " (raise kernel.perf_event_mlock_kb or run as root)" : "");
		return -1;
	}
	struct perf_event_mmap_page *mp = r->base;
	/* data_offset and data_size exist since Linux 4.1; before, the data follows the page. */
	r->data = (uint8_t *)r->base + (mp->data_offset ? mp->data_offset : page);
	r->size = mp->data_size ? mp->data_size : RING_PAGES * page;

	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)cpu };
	if (epoll_ctl(x->epfd, EPOLL_CTL_ADD, r->fd, &ev) < 0) {
		snprintf(err, errlen, "exact: epoll_ctl: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void exact_free(struct exact *x)
{
	for (int i = 0; i < x->nring; i++) {
		if (x->rings[i].base)
			munmap(x->rings[i].base, x->rings[i].maplen);
		if (x->rings[i].fd >= 0)
			close(x->rings[i].fd);
	}
	if (x->epfd >= 0)
		close(x->epfd);
	free(x->rings);
	free(x->scratch);
	free(x->pend);
	free(x);
}

/* What one drain collects: the source, and the loop for status lines. */
struct drain {
	struct exact *x;
	struct loop *l;
	uint64_t lost, bad;
	int64_t wall_offset;
};

static void on_record(void *ctx, const uint8_t *rec, size_t len)
{
	struct drain *d = ctx;
	struct exact *x = d->x;
	struct perf_event_header h;

	memcpy(&h, rec, sizeof(h));
	if (h.type == PERF_RECORD_LOST) {
		d->lost += exact_lost(rec, len);
		return;
	}
	if (h.type != PERF_RECORD_SAMPLE)
		return;
	if (x->npend == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 256;
		x->pend = xreallocarray(x->pend, x->cap, sizeof(*x->pend));
	}
	struct exact_pending *p = &x->pend[x->npend];
	memset(p, 0, sizeof(*p));
	int r = exact_decode_sample(&x->fmt, rec, len, &p->o, &p->sk);
	if (r < 0)
		d->bad++;
	if (r != 1)
		return;
	p->seq = x->seq++;
	x->npend++;
}

/* Hand one settled change to the loop, with its wall-clock time. */
static void deliver(void *ctx, const struct obs *o)
{
	struct drain *d = ctx;
	struct obs copy = *o;

	if (o->kind == OBS_CHANGE && !narrator_shows_key(d->x->only, &o->key))
		return;
	copy.wall = copy.mono + d->wall_offset;
	loop_observe(d->l, &copy);
}

static void drain_ring(struct exact *x, struct ring *r, struct drain *d)
{
	struct perf_event_mmap_page *mp = r->base;
	/* Acquire: the records are read only after the head that covers them. */
	uint64_t head = __atomic_load_n(&mp->data_head, __ATOMIC_ACQUIRE);
	uint64_t tail = mp->data_tail;
	if (exact_ring_walk(r->data, r->size, tail, head, x->scratch, on_record, d) < 0)
		d->bad++;
	/* Release: the kernel may reuse the space only after we are done reading it. */
	__atomic_store_n(&mp->data_tail, head, __ATOMIC_RELEASE);
}

static int exact_run(void *ctx, struct loop *l, int64_t now)
{
	struct exact *x = ctx;
	struct drain d = { .x = x, .l = l };
	struct epoll_event evs[16];

	/* Empty the epoll readiness; the rings are drained below whatever it says. */
	while (epoll_wait(x->epfd, evs, ARRAY_SIZE(evs), 0) == (int)ARRAY_SIZE(evs))
		;
	int64_t start = mono_ns();
	for (int i = 0; i < x->nring; i++)
		drain_ring(x, &x->rings[i], &d);
	if (d.lost) {
		x->lost += d.lost;
		/* The poller runs beside this source and repairs the table at its next dump. */
		loop_status(l, "exact: %llu events lost, resynchronising",
			    (unsigned long long)d.lost);
	}
	if (d.bad) {
		x->bad += d.bad;
		loop_status(l, "exact: %llu malformed samples skipped", (unsigned long long)d.bad);
	}

	/*
	 * One socket's changes are serialised by its lock, and each sample is
	 * in its ring before the lock is released: a sample stamped before
	 * start has every earlier change of its socket in a ring by the time
	 * we read the heads. Later ones wait for the next drain, as an earlier
	 * change of theirs may land in a ring we already read.
	 */
	d.wall_offset = wall_ns() - mono_ns();
	x->npend = exact_release(x->pend, x->npend, start, start - HOLD_NS, deliver, &d);

	/* Come back when the next kept change can go; new samples wake us anyway. */
	(void)now;
	x->next_drain = INT64_MAX;
	x->horizon = start;
	for (size_t i = 0; i < x->npend; i++) {
		const struct exact_pending *p = &x->pend[i];
		int64_t due = p->o.mono <= start ? p->o.mono + HOLD_NS : p->o.mono;
		if (due < x->next_drain)
			x->next_drain = due;
		if (p->o.mono < x->horizon)
			x->horizon = p->o.mono;
	}
	return 0;
}

/*
 * What is still to come was stamped after the last drain began, or is kept
 * back (a connect() waiting for its port): computed by each run, not per
 * question, as the loop asks after every observation.
 */
static int64_t exact_horizon(void *ctx)
{
	return ((struct exact *)ctx)->horizon;
}

static void exact_sync(void *ctx, struct loop *l)
{
	exact_run(ctx, l, mono_ns());
}

/*
 * Due at once while any ring holds samples: the loop asks before running
 * the other sources, so the tracker hears of a change before the poller's
 * dump or destroy notice that follows it.
 */
static int64_t exact_next_due(void *ctx)
{
	struct exact *x = ctx;
	for (int i = 0; i < x->nring; i++) {
		struct perf_event_mmap_page *mp = x->rings[i].base;
		if (__atomic_load_n(&mp->data_head, __ATOMIC_ACQUIRE) != mp->data_tail)
			return 0;
	}
	return x->next_drain;
}

static int exact_fd(void *ctx)
{
	struct exact *x = ctx;
	return x->epfd;
}

static void exact_describe(void *ctx, char *buf, size_t len)
{
	struct exact *x = ctx;
	if (x->lost)
		snprintf(buf, len, "exact (perf, %llu lost)", (unsigned long long)x->lost);
	else
		snprintf(buf, len, "exact (perf)");
}

static void exact_stats(void *ctx, struct source_stats *st)
{
	st->has = STAT_LOST;
	st->lost = ((struct exact *)ctx)->lost;
}

static void exact_close(void *ctx)
{
	exact_free(ctx);
}

static const struct source_ops exact_ops = {
	.name = "exact",
	.next_due = exact_next_due,
	.fd = exact_fd,
	.run = exact_run,
	.sync = exact_sync,
	.horizon = exact_horizon,
	.describe = exact_describe,
	.stats = exact_stats,
	.close = exact_close,
};

static int online_cpus(int *cpus, int max, char *err, size_t errlen)
{
	char *t = read_text("/sys/devices/system/cpu/online");
	int n = t ? exact_parse_cpus(t, cpus, max) : -1;
	free(t);
	if (n <= 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		if (c <= 0 || c > max) {
			snprintf(err, errlen, "exact: cannot tell which CPUs are online");
			return -1;
		}
		for (n = 0; n < c; n++)
			cpus[n] = n;
	}
	return n;
}

int exact_open(struct loop *l, const struct narrator *only, char *err, size_t errlen)
{
	struct exact *x = xcalloc(1, sizeof(*x));
	x->epfd = -1;
	x->only = only;
	if (load_format(&x->fmt, err, errlen) < 0)
		goto fail;

	int *cpus = xmalloc(MAX_CPUS * sizeof(*cpus));
	int ncpu = online_cpus(cpus, MAX_CPUS, err, errlen);
	if (ncpu < 0) {
		free(cpus);
		goto fail;
	}
	x->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (x->epfd < 0) {
		snprintf(err, errlen, "exact: epoll_create1: %s", strerror(errno));
		free(cpus);
		goto fail;
	}
	x->rings = xcalloc((size_t)ncpu, sizeof(*x->rings));
	for (int i = 0; i < ncpu; i++)
		x->rings[i].fd = -1;
	x->nring = ncpu;
	for (int i = 0; i < ncpu; i++) {
		if (open_ring(x, &x->rings[i], cpus[i], err, errlen) < 0) {
			free(cpus);
			goto fail;
		}
	}
	free(cpus);
	x->scratch = xmalloc(EXACT_SCRATCH);
	x->next_drain = INT64_MAX;
	loop_add_source(l, &exact_ops, x);
	return 0;
fail:
	exact_free(x);
	return -1;
}
