/* view_act.c - actions on sockets: destroy (SOCK_DESTROY) and signal the owner, each confirmed. */
#include "config.h"
#include "view_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "netns.h"
#include "procmap.h"
#include "util.h"

/* The signals offered, the usual first: SIGTERM lets the process close its sockets itself. */
static const struct {
	int sig;
	const char *name;
} sigs[] = {
    {SIGTERM, "TERM"}, {SIGINT, "INT"},	  {SIGHUP, "HUP"},   {SIGQUIT, "QUIT"}, {SIGUSR1, "USR1"},
    {SIGUSR2, "USR2"}, {SIGSTOP, "STOP"}, {SIGCONT, "CONT"}, {SIGKILL, "KILL"},
};

/* A replay shows what was: its sockets and processes are not this box's now. */
static bool refuse_replay(struct view *v, const char *what)
{
	struct source_state st;

	loop_source_state(v->l, &st);
	if (!st.replay && !v->o.replay)
		return false;
	view_msg(v, "cannot %s in a replay: its sockets are recorded, not live", what);
	return true;
}

static void describe_sock(const struct sock *s, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN + 8], b[INET6_ADDRSTRLEN + 8];

	fmt_addr(a, sizeof(a), s->family, s->src, s->sport);
	fmt_addr(b, sizeof(b), s->family, s->dst, s->dport);
	snprintf(buf, len, "%s %s > %s", st_name(s->state), a, b);
}

void view_act_destroy(struct view *v)
{
	const struct tsock *ts = view_selected(v);

	if (refuse_replay(v, "destroy sockets"))
		return;
	if (v->sel >= v->nrows) {
		view_msg(v, "no socket selected");
		return;
	}
	if (ts) {
		if (ts->flags & TS_GHOST) {
			view_msg(v, "that socket is already gone");
			return;
		}
		v->pr.socks = xmalloc(sizeof(*v->pr.socks));
		v->pr.socks[0] = ts->s;
		v->pr.nsocks = 1;
	} else {
		/*
		 * A group's header (of a state, or of a peer, process...): its
		 * living sockets, copied now, when the prompt counts them.
		 */
		size_t gn = view_group_n(v, v->sel), n = 0;

		v->pr.socks = xreallocarray(NULL, gn ? gn : 1, sizeof(*v->pr.socks));
		for (size_t i = 0; i < v->nsorted && n < gn; i++) {
			const struct tsock *t = v->sorted[i];

			if (view_group_has(v, v->sel, t) && !(t->flags & TS_GHOST))
				v->pr.socks[n++] = t->s;
		}
		v->pr.nsocks = n;
		if (!n) {
			view_prompt_close(v);
			view_msg(v, "no living socket in that group");
			return;
		}
	}
	view_prompt_open(v, PR_DESTROY);
}

void view_act_signal(struct view *v)
{
	const struct tsock *ts = view_selected(v);
	const struct owner *ow;

	if (refuse_replay(v, "signal processes"))
		return;
	if (!ts) {
		view_msg(v, "select a socket: its owner gets the signal");
		return;
	}
	ow = v->o.pm && ts->s.inode ? procmap_lookup(v->o.pm, ts->s.inode) : NULL;
	/* kill() takes 0 and below as process groups, -1 as every process: never those. */
	if (!ow || ow->pid <= 0) {
		view_msg(v, "no signal sent: the owner of that socket is unknown%s",
			 v->o.pm ? " (not found in /proc yet, or not readable)"
				 : " (owners are off)");
		return;
	}
	v->pr.pid = ow->pid;
	snprintf(v->pr.comm, sizeof(v->pr.comm), "%s", ow->comm);
	v->pr.sig = 0;
	view_prompt_open(v, PR_SIGNAL);
}

static const char *destroy_why(int e, const struct sock *s, const struct view *v, char *buf,
			       size_t len)
{
	const char *ns = s->netns ? netns_label(loop_netns(v->l), s->netns) : NULL;

	switch (e) {
	case -EPERM:
	case -EACCES:
		if (ns)
			snprintf(buf, len, "no right to act in netns %s (CAP_NET_ADMIN there)", ns);
		else
			snprintf(buf, len, "permission denied (needs CAP_NET_ADMIN)");
		break;
	case -EOPNOTSUPP:
		snprintf(buf, len, "this kernel cannot (built without CONFIG_INET_DIAG_DESTROY)");
		break;
	case -ENOENT:
		snprintf(buf, len, "the socket is gone");
		break;
	case -ENOSYS:
		snprintf(buf, len, "this source cannot destroy sockets");
		break;
	default:
		snprintf(buf, len, "%s", strerror(-e));
	}
	return buf;
}

