#include "config.h"
#include "loop.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "filter.h"
#include "order.h"
#include "sig.h"
#include "util.h"

#define LOOP_MAX 8
/* How long the sources' descriptors rest after one woke the loop (see loop_run). */
#define LOOP_BATCH_NS (NS_PER_MS)
/* Transitions in order the loop hands on in one turn at least (see loop_run). */
#define ORDER_BATCH 4096

struct loop_source {
	const struct source_ops *ops;
	void *ctx;
};

struct loop_sink {
	const struct sink_ops *ops;
	void *ctx;
};

struct loop_signal {
	int sig;
	loop_signal_fn fn;
	void *arg;
};

struct loop {
	struct track *t;
	struct netns_tab *labels;
	struct filter *filter;
	struct loop_source src[LOOP_MAX];
	struct loop_sink snk[LOOP_MAX];
	size_t nsrc, nsnk;
	struct loop_signal sigs[LOOP_MAX];
	size_t nsigs;
	int sigfd;
	bool quit;
	int status;
	char msg[256];
	int64_t msg_when;
	FILE *echo;
	struct order *ord;   /* transitions held for timed() sinks; NULL when none wants them */
	size_t held_in;	     /* transitions held since the loop last handed some on */
	struct warmer *warm; /* faulting in a first dump's memory, until the dump is observed */
	size_t expected;     /* the size of that first dump, about */
};

struct loop *loop_new(struct track *t)
{
	struct loop *l = xcalloc(1, sizeof(*l));

	l->t = t;
	l->sigfd = -1;
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	warm_join(l->warm);
	/* Sinks first: the recorder closes its file before the sources go. */
	for (size_t i = 0; i < l->nsnk; i++)
		if (l->snk[i].ops->close)
			l->snk[i].ops->close(l->snk[i].ctx);
	for (size_t i = 0; i < l->nsrc; i++)
		if (l->src[i].ops->close)
			l->src[i].ops->close(l->src[i].ctx);
	filter_free(l->filter);
	order_free(l->ord);
	free(l);
}

void loop_add_source(struct loop *l, const struct source_ops *ops, void *ctx)
{
	if (l->nsrc == LOOP_MAX)
		abort();
	l->src[l->nsrc++] = (struct loop_source){ops, ctx};
}

static void sink_event(void *arg, const struct track_event *ev)
{
	struct loop_sink *s = arg;
	s->ops->event(s->ctx, ev);
}

/* A transition for the timed() sinks: held until none earlier can come. */
static void hold_event(void *arg, const struct track_event *ev)
{
	struct loop *l = arg;

	order_push(l->ord, ev);
	l->held_in++;
}

static void timed_event(void *arg, const struct track_event *ev)
{
	struct loop *l = arg;

	for (size_t i = 0; i < l->nsnk; i++)
		if (l->snk[i].ops->timed)
			l->snk[i].ops->timed(l->snk[i].ctx, ev);
}

void loop_add_sink(struct loop *l, const struct sink_ops *ops, void *ctx)
{
	if (l->nsnk == LOOP_MAX)
		abort();
	l->snk[l->nsnk] = (struct loop_sink){ops, ctx};
	if (ops->event)
		track_listen(l->t, sink_event, &l->snk[l->nsnk]);
	if (ops->timed && !l->ord) {
		l->ord = order_new();
		track_listen(l->t, hold_event, l);
	}
	l->nsnk++;
}

struct track *loop_track(struct loop *l)
{
	return l->t;
}

void loop_set_netns(struct loop *l, struct netns_tab *labels)
{
	l->labels = labels;
}

struct netns_tab *loop_netns(const struct loop *l)
{
	return l->labels;
}

void loop_set_filter(struct loop *l, struct filter *f)
{
	struct filter *old = l->filter;

	l->filter = f;
	for (size_t i = 0; i < l->nsrc; i++)
		if (l->src[i].ops->refilter)
			l->src[i].ops->refilter(l->src[i].ctx, l, f);
	filter_free(old);
}

const struct filter *loop_filter(const struct loop *l)
{
	return l->filter;
}

void loop_expect(struct loop *l, size_t n, struct span first)
{
	struct span v[6];
	size_t k = 0;

	l->expected = n;
	if (first.len)
		v[k++] = first;
	k += track_reserve(l->t, n, v + k, ARRAY_SIZE(v) - k);
	warm_join(l->warm);
	l->warm = warm_start(v, k);
}

