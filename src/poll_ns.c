/* poll_ns.c - the poller's namespaces: sockets made inside each, dumps across them, rescans. */
#include "config.h"
#include "poll_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netns.h"
#include "notices.h"
#include "util.h"

/* How often every namespace on the box is looked for again (a container starting). */
#define RESCAN_NS (3 * NS_PER_SEC)
/* A socket is gone when a second full dump lacks it: a vanished namespace is empty twice. */
#define VANISH_DUMPS 2

const char *poll_hint(int err)
{
	switch (err) {
	case EPERM:
	case EACCES:
		return " (refused: a sandbox or seccomp policy?)";
	case EPROTONOSUPPORT:
	case ENOENT:
	case EOPNOTSUPP:
		return " (is the kernel built with inet_diag and tcp_diag?)";
	default:
		return "";
	}
}

struct opener {
	struct poll_ns *ns;
	bool events;
	bool want_hint; /* one namespace watched: its first dump is sized from this */
	int events_err;
	size_t hint;	 /* sockets the kernel counts there, for the first dump's room */
	uint64_t cookie; /* the namespace's cookie, for the eBPF source's records */
};

/* Runs inside the namespace: what is opened here stays here. */
static int open_here(void *arg)
{
	struct opener *op = arg;

	op->ns->diag = diag_open();
	if (!op->ns->diag)
		return -errno;
	if (op->events && !(op->ns->events = diag_events_open()))
		op->events_err = errno;
	if (op->want_hint)
		op->hint = diag_count_hint();
	op->cookie = nswatch_cookie_here();
	return 0;
}

static void ns_shut(struct poll_nsset *s, struct poll_ns *ns)
{
	if (s->nt && ns->events)
		notices_forget(s->nt, ns->events);
	diag_close(ns->diag);
	diag_events_close(ns->events);
	ns->diag = NULL;
	ns->events = NULL;
}

static struct poll_ns *ns_add(struct poll_nsset *s, const struct nswatch_ns *id)
{
	struct poll_ns *ns;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4;
		s->v = xreallocarray(s->v, s->cap, sizeof(*s->v));
	}
	ns = &s->v[s->n++];
	memset(ns, 0, sizeof(*ns));
	if (id)
		ns->id = *id;
	return ns;
}

static const char *enter_hint(int err)
{
	switch (err) {
	case EPERM:
		return " (entering another namespace needs CAP_SYS_ADMIN: run as root)";
	case ESRCH:
		return " (it is gone)";
	default:
		return "";
	}
}

/* Open one namespace found by a scan; false when it cannot be entered. */
static bool open_found(struct poll_nsset *s, struct loop *l, const struct nswatch_ns *id, bool self)
{
	struct poll_ns *ns = ns_add(s, id);
	struct opener op = {.ns = ns, .events = s->events};
	int r = self ? open_here(&op) : nswatch_run_in(id, open_here, &op);

	if (r == -ENOTRECOVERABLE) {
		/* Stranded elsewhere: stop through the loop, which restores the terminal. */
		loop_status(l, "netns %s: cannot return to our own network namespace: stopping",
			    id->label);
		loop_quit(l, 1);
	}
	if (r < 0) {
		ns_shut(s, ns);
		s->n--;
		s->refused++;
		s->refused_err = -r;
		return false;
	}
	ns->idx = s->next_idx++;
	netns_tab_set(s->labels, ns->idx, id->label);
	netns_tab_set_cookie(s->labels, ns->idx, op.cookie);
	if (ns->events && (r = notices_watch(s->nt, ns->events, ns->idx)) < 0) {
		diag_events_close(ns->events);
		ns->events = NULL;
		op.events_err = -r;
	}
	if (!ns->events && s->events)
		loop_status(l, "netns %s: destroy notices unavailable: %s", id->label,
			    strerror(op.events_err));
	return true;
}

