/* notices.c - destroy notices read on a thread of their own: see notices.h. */
#include "config.h"
#include "notices.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>

#include "util.h"

/*
 * What the loop has not taken yet, at most: a loop that stopped taking
 * would otherwise grow it without end. Past it, notices count as lost and
 * a full dump resynchronises, as when the kernel's queue overflows.
 */
#define QUEUE_MAX ((size_t)64 << 20)
/* Datagrams read from one socket before looking at the others. */
#define DRAIN_MAX 256
/*
 * After a read, the thread rests this long before it looks again: woken
 * for each notice, it and the loop it wakes spent a quarter of their time
 * switching in and out under churn. What comes meanwhile is read at once,
 * stamped no more than this late.
 */
#define REST_NS (1 * NS_PER_MS)

/* A record in the queue: its header, then len bytes, padded to 8. */
struct rec {
	struct notice_when w;
	uint32_t ns, len;
};

struct buf {
	uint8_t *p;
	size_t len, cap;
};

/*
 * One watched socket. Watches are never freed while the thread runs (a
 * forgotten one is reused): an event the thread took before the socket was
 * forgotten still points at a watch, and finds e NULL.
 */
struct watch {
	struct diag_events *e; /* NULL: forgotten */
	uint32_t ns;
	struct watch *next;
};

struct notices {
	pthread_t thread;
	int epfd, stopfd, wakefd;
	/* io: held by the thread while it reads a socket, and to forget one. */
	pthread_mutex_t io;
	struct watch *watches;
	/* q: the queue the thread fills and the loop swaps out. */
	pthread_mutex_t q;
	struct buf fill, spare;
	unsigned long lost; /* losses since the loop last took */
	int64_t busy_since; /* reading since then (0: not): what it reads is stamped later */
	bool woken;	    /* the loop was woken and has not taken since */
};

static size_t rec_size(uint32_t len)
{
	return (sizeof(struct rec) + len + 7) & ~(size_t)7;
}

static void push(struct notices *n, uint32_t ns, const void *p, size_t len,
		 const struct notice_when *w)
{
	size_t need = rec_size((uint32_t)len);
	struct buf *b = &n->fill;

	pthread_mutex_lock(&n->q);
	if (b->len + need > QUEUE_MAX) {
		n->lost++;
	} else {
		if (b->len + need > b->cap) {
			b->cap = b->cap ? b->cap * 2 : 256 << 10;
			while (b->cap < b->len + need)
				b->cap *= 2;
			b->p = xrealloc(b->p, b->cap);
		}
		struct rec r = {*w, ns, (uint32_t)len};

		memcpy(b->p + b->len, &r, sizeof(r));
		memcpy(b->p + b->len + sizeof(r), p, len);
		b->len += need;
	}
	pthread_mutex_unlock(&n->q);
}

static void lose(struct notices *n)
{
	pthread_mutex_lock(&n->q);
	n->lost++;
	pthread_mutex_unlock(&n->q);
}

/* Read what one socket has queued (up to DRAIN_MAX datagrams); whether any came. */
static void set_busy(struct notices *n, int64_t since)
{
	pthread_mutex_lock(&n->q);
	n->busy_since = since;
	pthread_mutex_unlock(&n->q);
}

static bool drain(struct notices *n, struct watch *wt)
{
	/* The queue was empty then: everything read now was sent after it. */
	int64_t lo = diag_events_empty_at(wt->e);
	bool got = false;

	set_busy(n, mono_ns());
	for (int i = 0; i < DRAIN_MAX; i++) {
		const void *p;
		ssize_t len = diag_events_recv(wt->e, &p);
		struct notice_when w = {lo, mono_ns(), wall_ns()};

		if (len == -ENOBUFS) {
			lose(n);
			got = true;
			continue;
		}
		if (len < 0)
			break;
		push(n, wt->ns, p, (size_t)len, &w);
		got = true;
	}
	set_busy(n, 0);
	return got;
}

static void *reader(void *arg)
{
	struct notices *n = arg;
	struct epoll_event ev[16];

	for (;;) {
		int k = epoll_wait(n->epfd, ev, (int)ARRAY_SIZE(ev), -1);
		bool got = false;

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		for (int i = 0; i < k; i++) {
			struct watch *wt = ev[i].data.ptr;

			if (!wt)
				return NULL; /* notices_stop() */
			pthread_mutex_lock(&n->io);
			if (wt->e && drain(n, wt))
				got = true;
			pthread_mutex_unlock(&n->io);
		}
		if (got) {
			uint64_t one = 1;
			bool wake;

			pthread_mutex_lock(&n->q);
			wake = !n->woken;
			n->woken = true;
			pthread_mutex_unlock(&n->q);
			if (wake)
				(void)!write(n->wakefd, &one, sizeof(one));
			nanosleep(&(struct timespec){0, REST_NS}, NULL);
		}
	}
}

