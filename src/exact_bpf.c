#include "config.h"
#include "exact_bpf.h"

/*
 * The exact source on eBPF: a tp_btf program on inet_sock_set_state (see
 * exact.bpf.c) writes every TCP state change, with the socket's cookie and
 * its namespace's cookie, to one BPF ring buffer; here they are read,
 * labelled with the namespace's index, and handed on in time order. The
 * kernel's filter of namespaces follows the table the poller fills.
 */

#include <stdio.h>
#include <string.h>

#include "util.h"

#ifndef HAVE_BPF

int exact_bpf_open(struct loop *l, const struct exact_bpf_opts *o, char *err, size_t errlen)
{
	(void)l;
	(void)o;
	snprintf(err, errlen,
		 "exact: this tcpdwell was built without eBPF (configure --enable-bpf "
		 "with clang, bpftool and libbpf-dev installed)");
	return -1;
}

#else

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "src/exact.skel.h" /* generated in the build tree */
#include "exact_rec.h"
#include "narrator.h"
#include "netns.h"
#include "nswatch.h"

/* Namespace cookies put in the kernel's map at a time. */
#define WATCH_BATCH 64
/*
 * Records read in one run at most: under a flood the loop still answers
 * keys and runs the poller between runs (the rest waits in the ring).
 */
#define DRAIN_MAX   32768
/*
 * Before a dump is applied, everything in the ring goes on (sync): a row
 * read after changes still in the ring would be applied before them, and
 * the changes then look like jumps. A flood that outruns the reader still
 * stops it after this many.
 */
#define SYNC_MAX    (16 * DRAIN_MAX)
/* Loss is said at most this often: under a flood, one line a second, not one per drain. */
#define SAY_LOST_NS NS_PER_SEC

struct xbpf {
	struct exact_bpf *skel;
	struct ring_buffer *rb;
	int epfd; /* the ring buffer's epoll descriptor, owned by rb */
	struct exact_bpf_queue q;
	struct netns_tab *tab;
	bool all;
	uint32_t synced, gen; /* cookies in the kernel's map: indexes below synced */
	bool gen_seen;
	uint64_t lost, lost_said, bad, unlabelled_said;
	size_t drained; /* records read in this run */
	size_t drain_max; /* DRAIN_MAX, or SYNC_MAX in a sync */
	int64_t lost_said_at, unlabelled_said_at;
	int64_t next_drain;
	const struct narrator *only;
	int64_t horizon; /* see xbpf_horizon() */
};

/* The loop to hand settled changes to, and the wall clock's offset for them. */
struct drain {
	struct xbpf *x;
	struct loop *l;
	int64_t wall_offset;
};

/* libbpf's last warning, for the error line: its own printing would go to the terminal. */
static char bpf_why[256];

static int keep_warning(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN) {
		size_t n;
		vsnprintf(bpf_why, sizeof(bpf_why), fmt, ap);
		n = strlen(bpf_why);
		while (n && (bpf_why[n - 1] == '\n' || bpf_why[n - 1] == ' '))
			bpf_why[--n] = '\0';
	}
	return 0;
}

static void xbpf_free(struct xbpf *x)
{
	ring_buffer__free(x->rb);
	exact_bpf__destroy(x->skel);
	exact_bpf_queue_free(&x->q);
	free(x);
}

/* Bring the kernel's filter in step with the namespaces the poller has found. */
static void sync_watch(struct xbpf *x, struct loop *l)
{
	uint64_t add[WATCH_BATCH];
	uint32_t mode;
	size_t n;
	const __u8 one = 1;

	x->gen = netns_tab_cookie_gen(x->tab);
	x->gen_seen = true;
	do {
		n = exact_bpf_watch(x->tab, x->all, &x->synced, add, WATCH_BATCH, &mode);
		for (size_t i = 0; i < n; i++)
			if (bpf_map_update_elem(bpf_map__fd(x->skel->maps.watched), &add[i], &one,
						BPF_ANY) < 0 &&
			    !x->all)
				loop_status(l,
					    "exact (eBPF): cannot add a namespace to the kernel's "
					    "filter: %s",
					    strerror(errno));
	} while (n == WATCH_BATCH);
	/* The map first, then the mode: a namespace never misses its records in between. */
	__atomic_store_n(&x->skel->data->watch_mode, mode, __ATOMIC_RELEASE);
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct xbpf *x = ctx;
	struct obs o;
	uint64_t netns;

	if (exact_bpf_decode(data, size, &o, &netns) == 1)
		exact_bpf_queue_push(&x->q, &o, netns);
	else
		x->bad++;
	/* Stops the read; libbpf has already consumed this record. */
	return ++x->drained < x->drain_max ? 0 : -E2BIG;
}