static bool same_ns(const struct nswatch_ns *a, const struct nswatch_ns *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

static bool found_in(const struct nswatch_ns *v, size_t n, const struct nswatch_ns *id)
{
	for (size_t i = 0; i < n; i++)
		if (same_ns(&v[i], id))
			return true;
	return false;
}

void poll_ns_rescan(struct poll_nsset *s, struct loop *l, int64_t now)
{
	size_t nfound, unreadable, refused_before = s->refused, live = 0;

	if (!s->all || now < s->next_scan)
		return;
	s->next_scan = now + RESCAN_NS;
	nfound = nswatch_scan(&s->found, &s->found_cap, &unreadable);
	if (!nfound)
		return; /* /proc unreadable: keep what we have rather than drop it all */
	/* Gone from /proc and /run/netns: our sockets alone keep it alive; let it go. */
	for (size_t i = 0; i < s->n; i++) {
		struct poll_ns *ns = &s->v[i];

		if (ns->diag && !found_in(s->found, nfound, &ns->id)) {
			ns_shut(s, ns);
			ns->vanished = VANISH_DUMPS;
		}
	}
	s->refused = 0;
	for (size_t i = 0; i < nfound; i++) {
		bool known = false;

		for (size_t j = 0; j < s->n && !known; j++)
			known = s->v[j].diag && same_ns(&s->v[j].id, &s->found[i]);
		if (!known && !loop_quitting(l))
			open_found(s, l, &s->found[i], i == 0 && s->next_idx == 0);
	}
	for (size_t i = 0; i < s->n; i++)
		live += s->v[i].diag != NULL;
	netns_tab_watch(s->labels, true, (uint32_t)live);
	/* One note when what is skipped changes, not one per scan. */
	if (s->refused && s->refused != refused_before)
		loop_status(l, "%zu network namespace%s skipped: cannot enter: %s%s", s->refused,
			    s->refused == 1 ? "" : "s", strerror(s->refused_err),
			    enter_hint(s->refused_err));
	/* Root is refused only for processes on their way out: not worth a note. */
	if (unreadable && !s->unreadable && geteuid() != 0)
		loop_status(l,
			    "the namespaces of %zu process%s of other users cannot be looked "
			    "at: run as root to watch them",
			    unreadable, unreadable == 1 ? "" : "es");
	s->unreadable = unreadable;
}

/* The reader of destroy notices; false (and said) when it cannot run. */
static bool start_notices(struct poll_nsset *s, struct loop *l)
{
	s->nt = notices_start();
	if (!s->nt)
		loop_status(l, "destroy notices unavailable: cannot start their reader: %s",
			    strerror(errno));
	return s->nt != NULL;
}

int poll_ns_open(struct poll_nsset *s, const struct poll_opts *o, struct loop *l, char *err,
		 size_t errlen)
{
	struct poll_ns *ns;
	struct opener op = {.events = o->destroy, .want_hint = !o->filter};
	int r;

	s->info = o->info;
	s->events = o->destroy;
	s->labels = o->labels;
	s->all = o->all_netns && o->labels;
	s->one.with_info = o->info;
	op.events = s->events = o->destroy && start_notices(s, l);
	if (s->all) {
		poll_ns_rescan(s, l, mono_ns());
		if (!s->n || s->v[0].idx != 0 || !s->v[0].diag) {
			snprintf(err, errlen, "cannot open a sock_diag netlink socket: %s%s",
				 strerror(s->refused_err), poll_hint(s->refused_err));
			return -1;
		}
		return 0;
	}
	ns = ns_add(s, o->netns);
	op.ns = ns;
	r = o->netns ? nswatch_run_in(o->netns, open_here, &op) : open_here(&op);
	if (r < 0) {
		if (r == -ENOTRECOVERABLE)
			snprintf(err, errlen,
				 "cannot return from network namespace '%s' to our own",
				 o->netns->label);
		else if (o->netns && !ns->diag && (r == -EPERM || r == -ESRCH || r == -EINVAL))
			snprintf(err, errlen, "cannot enter network namespace '%s': %s%s",
				 o->netns->label, strerror(-r), enter_hint(-r));
		else
			snprintf(err, errlen, "cannot open a sock_diag netlink socket%s%s: %s%s",
				 o->netns ? " in network namespace " : "",
				 o->netns ? o->netns->label : "", strerror(-r), poll_hint(-r));
		return -1;
	}
	if (o->labels && o->netns) {
		netns_tab_set(o->labels, 0, o->netns->label);
		netns_tab_watch(o->labels, false, 1);
	}
	if (o->labels)
		netns_tab_set_cookie(o->labels, 0, op.cookie);
	s->hint = op.hint;
	if (ns->events && (r = notices_watch(s->nt, ns->events, ns->idx)) < 0) {
		diag_events_close(ns->events);
		ns->events = NULL;
		op.events_err = -r;
	}
	if (s->events && !ns->events)
		loop_status(l, "destroy notices unavailable: %s", strerror(op.events_err));
	return 0;
}

void poll_ns_close(struct poll_nsset *s)
{
	notices_stop(s->nt);
	s->nt = NULL;
	for (size_t i = 0; i < s->n; i++)
		ns_shut(s, &s->v[i]);
	free(s->v);
	free(s->found);
	snapshot_free(&s->one);
}

/* Namespaces that vanished and were declared empty often enough leave the list. */
static void drop_vanished(struct poll_nsset *s)
{
	size_t j = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].diag || --s->v[i].vanished > 0)
			s->v[j++] = s->v[i];
	s->n = j;
}

