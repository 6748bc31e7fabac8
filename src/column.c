/* column.c - the socket columns: one entry each, its text and its order. */
#include "config.h"
#include "column.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "netns.h"
#include "procmap.h"
#include "narrator.h"
#include "util.h"

int64_t col_dwell(const struct tsock *ts, int64_t now)
{
	int64_t end = (ts->flags & TS_GHOST) && ts->gone ? ts->gone : now;
	int64_t d = end - ts->since;

	return d > 0 ? d : 0;
}

char *col_addr(char *buf, size_t len, int family, const uint8_t *addr, uint16_t port)
{
	fmt_addr(buf, len, family, addr, port);
	if (port == 0) {
		char *colon = strrchr(buf, ':');

		if (colon && (size_t)(colon - buf) + 2 < len)
			strcpy(colon + 1, "*");
	}
	return buf;
}

char *col_owner(const struct col_ctx *c, const struct sock *s, char *buf, size_t len)
{
	const struct owner *ow = c->pm && s->inode ? procmap_lookup(c->pm, s->inode) : NULL;
	const char *actor =
	    narrator_scripted(c->narr) ? c->narr->ops->actor(c->narr->ctx, s) : NULL;

	if (actor) {
		char a[64];

		sanitize(a, sizeof(a), actor, (size_t)-1);
		if (ow)
			snprintf(buf, len, "%s (%d)", a, ow->pid);
		else
			snprintf(buf, len, "%s", a);
	} else if (ow) {
		snprintf(buf, len, "%d/%s", ow->pid, ow->comm);
	} else {
		snprintf(buf, len, "-");
	}
	return buf;
}

static void t_state(const struct col_ctx *c, const struct tsock *ts, char *buf, size_t len)
{
	(void)c;
	snprintf(buf, len, "%s", st_name(ts->s.state));
}

static void t_dwell(const struct col_ctx *c, const struct tsock *ts, char *buf, size_t len)
{
	char d[DUR_BUFSZ];

	fmt_dur(d, col_dwell(ts, c->now), ts->since_kind, c->utf8);
	snprintf(buf, len, "%s", d);
}

static void t_netns(const struct col_ctx *c, const struct tsock *ts, char *buf, size_t len)
{
	snprintf(buf, len, "%s", netns_label(c->labels, ts->s.netns));
}

static void t_local(const struct col_ctx *c, const struct tsock *ts, char *buf, size_t len)
{
	(void)c;
	col_addr(buf, len, ts->s.family, ts->s.src, ts->s.sport);
}

static void t_peer(const struct col_ctx *c, const struct tsock *ts, char *buf, size_t len)
{
	(void)c;
	col_addr(buf, len, ts->s.family, ts->s.dst, ts->s.dport);
}

static void t_recvq(const struct col_ctx *c, const struct tsock *ts, char *buf, size_t len)
{
	(void)c;
	snprintf(buf, len, "%u", ts->s.rqueue);
}

static void t_sendq(const struct col_ctx *c, const struct tsock *ts, char *buf, size_t len)
{
	(void)c;
	snprintf(buf, len, "%u", ts->s.wqueue);
}

/* "retrans:1.2s"; the kernel reports an expired timer not yet run as 0 left: it is due. */
static void t_timer(const struct col_ctx *c, const struct tsock *ts, char *buf, size_t len)
{
	char d[DUR_BUFSZ];

	if (ts->flags & TS_GHOST) {
		snprintf(buf, len, "gone");
		return;
	}
	if (ts->s.timer == TM_NONE) {
		snprintf(buf, len, "-");
		return;
	}
	fmt_dur(d, (int64_t)ts->s.expires_ms * NS_PER_MS, TIME_BETWEEN, c->utf8);
	snprintf(buf, len, "%s:%s", timer_name(ts->s.timer),
		 ts->s.expires_ms ? d + strspn(d, " ") : "due");
}