size_t loop_expected(const struct loop *l)
{
	return l->expected;
}

int64_t loop_horizon(const struct loop *l)
{
	int64_t h = track_horizon(l->t), now = loop_now(l);

	for (size_t i = 0; i < l->nsrc; i++) {
		int64_t s = l->src[i].ops->horizon ? l->src[i].ops->horizon(l->src[i].ctx) : now;

		h = s < h ? s : h;
	}
	return h;
}

/*
 * Hand the timed() sinks up to max transitions held that none earlier can
 * precede now; true when more could go.
 */
static bool release(struct loop *l, size_t max)
{
	struct source_state st;
	int64_t h;

	if (!l->ord || !order_held(l->ord))
		return false;
	/*
	 * A replay at its end in the view stays open, but no dump will come to
	 * decide what the tracker waits for: nothing earlier can come.
	 */
	loop_source_state(l, &st);
	h = st.at_end ? INT64_MAX : loop_horizon(l);
	order_release(l->ord, h, max, timed_event, l);
	return order_oldest(l->ord) <= h;
}

void loop_observe(struct loop *l, const struct obs *o)
{
	/*
	 * The tracker may be used once the thread has filled its new index
	 * (track_reserve()); it would also wait page by page where the thread
	 * still works.
	 */
	warm_join(l->warm);
	l->warm = NULL;
	switch (o->kind) {
	case OBS_SNAPSHOT:
		/* A dump that failed midway would make every socket look gone. */
		if (!o->snap || !o->snap->complete)
			return;
		track_apply(l->t, o->snap);
		break;
	case OBS_DESTROY:
		track_destroyed(l->t, &o->sock, o->lo, o->mono,
				o->info ? (int64_t)o->info->last_ack_recv_ms * NS_PER_MS : -1, o->wall);
		break;
	case OBS_CHANGE:
		track_changed(l->t, &o->key, o->cookie, o->from, o->to, o->mono, o->wall);
		break;
	case OBS_NOTE:
		if (o->note)
			loop_status(l, "%s", o->note);
		break;
	case OBS_SEGMENT:
		/*
		 * The tracker learns states from the kernel, not from the wire.
		 * Nor does expiry run on its time: a state entry is handed on
		 * after the observation that caused it, a little behind.
		 */
		goto sinks;
	}
	track_expire(l->t, o->mono);
sinks:
	for (size_t i = 0; i < l->nsnk; i++)
		if (l->snk[i].ops->observe)
			l->snk[i].ops->observe(l->snk[i].ctx, l, o);
}

int loop_control(struct loop *l, enum source_ctl c, double arg)
{
	int ret = -ENOTSUP;

	for (size_t i = 0; i < l->nsrc; i++)
		if (l->src[i].ops->control && l->src[i].ops->control(l->src[i].ctx, l, c, arg) == 0)
			ret = 0;
	return ret;
}

int64_t loop_now(const struct loop *l)
{
	if (l->nsrc && l->src[0].ops->clock)
		return l->src[0].ops->clock(l->src[0].ctx);
	return mono_ns();
}

int loop_sock_info(struct loop *l, const struct sock *s, struct sock_info *out)
{
	int r = -ENOENT;

	for (size_t i = 0; i < l->nsrc; i++)
		if (l->src[i].ops->info && (r = l->src[i].ops->info(l->src[i].ctx, s, out)) == 0)
			return 0;
	return r;
}

int loop_destroy(struct loop *l, const struct sock *s)
{
	for (size_t i = 0; i < l->nsrc; i++)
		if (l->src[i].ops->destroy)
			return l->src[i].ops->destroy(l->src[i].ctx, s);
	return -ENOSYS;
}

void loop_source_state(const struct loop *l, struct source_state *st)
{
	memset(st, 0, sizeof(*st));
	if (l->nsrc && l->src[0].ops->state)
		l->src[0].ops->state(l->src[0].ctx, st);
}

void loop_describe(struct loop *l, char *buf, size_t len)
{
	if (l->nsrc && l->src[0].ops->describe)
		l->src[0].ops->describe(l->src[0].ctx, buf, len);
	else
		snprintf(buf, len, "%s", l->nsrc ? l->src[0].ops->name : "none");
}

