/* view_detail.c - one socket: its timeline of states, tcp_info, timer, owner, and what its state
 * means. */
#include "config.h"
#include "view_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "netns.h"

/* For a student: what the state means and what ends it. */
static const char *const explain[ST_MAX] = {
    [ST_LISTEN] = "A server socket waiting for connections. It never carries data itself: "
		  "each client that completes the handshake becomes a new ESTABLISHED socket "
		  "in its accept queue. It ends when the program closes it.",
    [ST_SYN_SENT] = "This side called connect() and sent a SYN; it waits for the peer's "
		    "SYN+ACK, resending the SYN with growing pauses. A socket stuck here "
		    "means the peer is silent: a firewall, or a listener whose accept queue "
		    "is full. It ends on an answer, or when the retries run out.",
    [ST_SYN_RECV] = "A SYN came in and the SYN+ACK went out; the kernel waits for the "
		    "client's ACK to finish the handshake (or, with TCP_DEFER_ACCEPT, for its "
		    "first data). Many of these mean clients that do not finish handshakes, or "
		    "a SYN flood. It ends when the ACK arrives or the retries run out.",
    [ST_NEW_SYN_RECV] = "A request socket: the server answered a SYN and waits for the "
			"final ACK of the handshake. It ends when the ACK arrives or the "
			"retries run out.",
    [ST_ESTABLISHED] = "The connection is open and data flows both ways. Nothing ends it "
		       "but one side calling close() or shutdown() (a FIN), a reset (RST), "
		       "or a timeout.",
    [ST_FIN_WAIT1] = "This side closed first: its FIN is sent, or queued behind unsent "
		     "data, and it waits for the peer to acknowledge it. On a healthy link "
		     "this lasts an instant; held long, the peer is not reading (its window "
		     "is zero) or is gone. It ends when the FIN is acknowledged (FIN_WAIT_2), "
		     "or the peer's FIN crosses it (CLOSING).",
    [ST_FIN_WAIT2] = "Our FIN was acknowledged; we wait for the peer's FIN. The peer's "
		     "program has not closed its end yet. If our program already called "
		     "close(), the kernel gives up after tcp_fin_timeout (60 s); after "
		     "shutdown(SHUT_WR) it waits as long as the peer does.",
    [ST_TIME_WAIT] = "Both FINs were exchanged and this side closed first. The kernel keeps "
		     "the connection's name for 60 s so that late segments of it cannot "
		     "be taken for a new connection with the same ports. It ends by its timer; "
		     "many of them are normal on a busy client.",
    [ST_CLOSE] = "The socket is closed and about to be freed.",
    [ST_CLOSE_WAIT] = "The peer closed its end (we received its FIN) and the kernel waits "
		      "for our program to call close(). Held for long, this is almost always "
		      "a bug in the owning program: it forgot to close the socket (a leak). "
		      "Only the owner's close() ends it.",
    [ST_LAST_ACK] = "The peer closed first, then our program closed too: our FIN is sent, "
		    "or queued behind data the peer has not read yet, and we wait for the "
		    "peer's acknowledgement. It ends when the ACK arrives, then the socket is "
		    "gone.",
    [ST_CLOSING] = "Both sides sent a FIN at about the same time (a simultaneous close): "
		   "we received the peer's FIN while our own was still unacknowledged. It "
		   "lasts an instant unless our FIN is stuck behind unread data. It ends "
		   "when our FIN is acknowledged, in TIME_WAIT.",
};

static const char *kind_text(unsigned kind)
{
	switch (kind) {
	case TIME_EXACT:
		return "exact";
	case TIME_ATLEAST:
		return "at least: it predates the first poll";
	default:
		return "changed between two polls";
	}
}

static void clock_text(const struct view *v, int64_t mono, char *buf, size_t len)
{
	int64_t wall = track_wall(v->t, mono);
	time_t secs = (time_t)(wall / NS_PER_SEC);
	struct tm tm;
	char t[16];

	localtime_r(&secs, &tm);
	strftime(t, sizeof(t), "%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03lld", t, (long long)(wall % NS_PER_SEC / NS_PER_MS));
}