static void t_owner(const struct col_ctx *c, const struct tsock *ts, char *buf, size_t len)
{
	col_owner(c, &ts->s, buf, len);
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int cmp_addr(int fa, const uint8_t *a, uint16_t pa, int fb, const uint8_t *b, uint16_t pb)
{
	int r;

	if (fa != fb)
		return fa < fb ? -1 : 1;
	r = memcmp(a, b, fa == AF_INET6 ? 16 : 4);
	return r ? r : cmp_u64(pa, pb);
}

static int c_state(const struct col_ctx *c, const struct tsock *a, const struct tsock *b)
{
	(void)c;
	return cmp_u64(st_rank(a->s.state), st_rank(b->s.state));
}

/* Longest first: the socket stuck longest is what the reader looks for. */
static int c_dwell(const struct col_ctx *c, const struct tsock *a, const struct tsock *b)
{
	return cmp_u64((uint64_t)col_dwell(b, c->now), (uint64_t)col_dwell(a, c->now));
}

static int c_netns(const struct col_ctx *c, const struct tsock *a, const struct tsock *b)
{
	(void)c;
	return cmp_u64(a->s.netns, b->s.netns);
}

static int c_local(const struct col_ctx *c, const struct tsock *a, const struct tsock *b)
{
	(void)c;
	return cmp_addr(a->s.family, a->s.src, a->s.sport, b->s.family, b->s.src, b->s.sport);
}

static int c_peer(const struct col_ctx *c, const struct tsock *a, const struct tsock *b)
{
	(void)c;
	return cmp_addr(a->s.family, a->s.dst, a->s.dport, b->s.family, b->s.dst, b->s.dport);
}

/* Queues: the fullest first. */
static int c_recvq(const struct col_ctx *c, const struct tsock *a, const struct tsock *b)
{
	(void)c;
	return cmp_u64(b->s.rqueue, a->s.rqueue);
}

static int c_sendq(const struct col_ctx *c, const struct tsock *a, const struct tsock *b)
{
	(void)c;
	return cmp_u64(b->s.wqueue, a->s.wqueue);
}

/* By command name, then pid: "1234/nginx" sorts as "nginx 1234". */
static int c_owner(const struct col_ctx *c, const struct tsock *a, const struct tsock *b)
{
	char oa[128], ob[128];
	const char *sa, *sb;
	int r;

	col_owner(c, &a->s, oa, sizeof(oa));
	col_owner(c, &b->s, ob, sizeof(ob));
	sa = strchr(oa, '/') ? strchr(oa, '/') + 1 : oa;
	sb = strchr(ob, '/') ? strchr(ob, '/') + 1 : ob;
	r = strcmp(sa, sb);
	return r ? r : strcmp(oa, ob);
}

/*
 * The batch widths and gaps are those scripts have read since the first
 * release; NETNS comes last there, so the columns before it stay in place.
 */
const struct column col_table[COL_MAX] = {
    [COL_STATE] =
	{
	    .name = "state",
	    .title = "STATE",
	    .doc = "the TCP state",
	    .width = 11,
	    .rule = CW_FIXED,
	    .text = t_state,
	    .cmp = c_state,
	},
    [COL_DWELL] =
	{
	    .name = "dwell",
	    .title = "DWELL",
	    .doc = "time in the state (>= marks a lower bound)",
	    .width = 7,
	    .right = true,
	    .gap = 1,
	    .rule = CW_FIXED,
	    .shown = true,
	    .text = t_dwell,
	    .cmp = c_dwell,
	},
    [COL_NETNS] =
	{
	    .name = "netns",
	    .title = "NETNS",
	    .doc = "the network namespace's label (with --netns)",
	    .width = 0,
	    .gap = 1,
	    .rule = CW_NETNS,
	    .min_cols = 60,
	    .shown = true,
	    .text = t_netns,
	    .cmp = c_netns,
	},
    [COL_LOCAL] =
	{
	    .name = "local",
	    .title = "LOCAL",
	    .doc = "local address and port",
	    .width = 26,
	    .gap = 2,
	    .rule = CW_ADDR,
	    .shown = true,
	    .text = t_local,
	    .cmp = c_local,
	},
    [COL_PEER] =
	{
	    .name = "peer",
	    .title = "PEER",
	    .doc = "peer address and port (* for any)",
	    .width = 26,
	    .gap = 1,
	    .rule = CW_ADDR,
	    .shown = true,
	    .text = t_peer,
	    .cmp = c_peer,
	},
    [COL_RECVQ] =
	{
	    .name = "recv-q",
	    .title = "RECV-Q",
	    .doc = "bytes received, not yet read",
	    .width = 7,
	    .right = true,
	    .gap = 1,
	    .rule = CW_FIXED,
	    .min_cols = 64,
	    .drop = 1,
	    .shown = true,
	    .text = t_recvq,
	    .cmp = c_recvq,
	},
    [COL_SENDQ] =
	{
	    .name = "send-q",
	    .title = "SEND-Q",
	    .doc = "bytes sent, not yet acknowledged",
	    .width = 7,
	    .right = true,
	    .gap = 1,
	    .rule = CW_FIXED,
	    .min_cols = 64,
	    .drop = 1,
	    .shown = true,
	    .text = t_sendq,
	    .cmp = c_sendq,
	},
    [COL_TIMER] =
	{
	    .name = "timer",
	    .title = "TIMER",
	    .doc = "the kernel timer and time left (retrans:1.2s)",
	    .width = 16,
	    .gap = 2,
	    .rule = CW_FIXED,
	    .min_cols = 80,
	    .drop = 2,
	    .shown = true,
	    .text = t_timer,
	},
    [COL_OWNER] =
	{
	    .name = "owner",
	    .title = "OWNER",
	    .scen_title = "ACTOR/PID",
	    .doc = "pid/command, or the scenario's actor",
	    .width = 22,
	    .gap = 1,
	    .rule = CW_REST,
	    .shown = true,
	    .text = t_owner,
	    .cmp = c_owner,
	},
};

int col_find(const char *name)
{
	for (int i = 0; i < COL_MAX; i++)
		if (!strcmp(col_table[i].name, name))
			return i;
	return -1;
}

bool col_has(const struct col_list *cl, enum col_id id)
{
	for (size_t i = 0; i < cl->n; i++)
		if (cl->id[i] == id)
			return true;
	return false;
}

void col_default(struct col_list *cl, bool batch)
{
	cl->n = 0;
	if (batch)
		cl->id[cl->n++] = COL_STATE;
	for (int i = 0; i < COL_MAX; i++)
		if (col_table[i].shown && !(batch && i == COL_NETNS))
			cl->id[cl->n++] = (uint8_t)i;
	/* The batch table's namespace goes last: the columns before it stay where scripts expect
	 * them. */
	if (batch)
		cl->id[cl->n++] = COL_NETNS;
}

int col_parse(struct col_list *cl, const char *s, char *err, size_t errlen)
{
	char name[32];

	cl->n = 0;
	while (*s) {
		size_t n = strcspn(s, ",");
		int id;

		if (n == 0 || n >= sizeof(name)) {
			snprintf(err, errlen, "--columns: an empty or overlong column name in '%s'",
				 s);
			return -1;
		}
		memcpy(name, s, n);
		name[n] = 0;
		id = col_find(name);
		if (id < 0) {
			char known[256];
			size_t k = 0;

			for (int i = 0; i < COL_MAX && k < sizeof(known); i++)
				k += (size_t)snprintf(known + k, sizeof(known) - k, "%s%s",
						      i ? ", " : "", col_table[i].name);
			snprintf(err, errlen, "--columns: unknown column '%.31s' (known: %s)", name,
				 known);
			return -1;
		}
		if (col_has(cl, (enum col_id)id)) {
			snprintf(err, errlen, "--columns: column '%s' given twice", name);
			return -1;
		}
		cl->id[cl->n++] = (uint8_t)id;
		s += n;
		if (*s == ',')
			s++;
	}
	if (!cl->n) {
		snprintf(err, errlen, "--columns: no column given");
		return -1;
	}
	return 0;
}