size_t loop_source_stats(const struct loop *l, const char **names, struct source_stats *st,
			 size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < l->nsrc && n < cap; i++) {
		if (!l->src[i].ops->stats)
			continue;
		names[n] = l->src[i].ops->name;
		st[n] = (struct source_stats){0};
		l->src[i].ops->stats(l->src[i].ctx, &st[n]);
		n++;
	}
	return n;
}

void loop_reset(struct loop *l)
{
	track_reset(l->t);
	if (l->ord)
		order_reset(l->ord);
	for (size_t i = 0; i < l->nsnk; i++)
		if (l->snk[i].ops->reset)
			l->snk[i].ops->reset(l->snk[i].ctx);
}

void loop_flush(struct loop *l)
{
	if (l->ord)
		order_flush(l->ord, timed_event, l);
}

void loop_sync(struct loop *l)
{
	for (size_t i = 0; i < l->nsrc; i++)
		if (l->src[i].ops->sync)
			l->src[i].ops->sync(l->src[i].ctx, l);
}

void loop_quit(struct loop *l, int status)
{
	if (!l->quit)
		l->status = status;
	l->quit = true;
}

bool loop_quitting(const struct loop *l)
{
	return l->quit;
}

static void __attribute__((format(printf, 2, 0)))
set_msg(struct loop *l, const char *fmt, va_list ap)
{
	vsnprintf(l->msg, sizeof(l->msg), fmt, ap);
	l->msg_when = mono_ns();
}

void loop_status(struct loop *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_msg(l, fmt, ap);
	va_end(ap);
	if (l->echo) {
		fprintf(l->echo, "tcpdwell: %s\n", l->msg);
		fflush(l->echo);
	}
}

void loop_note(struct loop *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_msg(l, fmt, ap);
	va_end(ap);
}

void loop_echo(struct loop *l, FILE *out)
{
	l->echo = out;
}

const char *loop_last_status(const struct loop *l, int64_t *when)
{
	if (when)
		*when = l->msg_when;
	return l->msg_when ? l->msg : NULL;
}

static void tick_sinks(struct loop *l, int64_t now)
{
	for (size_t i = 0; i < l->nsnk && !l->quit; i++)
		if (l->snk[i].ops->tick)
			l->snk[i].ops->tick(l->snk[i].ctx, l, now);
}

static void run_source(struct loop *l, struct loop_source *s, int64_t now)
{
	int r = s->ops->run(s->ctx, l, now);

	if (r == 1) {
		/* A recording ran out: let the sinks finish, then stop. */
		tick_sinks(l, now);
		loop_quit(l, 0);
	} else if (r < 0) {
		loop_status(l, "%s: %s", s->ops->name, strerror(-r));
	}
}

static int64_t next_deadline(struct loop *l)
{
	int64_t next = INT64_MAX;

	for (size_t i = 0; i < l->nsrc; i++)
		if (l->src[i].ops->next_due) {
			int64_t d = l->src[i].ops->next_due(l->src[i].ctx);
			next = d < next ? d : next;
		}
	for (size_t i = 0; i < l->nsnk; i++)
		if (l->snk[i].ops->next_due) {
			int64_t d = l->snk[i].ops->next_due(l->snk[i].ctx);
			next = d < next ? d : next;
		}
	return next;
}

void loop_on_signal(struct loop *l, int sig, loop_signal_fn fn, void *arg)
{
	size_t i = 0;

	while (i < l->nsigs && l->sigs[i].sig != sig)
		i++;
	if (i == LOOP_MAX)
		abort();
	l->sigs[i] = (struct loop_signal){sig, fn, arg};
	if (i == l->nsigs)
		l->nsigs++;
}

static void on_signal(struct loop *l)
{
	int sig;

	while ((sig = sig_read(l->sigfd)) > 0) {
		size_t i = 0;

		while (i < l->nsigs && l->sigs[i].sig != sig)
			i++;
		if (i < l->nsigs)
			l->sigs[i].fn(l->sigs[i].arg, l, mono_ns());
		/* A child nobody asked about ended: no reason to stop. */
		else if (sig != SIGCHLD)
			loop_quit(l, 0);
	}
}