static void us_text(char *buf, size_t len, uint32_t us)
{
	if (us >= 10000)
		snprintf(buf, len, "%.1fms", us / 1000.0);
	else
		snprintf(buf, len, "%.2fms", us / 1000.0);
}

void view_draw_detail(struct view *v, int y0, int h)
{
	const struct tsock *ts = v->detail.ts;
	char a[ADDR_BUFSZ], b[ADDR_BUFSZ], d[DUR_BUFSZ], c[32], o[160], line[320];
	int y = y0, end = y0 + h, w = COLS - 2;

	if (h <= 0)
		return;
	if (!ts) {
		view_puta(
		    v, y0 + 1, 2, w, EL_DIM,
		    "This socket is no longer tracked (gone past the ghost time). Esc returns.");
		return;
	}
	const struct sock *s = &ts->s;
	bool ghost = ts->flags & TS_GHOST;

	col_addr(a, sizeof(a), s->family, s->src, s->sport);
	col_addr(b, sizeof(b), s->family, s->dst, s->dport);
	view_fill(y, 0, COLS, view_attr(v, EL_PANE));
	view_putf(v, y++, 1, w, EL_PANE, "Socket %s %s %s   %s%s%s", a, v->utf8 ? "\u2192" : "->",
		  b, s->family == 10 ? "IPv6" : "IPv4",
		  netns_tab_active(loop_netns(v->l)) ? "   netns " : "",
		  netns_label(loop_netns(v->l), s->netns));
	if (y >= end)
		return;
	fmt_dur(d, view_dwell(v, ts), ts->since_kind, v->utf8);
	clock_text(v, ts->since, c, sizeof(c));
	int x = view_puta(v, y, 1, w, EL_HEADING, "State   ");
	x += view_puta(v, y, 1 + x, w - x, view_hot(s->state) ? EL_ROW_HOT : EL_COUNT,
		       st_name(s->state));
	view_putf(v, y++, 1 + x, w - x, ghost ? EL_GHOST : EL_NORMAL, "%s for %s since %s (%s)",
		  ghost ? " (gone)" : "", d + strspn(d, " "), c,
		  ts->since_kind == TIME_ATLEAST && (ts->flags & TS_KAGE)
		      ? "at least: the last ACK from the peer came then"
		      : kind_text(ts->since_kind));
	if (y >= end)
		return;
	view_owner(v, ts, o, sizeof(o));
	view_puta(v, y, 1, w, EL_HEADING, "Owner");
	view_putf(v, y++, 9, w - 8, EL_NORMAL, "%s   uid %u   inode %u   cookie %#llx%s", o, s->uid,
		  s->inode, (unsigned long long)s->cookie,
		  view_leak(v, ts) ? "   LIKELY LEAK: held past the threshold" : "");
	if (y >= end)
		return;
	{
		static const char *const tn[] = {"none", "retransmit", "keepalive", "TIME_WAIT",
						 "zero-window probe"};
		char ex[DUR_BUFSZ];

		fmt_dur(ex, (int64_t)s->expires_ms * NS_PER_MS, TIME_EXACT, v->utf8);
		view_puta(v, y, 1, w, EL_HEADING, "Queues");
		snprintf(line, sizeof(line),
			 "Recv-Q %u   Send-Q %u   timer %s%s%s   retransmits %u", s->rqueue,
			 s->wqueue, s->timer < ARRAY_SIZE(tn) ? tn[s->timer] : "?",
			 s->timer ? (s->expires_ms ? " in " : " due") : "",
			 s->timer && s->expires_ms ? ex + strspn(ex, " ") : "", s->retrans);
		view_puta(v, y++, 9, w - 8, EL_NORMAL, line);
	}
	/* Fetched with the data (view.c): the kernel's figures at the last poll, or the
	 * recording's. */
	if (y < end && v->detail.info_ok && v->detail.info_ts == ts) {
		const struct sock_info *in = &v->detail.info;
		char r1[24], r2[24];

		us_text(r1, sizeof(r1), in->rtt_us);
		us_text(r2, sizeof(r2), in->rttvar_us);
		view_puta(v, y, 1, w, EL_HEADING, "TCP");
		snprintf(
		    line, sizeof(line),
		    "rtt %s (var %s)   cwnd %u   mss %u/%u   unacked %u   lost %u   retrans %u/%u",
		    r1, r2, in->snd_cwnd, in->snd_mss, in->rcv_mss, in->unacked, in->lost,
		    in->retrans, in->total_retrans);
		view_puta(v, y++, 9, w - 8, EL_NORMAL, line);
		if (y < end) {
			snprintf(line, sizeof(line),
				 "bytes sent %llu acked %llu received %llu retrans %llu   segs out "
				 "%u in %u",
				 (unsigned long long)in->bytes_sent,
				 (unsigned long long)in->bytes_acked,
				 (unsigned long long)in->bytes_received,
				 (unsigned long long)in->bytes_retrans, in->segs_out, in->segs_in);
			view_puta(v, y++, 9, w - 8, EL_NORMAL, line);
		}
		if (y < end) {
			snprintf(line, sizeof(line), "last data sent %.1fs ago, received %.1fs ago",
				 in->last_data_sent_ms / 1000.0, in->last_data_recv_ms / 1000.0);
			view_puta(v, y++, 9, w - 8, EL_DIM, line);
		}
	}
	y++;
	if (y >= end)
		return;
	view_puta(v, y++, 1, w, EL_HEADING, "Timeline");
	/* Earlier states, oldest first, then the current one. */
	int room = end - y - 5;
	int skip = ts->nhist + 1 > room && room > 0 ? ts->nhist + 1 - room : 0;
	if (skip)
		view_putf(v, y++, 3, w - 2, EL_DIM, "(%d earlier states not shown)", skip);
	for (int i = skip; i <= ts->nhist && y < end; i++) {
		bool cur = i == ts->nhist;
		unsigned st = cur ? s->state : ts->hist[i].state;
		int64_t enter = cur ? ts->since : ts->hist[i].enter;
		int64_t dw = cur ? view_dwell(v, ts) : ts->hist[i].dwell;
		unsigned kind = cur ? ts->since_kind : ts->hist[i].kind;

		clock_text(v, enter, c, sizeof(c));
		fmt_dur(d, dw, kind, v->utf8);
		x = 3 + view_putf(v, y, 3, w - 2, EL_DIM, "%s  ", c);
		x += view_putf(v, y, x, w - x, view_hot(st) ? EL_ROW_HOT : EL_NORMAL, "%-12s",
			       st_name(st));
		view_putf(v, y, x, w - x, EL_NORMAL, " %s%s", d,
			  cur ? (ghost ? "   then gone" : "   (now)") : "");
		y++;
	}
	y++;
	if (y >= end)
		return;
	view_putf(v, y++, 1, w, EL_HEADING, "What %s means", st_name(s->state));
	if (y < end)
		view_wrap(v, y, 3, w - 2, end - y, EL_NORMAL,
			  s->state < ST_MAX && explain[s->state]
			      ? explain[s->state]
			      : "A state this program does not know.");
}

