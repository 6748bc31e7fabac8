/* poll_int.h - what poll.c and poll_ns.c share; no other module includes it. */
#ifndef TCPDWELL_POLL_INT_H
#define TCPDWELL_POLL_INT_H

#include "diag.h"
#include "nswatch.h"
#include "poll.h"

/* One namespace watched: sock_diag sockets made inside it (a socket stays where it was made). */
struct poll_ns {
	struct nswatch_ns id;
	uint32_t idx; /* its label index, struct sock.netns of its rows */
	struct diag *diag;
	struct diag_events *events;
	uint8_t vanished; /* gone (diag NULL): full dumps still to declare it empty */
	int last_err;	  /* its last dump's failure, said once */
};

/*
 * The namespaces the poller dumps: one (ours, or the one --netns named,
 * index 0, rows as a plain dump gives them) or every one on the box.
 */
struct poll_nsset {
	struct poll_ns *v;
	size_t n, cap;
	bool all;
	bool info;
	bool events;		  /* open destroy notices in each */
	struct netns_tab *labels; /* NULL: our own namespace, unlabelled */
	uint32_t next_idx;
	struct notices *nt; /* reads every namespace's destroy notices */
	int64_t next_scan;
	struct snapshot one; /* one namespace's dump, before it joins the lane's */
	struct nswatch_ns *found;
	size_t found_cap;
	size_t refused; /* namespaces that could not be entered at the last scan */
	int refused_err;
	size_t unreadable; /* processes whose namespace could not be looked at */
	size_t hint;	   /* sockets the kernel counts in the one namespace; 0 unknown */
};

/* Why sock_diag may be refused, for an error message: " (...)" or "". */
const char *poll_hint(int err);

/* Open the namespaces of o (the first dump is the caller's); -1 with err set. */
int poll_ns_open(struct poll_nsset *s, const struct poll_opts *o, struct loop *l, char *err,
		 size_t errlen);
void poll_ns_close(struct poll_nsset *s);
/* With all: look for namespaces again when due; new ones are opened, vanished ones closed. */
void poll_ns_rescan(struct poll_nsset *s, struct loop *l, int64_t now);
/*
 * Dump states of every namespace into sn (cleared first), each row labelled
 * with its namespace, sn->ns listing those dumped. full: the vanished ones
 * are listed too, with no rows, so that their sockets are seen gone. 0, or
 * -errno when no namespace could be dumped (sn->complete false).
 */
int poll_ns_dump(struct poll_nsset *s, struct loop *l, uint32_t states, const struct filter *f,
		 bool full, struct snapshot *sn);
/* The filter changed: every namespace's dumper compiles the next one afresh. */
void poll_ns_filter_changed(struct poll_nsset *s);
/* Destroy notices: a descriptor to wait on (-1: none), and reading them all. */
int poll_ns_events_fd(const struct poll_nsset *s);
int poll_ns_events_read(struct poll_nsset *s, diag_notice_fn fn, void *arg);
/* The earliest time a notice not yet read may carry (see notices_horizon()). */
int64_t poll_ns_events_horizon(struct poll_nsset *s);
/* Destroy one socket (SOCK_DESTROY) in its namespace; 0 or -errno (diag_destroy()). */
int poll_ns_destroy(struct poll_nsset *s, const struct sock *sk);
/* One socket's tcp_info, asked in its namespace. */
int poll_ns_info(struct poll_nsset *s, const struct sock *sk, struct sock_info *out);

#endif