static void do_destroy(struct view *v)
{
	char what[160], why[120];
	size_t done = 0, gone = 0, failed = 0;
	int first_err = 0;
	const struct sock *first_bad = NULL;

	for (size_t i = 0; i < v->pr.nsocks; i++) {
		int r = loop_destroy(v->l, &v->pr.socks[i]);

		/*
		 * In a group, a socket gone meanwhile is no failure: destroying one end
		 * of a connection resets the other, which may be in the group too.
		 */
		if (r == 0) {
			done++;
		} else if (r == -ENOENT && v->pr.nsocks > 1) {
			gone++;
		} else if (!failed++) {
			first_err = r;
			first_bad = &v->pr.socks[i];
		}
		/* The kernel's answer is the same for the rest: stop rather than repeat it. */
		if (r == -EOPNOTSUPP || r == -ENOSYS || (r == -EPERM && !v->pr.socks[i].netns))
			break;
	}
	describe_sock(&v->pr.socks[0], what, sizeof(what));
	if (!failed && v->pr.nsocks == 1)
		view_msg(v, "destroyed %s", what);
	else if (!failed)
		view_msg(v, "destroyed %zu sockets (%zu gone meanwhile)", done, gone);
	else if (v->pr.nsocks == 1)
		view_msg(v, "not destroyed: %s",
			 destroy_why(first_err, first_bad, v, why, sizeof(why)));
	else
		view_msg(v, "destroyed %zu of %zu sockets; not destroyed: %s", done, v->pr.nsocks,
			 destroy_why(first_err, first_bad, v, why, sizeof(why)));
	view_prompt_close(v);
}

static void do_signal(struct view *v)
{
	int sig = sigs[v->pr.sig].sig;

	if (kill(v->pr.pid, sig) == 0)
		view_msg(v, "sent SIG%s to %d/%s", sigs[v->pr.sig].name, v->pr.pid, v->pr.comm);
	else if (errno == EPERM)
		view_msg(v,
			 "no signal sent to %d/%s: not permitted (another user's process; needs "
			 "CAP_KILL)",
			 v->pr.pid, v->pr.comm);
	else if (errno == ESRCH)
		view_msg(v, "no signal sent: process %d has ended", v->pr.pid);
	else
		view_msg(v, "no signal sent to %d: %s", v->pr.pid, strerror(errno));
	view_prompt_close(v);
}

/* Keys while a destroy is asked: only y acts, any other key cancels. */
bool view_act_destroy_key(struct view *v, wint_t key, bool is_key)
{
	if (!is_key && (key == 'y' || key == 'Y')) {
		do_destroy(v);
	} else {
		view_prompt_close(v);
		view_msg(v, "nothing destroyed");
	}
	return true;
}

/* Keys on the signal menu: choose with the arrows or a digit, Enter sends. */
bool view_act_signal_key(struct view *v, wint_t key, bool is_key)
{
	if (is_key && (key == KEY_UP || key == KEY_DOWN)) {
		int n = (int)ARRAY_SIZE(sigs);

		v->pr.sig = (v->pr.sig + (key == KEY_UP ? n - 1 : 1)) % n;
	} else if (!is_key && key >= '1' && key < '1' + (wint_t)ARRAY_SIZE(sigs)) {
		v->pr.sig = (int)(key - '1');
	} else if ((is_key && key == KEY_ENTER) || (!is_key && (key == '\r' || key == '\n'))) {
		do_signal(v);
	} else if (!is_key && (key == KEY_ESC || key == 'q' || key == 'n')) {
		view_prompt_close(v);
		view_msg(v, "no signal sent");
	}
	return true;
}

/* The confirmation on the bottom line names what would be done to what. */
void view_act_destroy_draw(struct view *v, int y)
{
	char line[300], what[160];
	const struct sock *s = &v->pr.socks[0];
	const char *ns = s->netns ? netns_label(loop_netns(v->l), s->netns) : NULL;

	describe_sock(s, what, sizeof(what));
	if (v->pr.nsocks == 1)
		snprintf(line, sizeof(line), "Destroy %s%s%s? y/N ", what, ns ? " in netns " : "",
			 ns ? ns : "");
	else if (v->gby != GB_STATE) /* a peer's or a process's group: of several states */
		snprintf(line, sizeof(line), "Destroy all %zu sockets of %s %s? y/N ", v->pr.nsocks,
			 group_by_name(v->gby), v->sel_gkey);
	else
		snprintf(line, sizeof(line), "Destroy all %zu %s sockets of this group? y/N ",
			 v->pr.nsocks, st_name(s->state));
	view_puta(v, y, 0, COLS, EL_ERROR, line);
}

void view_act_signal_draw(struct view *v, int y)
{
	char line[300];
	int x;

	snprintf(line, sizeof(line), "Send SIG%s to %d/%s? ", sigs[v->pr.sig].name, v->pr.pid,
		 v->pr.comm);
	x = view_puta(v, y, 0, COLS, EL_ERROR, line);
	for (size_t i = 0; i < ARRAY_SIZE(sigs) && x < COLS; i++)
		x += view_putf(v, y, x, COLS - x, (int)i == v->pr.sig ? EL_SELECTED : EL_DIM,
			       " %zu %s", i + 1, sigs[i].name);
	view_puta(v, y, x, COLS - x, EL_DIM, "  Enter: send  Esc: cancel");
}