/* The tcp_info (of the kernel, or the recording's), once per poll or when the socket changes. */
void view_detail_fetch(struct view *v)
{
	struct detail_screen *d = &v->detail;

	if (d->ts && (d->info_ts != d->ts || d->info_poll != track_last_poll(v->t))) {
		d->info_ok = loop_sock_info(v->l, &d->ts->s, &d->info) == 0;
		d->info_ts = d->ts;
		d->info_poll = track_last_poll(v->t);
	}
}

/* Coming back, even to the same socket, fetches afresh. */
void view_detail_leave(struct view *v)
{
	v->detail.info_ts = NULL;
}

void view_detail_back(struct view *v)
{
	view_enter(v, v->back == VM_DIAGRAM ? VM_DIAGRAM : VM_TABLE);
	v->detail.cookie = 0;
	v->detail.ts = NULL;
}

void view_detail_open(struct view *v, const struct tsock *ts)
{
	view_enter(v, VM_DETAIL);
	v->detail.cookie = ts->s.cookie;
	v->detail.ts = ts;
}

void view_detail_find(struct view *v, bool hint)
{
	if (v->detail.cookie || v->detail.ts)
		v->detail.ts = view_find(v, v->detail.cookie, hint ? v->detail.ts : NULL);
}

void view_detail_lose(struct view *v)
{
	v->detail.ts = NULL;
}