/* Hand one settled change to the loop, with its wall-clock time. */
static void deliver(void *ctx, const struct obs *o)
{
	struct drain *d = ctx;
	struct obs copy = *o;

	if (!narrator_shows_key(d->x->only, &o->key))
		return;
	copy.wall = copy.mono + d->wall_offset;
	loop_observe(d->l, &copy);
}

static void say_losses(struct xbpf *x, struct loop *l, int64_t now)
{
	uint64_t lost = __atomic_load_n(&x->skel->bss->lost, __ATOMIC_RELAXED);

	x->lost = lost;
	if (lost != x->lost_said && now - x->lost_said_at >= SAY_LOST_NS) {
		/* The poller runs beside this source and repairs the table at its next dump. */
		uint64_t n = lost - x->lost_said;

		loop_status(l,
			    "exact (eBPF): %llu change%s lost (ring buffer full), resynchronising",
			    (unsigned long long)n, n == 1 ? "" : "s");
		x->lost_said = lost;
		x->lost_said_at = now;
	}
	/* A namespace we may not enter (no CAP_SYS_ADMIN) drops all the time: once a second too. */
	if (x->q.unlabelled != x->unlabelled_said && now - x->unlabelled_said_at >= SAY_LOST_NS) {
		uint64_t n = x->q.unlabelled - x->unlabelled_said;

		loop_status(l,
			    "exact (eBPF): %llu change%s dropped: from a network namespace not "
			    "found or not entered in %d s",
			    (unsigned long long)n, n == 1 ? "" : "s",
			    (int)(EXACT_BPF_HOLD_NS / NS_PER_SEC));
		x->unlabelled_said = x->q.unlabelled;
		x->unlabelled_said_at = now;
	}
}

static int xbpf_run(void *ctx, struct loop *l, int64_t now)
{
	struct xbpf *x = ctx;
	struct drain d = {.x = x, .l = l};
	uint64_t bad = x->bad;
	int64_t start;
	int r;

	(void)now;
	if (!x->gen_seen || netns_tab_cookie_gen(x->tab) != x->gen)
		sync_watch(x, l);
	start = mono_ns();
	x->drained = 0;
	r = ring_buffer__consume(x->rb);
	if (r < 0 && r != -E2BIG)
		loop_status(l, "exact (eBPF): reading the ring buffer: %s", strerror(-r));
	if (x->bad != bad)
		loop_status(l, "exact (eBPF): %llu malformed records skipped",
			    (unsigned long long)(x->bad - bad));
	say_losses(x, l, start);

	/*
	 * One socket's records are in the ring in the order of its changes
	 * (they happen under its lock). Changes stamped after the drain began
	 * wait for the next one, so that those of all sockets go on in time order.
	 */
	d.wall_offset = wall_ns() - mono_ns();
	exact_bpf_queue_release(&x->q, x->tab, x->all || !netns_tab_cookie(x->tab, 0), start,
				mono_ns(), deliver, &d);
	x->next_drain = exact_bpf_queue_due(&x->q);
	x->horizon = exact_bpf_queue_oldest(&x->q);
	if (start < x->horizon)
		x->horizon = start;
	/* A loss not said yet is said when its second is up, even if the ring stays quiet. */
	if (x->lost != x->lost_said && x->lost_said_at + SAY_LOST_NS < x->next_drain)
		x->next_drain = x->lost_said_at + SAY_LOST_NS;
	if (x->q.unlabelled != x->unlabelled_said &&
	    x->unlabelled_said_at + SAY_LOST_NS < x->next_drain)
		x->next_drain = x->unlabelled_said_at + SAY_LOST_NS;
	return 0;
}

/*
 * What is still to come was stamped after the last drain began, or waits in
 * the queue (for its port, or its namespace's label): computed by each run,
 * not per question, as the loop asks after every observation.
 */
static int64_t xbpf_horizon(void *ctx)
{
	return ((struct xbpf *)ctx)->horizon;
}