void poll_ns_filter_changed(struct poll_nsset *s)
{
	for (size_t i = 0; i < s->n; i++)
		diag_filter_changed(s->v[i].diag);
}

int poll_ns_dump(struct poll_nsset *s, struct loop *l, uint32_t states, const struct filter *f,
		 bool full, struct snapshot *sn)
{
	int64_t mono = mono_ns(), wall = wall_ns();
	size_t ok = 0;
	int err = 0;

	if (!s->all)
		return diag_dump(s->v[0].diag, states, f, sn);
	snapshot_clear(sn);
	sn->mono = mono;
	for (size_t i = 0; i < s->n; i++) {
		struct poll_ns *ns = &s->v[i];
		int r;

		if (!ns->diag) {
			/* An empty namespace, as far as its sockets go: listed, without rows. */
			if (full)
				snapshot_cover(sn, ns->idx);
			continue;
		}
		r = diag_dump(ns->diag, states, f, &s->one);
		if (r < 0) {
			if (r != ns->last_err)
				loop_status(l,
					    "netns %s: sock_diag dump failed: %s; its sockets stay "
					    "as last seen",
					    netns_label(s->labels, ns->idx), strerror(-r));
			ns->last_err = err = r;
			continue;
		}
		if (ns->last_err)
			loop_status(l, "netns %s: sock_diag dumps work again",
				    netns_label(s->labels, ns->idx));
		ns->last_err = 0;
		snapshot_append(sn, &s->one, ns->idx);
		snapshot_cover(sn, ns->idx);
		ok++;
	}
	sn->states = states;
	sn->mono = mono;
	sn->wall = wall;
	sn->complete = ok || !err;
	/* Only a dump the tracker takes counts towards letting a vanished namespace go. */
	if (full && sn->complete)
		drop_vanished(s);
	return sn->complete ? 0 : err;
}

int poll_ns_events_fd(const struct poll_nsset *s)
{
	if (!s->nt)
		return -1;
	if (!s->all && !(s->n && s->v[0].events))
		return -1;
	return notices_fd(s->nt);
}

struct notice_ns {
	diag_notice_fn fn;
	void *arg;
	uint32_t idx;
};

static void notice_in_ns(void *arg, const struct sock *s, const struct sock_info *info,
			 const struct notice_when *w)
{
	struct notice_ns *nn = arg;
	struct sock c = *s;

	c.netns = nn->idx;
	nn->fn(nn->arg, &c, info, w);
}

static void datagram(void *arg, uint32_t ns, const void *buf, size_t len,
		     const struct notice_when *w)
{
	struct notice_ns nn = *(struct notice_ns *)arg;

	nn.idx = ns;
	/* A malformed datagram loses only itself. */
	diag_parse_notices(buf, len, w, notice_in_ns, &nn);
}

int64_t poll_ns_events_horizon(struct poll_nsset *s)
{
	return s->nt ? notices_horizon(s->nt) : mono_ns();
}

int poll_ns_events_read(struct poll_nsset *s, diag_notice_fn fn, void *arg)
{
	struct notice_ns nn = {fn, arg, 0};

	return s->nt ? notices_take(s->nt, datagram, &nn) : 0;
}

int poll_ns_destroy(struct poll_nsset *s, const struct sock *sk)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].idx == sk->netns && s->v[i].diag) {
			struct sock c = *sk;

			/*
			 * Over that namespace's own diag socket: the kernel looks the
			 * socket up, and checks CAP_NET_ADMIN, where the request comes in.
			 */
			c.netns = 0;
			return diag_destroy(s->v[i].diag, &c);
		}
	return -ENOENT;
}

int poll_ns_info(struct poll_nsset *s, const struct sock *sk, struct sock_info *out)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].idx == sk->netns && s->v[i].diag) {
			struct sock c = *sk;

			/* The kernel of that namespace knows it by its tuple and cookie alone. */
			c.netns = 0;
			return diag_sock_info(s->v[i].diag, &c, out);
		}
	return -ENOENT;
}