int loop_run(struct loop *l)
{
	struct pollfd pfd[1 + 2 * LOOP_MAX];
	/* What each pollfd belongs to: -1 signals, 0..LOOP_MAX-1 sources, LOOP_MAX.. sinks. */
	int owner[1 + 2 * LOOP_MAX];

	/*
	 * Under churn the kernel has news thousands of times a second (destroy
	 * notices, exact samples): woken for each, the loop spent a quarter of
	 * its time switching in and out. After a source's descriptor woke it,
	 * the sources' descriptors rest for LOOP_BATCH_NS, then what came
	 * meanwhile is read at once. Signals and keys are never held back, and
	 * the exact source's times are the kernel's own.
	 */
	int64_t src_rest_until = 0;

	if (l->sigfd < 0)
		l->sigfd = sig_setup();
	while (!l->quit) {
		int64_t now = mono_ns(), next, wait_ns;
		bool behind;
		nfds_t n = 0;
		struct timespec ts;
		bool src_rest = now < src_rest_until;

		for (size_t i = 0; i < l->nsrc && !l->quit; i++)
			if (l->src[i].ops->next_due &&
			    l->src[i].ops->next_due(l->src[i].ctx) <= now) {
				run_source(l, &l->src[i], now);
				now = mono_ns();
			}
		/*
		 * Transitions in order go between reads of the sources: a full
		 * dump under churn lets a second of them go at once, and handed
		 * on in one go they kept the kernel's buffers unread until some
		 * overflowed. Twice what came in since, so that none pile up.
		 */
		behind = release(l, l->held_in > ORDER_BATCH / 2 ? 2 * l->held_in : ORDER_BATCH);
		l->held_in = 0;
		for (size_t i = 0; i < l->nsnk && !l->quit; i++)
			if (l->snk[i].ops->next_due &&
			    l->snk[i].ops->next_due(l->snk[i].ctx) <= now)
				l->snk[i].ops->tick(l->snk[i].ctx, l, now);
		if (l->quit)
			break;

		if (l->sigfd >= 0) {
			pfd[n] = (struct pollfd){.fd = l->sigfd, .events = POLLIN};
			owner[n++] = -1;
		}
		for (size_t i = 0; i < l->nsrc && !src_rest; i++) {
			int fd = l->src[i].ops->fd ? l->src[i].ops->fd(l->src[i].ctx) : -1;
			if (fd >= 0) {
				pfd[n] = (struct pollfd){.fd = fd, .events = POLLIN};
				owner[n++] = (int)i;
			}
		}
		for (size_t i = 0; i < l->nsnk; i++) {
			int fd = l->snk[i].ops->fd ? l->snk[i].ops->fd(l->snk[i].ctx) : -1;
			if (fd >= 0) {
				pfd[n] = (struct pollfd){.fd = fd, .events = POLLIN};
				owner[n++] = LOOP_MAX + (int)i;
			}
		}
		next = behind ? 0 : next_deadline(l);
		now = mono_ns();
		wait_ns = next == INT64_MAX ? NS_PER_SEC : next - now;
		if (src_rest && wait_ns > src_rest_until - now)
			wait_ns = src_rest_until - now;
		if (wait_ns < 0)
			wait_ns = 0;
		ts.tv_sec = wait_ns / NS_PER_SEC;
		ts.tv_nsec = wait_ns % NS_PER_SEC;
		int r = ppoll(pfd, n, &ts, NULL);
		if (r < 0) {
			if (errno != EINTR) {
				loop_status(l, "poll: %s", strerror(errno));
				loop_quit(l, 1);
			}
			/* A resize (SIGWINCH is handled by curses) or another signal: let inputs
			 * look. */
			for (size_t i = 0; i < l->nsnk; i++)
				if (l->snk[i].ops->input)
					l->snk[i].ops->input(l->snk[i].ctx, l);
			continue;
		}
		for (nfds_t i = 0; i < n && !l->quit; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (owner[i] < 0)
				on_signal(l);
			else if (owner[i] < LOOP_MAX) {
				run_source(l, &l->src[owner[i]], mono_ns());
				src_rest_until = mono_ns() + LOOP_BATCH_NS;
			} else if (l->snk[owner[i] - LOOP_MAX].ops->input)
				l->snk[owner[i] - LOOP_MAX].ops->input(
				    l->snk[owner[i] - LOOP_MAX].ctx, l);
		}
	}
	/* The end of the stream: nothing earlier can come now. */
	loop_flush(l);
	return l->status;
}