struct notices *notices_start(void)
{
	struct notices *n = xcalloc(1, sizeof(*n));
	struct epoll_event stop = {.events = EPOLLIN, .data.ptr = NULL};
	sigset_t all, old;
	int err;

	n->epfd = epoll_create1(EPOLL_CLOEXEC);
	n->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	n->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (n->epfd < 0 || n->stopfd < 0 || n->wakefd < 0 ||
	    epoll_ctl(n->epfd, EPOLL_CTL_ADD, n->stopfd, &stop) < 0)
		goto fail;
	pthread_mutex_init(&n->io, NULL);
	pthread_mutex_init(&n->q, NULL);
	/* Signals are the loop's: the thread takes none. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&n->thread, NULL, reader, n);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		errno = err;
		goto fail;
	}
	return n;
fail:
	err = errno;
	if (n->epfd >= 0)
		close(n->epfd);
	if (n->stopfd >= 0)
		close(n->stopfd);
	if (n->wakefd >= 0)
		close(n->wakefd);
	free(n);
	errno = err;
	return NULL;
}

int notices_fd(const struct notices *n)
{
	return n->wakefd;
}

int notices_watch(struct notices *n, struct diag_events *e, uint32_t ns)
{
	struct watch *wt;
	struct epoll_event ev = {.events = EPOLLIN};
	int r = 0;

	pthread_mutex_lock(&n->io);
	for (wt = n->watches; wt && wt->e; wt = wt->next)
		;
	if (!wt) {
		wt = xcalloc(1, sizeof(*wt));
		wt->next = n->watches;
		n->watches = wt;
	}
	wt->e = e;
	wt->ns = ns;
	ev.data.ptr = wt;
	if (epoll_ctl(n->epfd, EPOLL_CTL_ADD, diag_events_fd(e), &ev) < 0) {
		r = -errno;
		wt->e = NULL;
	}
	pthread_mutex_unlock(&n->io);
	return r;
}

void notices_forget(struct notices *n, struct diag_events *e)
{
	pthread_mutex_lock(&n->io);
	for (struct watch *wt = n->watches; wt; wt = wt->next)
		if (wt->e == e) {
			epoll_ctl(n->epfd, EPOLL_CTL_DEL, diag_events_fd(e), NULL);
			wt->e = NULL;
		}
	pthread_mutex_unlock(&n->io);
}

int64_t notices_horizon(struct notices *n)
{
	int64_t h = mono_ns();

	pthread_mutex_lock(&n->q);
	if (n->fill.len) {
		struct rec r;

		memcpy(&r, n->fill.p, sizeof(r));
		h = r.w.mono < h ? r.w.mono : h;
	}
	if (n->busy_since && n->busy_since < h)
		h = n->busy_since;
	pthread_mutex_unlock(&n->q);
	return h;
}

int notices_take(struct notices *n, notices_fn fn, void *arg)
{
	uint64_t count;
	unsigned long lost;
	struct buf b;

	(void)!read(n->wakefd, &count, sizeof(count));
	pthread_mutex_lock(&n->q);
	b = n->fill;
	n->fill = n->spare;
	n->spare = b;
	lost = n->lost;
	n->lost = 0;
	n->woken = false;
	pthread_mutex_unlock(&n->q);
	for (size_t off = 0; off < b.len;) {
		struct rec r;

		memcpy(&r, b.p + off, sizeof(r));
		fn(arg, r.ns, b.p + off + sizeof(r), r.len, &r.w);
		off += rec_size(r.len);
	}
	/* The thread fills the other buffer meanwhile; this one is empty for the next swap. */
	n->spare.len = 0;
	return lost ? -ENOBUFS : 0;
}

void notices_stop(struct notices *n)
{
	uint64_t one = 1;

	if (!n)
		return;
	(void)!write(n->stopfd, &one, sizeof(one));
	pthread_join(n->thread, NULL);
	close(n->epfd);
	close(n->stopfd);
	close(n->wakefd);
	pthread_mutex_destroy(&n->io);
	pthread_mutex_destroy(&n->q);
	while (n->watches) {
		struct watch *next = n->watches->next;

		free(n->watches);
		n->watches = next;
	}
	free(n->fill.p);
	free(n->spare.p);
	free(n);
}