static void xbpf_sync(void *ctx, struct loop *l)
{
	struct xbpf *x = ctx;

	x->drain_max = SYNC_MAX;
	xbpf_run(ctx, l, mono_ns());
	x->drain_max = DRAIN_MAX;
}

/*
 * Due at once when the ring holds records or the poller found a namespace:
 * the loop asks before running the other sources, so the tracker hears of a
 * change before the dump or destroy notice that follows it.
 */
static int64_t xbpf_next_due(void *ctx)
{
	struct xbpf *x = ctx;
	struct epoll_event ev;

	if (!x->gen_seen || netns_tab_cookie_gen(x->tab) != x->gen)
		return 0;
	if (epoll_wait(x->epfd, &ev, 1, 0) > 0)
		return 0;
	return x->next_drain;
}

static int xbpf_fd(void *ctx)
{
	struct xbpf *x = ctx;
	return x->epfd;
}

static void xbpf_describe(void *ctx, char *buf, size_t len)
{
	struct xbpf *x = ctx;
	if (x->lost)
		snprintf(buf, len, "exact (eBPF, %llu lost)", (unsigned long long)x->lost);
	else
		snprintf(buf, len, "exact (eBPF)");
}

static void xbpf_close(void *ctx)
{
	xbpf_free(ctx);
}

static const struct source_ops xbpf_ops = {
    .name = "exact",
    .next_due = xbpf_next_due,
    .fd = xbpf_fd,
    .run = xbpf_run,
    .sync = xbpf_sync,
    .horizon = xbpf_horizon,
    .describe = xbpf_describe,
    .close = xbpf_close,
};

/* Why the program would not load, in words a user can act on. */
static void load_error(int e, char *err, size_t errlen)
{
	if (e == EPERM || e == EACCES)
		snprintf(err, errlen,
			 "exact: loading the eBPF program refused (%s): it needs root, or "
			 "CAP_BPF and CAP_PERFMON",
			 strerror(e));
	else
		snprintf(err, errlen, "exact: cannot load the eBPF program: %s%s%s%s", strerror(e),
			 bpf_why[0] ? " (libbpf: " : "", bpf_why, bpf_why[0] ? ")" : "");
}

int exact_bpf_open(struct loop *l, const struct exact_bpf_opts *o, char *err, size_t errlen)
{
	struct xbpf *x;
	int r;

	/* CO-RE relocates against the running kernel's BTF: without it nothing loads. */
	if (access("/sys/kernel/btf/vmlinux", R_OK) < 0) {
		snprintf(err, errlen,
			 "exact: the kernel has no readable BTF (/sys/kernel/btf/vmlinux: %s): "
			 "the eBPF source needs a kernel built with CONFIG_DEBUG_INFO_BTF",
			 strerror(errno));
		return -1;
	}
	if (!loop_netns(l)) {
		snprintf(err, errlen, "exact: no namespace table to label changes with");
		return -1;
	}
	/* Without namespace cookies (before Linux 5.14) no record could be labelled. */
	if (!nswatch_cookie_here()) {
		snprintf(err, errlen,
			 "exact: this kernel does not tell a network namespace's cookie "
			 "(SO_NETNS_COOKIE, Linux 5.14): the eBPF source could not label changes");
		return -1;
	}
	bpf_why[0] = '\0';
	libbpf_set_print(keep_warning);
	x = xcalloc(1, sizeof(*x));
	x->tab = loop_netns(l);
	x->all = o->all;
	x->only = o->only;
	x->next_drain = INT64_MAX;
	x->epfd = -1;
	x->drain_max = DRAIN_MAX;
	x->skel = exact_bpf__open();
	if (!x->skel) {
		load_error(errno, err, errlen);
		goto fail;
	}
	if ((r = exact_bpf__load(x->skel)) < 0) {
		load_error(-r, err, errlen);
		goto fail;
	}
	if ((r = exact_bpf__attach(x->skel)) < 0) {
		load_error(-r, err, errlen);
		goto fail;
	}
	x->rb = ring_buffer__new(bpf_map__fd(x->skel->maps.events), on_record, x, NULL);
	if (!x->rb) {
		snprintf(err, errlen, "exact: cannot map the eBPF ring buffer: %s",
			 strerror(errno));
		goto fail;
	}
	x->epfd = ring_buffer__epoll_fd(x->rb);
	loop_add_source(l, &xbpf_ops, x);
	return 0;
fail:
	xbpf_free(x);
	return -1;
}

#endif
