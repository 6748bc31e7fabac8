#include "config.h"
#include "scenario.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "scenario_int.h"
#include "util.h"

/*
 * The segments behind the states. A packet socket on the loopback of the
 * scenario's own namespace sees every segment the actors send, once as it
 * leaves (PACKET_OUTGOING) and once as it arrives: only the first is kept,
 * so a segment a drop rule takes at the input hook is still seen as sent.
 */

/* Packets read per wakeup at most: the loop has other work. */
#define CAP_BURST 64

/* Monotonic ns of a packet the kernel stamped with the wall clock. */
static int64_t packet_mono(const struct timespec *ts)
{
	int64_t wall = (int64_t)ts->tv_sec * NS_PER_SEC + ts->tv_nsec;
	int64_t now_wall = wall_ns(), now = mono_ns();

	/* A stamp from the future (the wall clock stepped) counts as now. */
	return wall > now_wall ? now : now - (now_wall - wall);
}

static struct sc_flow *flow_find(struct scenario *sc, uint16_t sport, uint16_t dport)
{
	for (size_t i = 0; i < sc->nflows; i++)
		if (sc->flows[i].sport == sport && sc->flows[i].dport == dport)
			return &sc->flows[i];
	return NULL;
}

/* A direction seen first: begin its numbers at this segment (the oldest is reused when full). */
static struct sc_flow *flow_new(struct scenario *sc, uint16_t sport, uint16_t dport, uint32_t seq)
{
	struct sc_flow *f;

	if (sc->nflows < SC_MAX_FLOWS)
		f = &sc->flows[sc->nflows++];
	else
		f = &sc->flows[sc->flow_next++ % SC_MAX_FLOWS];
	*f = (struct sc_flow){.sport = sport, .dport = dport, .isn = seq, .next = seq};
	return f;
}

/* Whether a rule of the script takes a segment from actor a to actor b. */
static bool lost(struct scenario *sc, int a, int b, unsigned kinds)
{
	bool took = false;

	for (size_t i = 0; i < sc->ndrops; i++) {
		struct sc_drop *d = &sc->drops[i];
		unsigned hit;

		if (d->both && (d->actor == a || d->actor == b)) {
			took = true;
			continue;
		}
		if (d->both || d->actor != a || !(hit = kinds & d->segs & ~d->fired))
			continue;
		if (d->once)
			d->fired |= (uint8_t)hit;
		took = true;
	}
	return took;
}

/* Keep an entry in time order: the capture and the tracker report a little apart. */
static void ladder_add(struct scenario *sc, const struct scenario_ladder *e)
{
	size_t i;

	if (!sc->ladder)
		sc->ladder = xcalloc(SC_MAX_LADDER, sizeof(*sc->ladder));
	if (sc->nladder == SC_MAX_LADDER) {
		/* Rarely: a long scenario forgets its oldest half at once. */
		memmove(sc->ladder, sc->ladder + SC_MAX_LADDER / 2,
			(SC_MAX_LADDER / 2) * sizeof(*sc->ladder));
		sc->nladder = SC_MAX_LADDER / 2;
	}
	for (i = sc->nladder; i > 0 && sc->ladder[i - 1].mono > e->mono; i--)
		;
	memmove(sc->ladder + i + 1, sc->ladder + i, (sc->nladder - i) * sizeof(*sc->ladder));
	sc->ladder[i] = *e;
	sc->nladder++;
}

/* The name of actor a for a ladder observation, or NULL. */
static const char *actor_name(const struct scenario *sc, int a)
{
	return a >= 0 && (size_t)a < sc->nactors ? sc->actors[a].name : NULL;
}

/*
 * A ladder entry goes through the pipeline like any observation: the
 * recorder stores it, and this module's own sink puts it on the ladder.
 */
static void hand_on(struct scenario *sc, struct loop *l, const struct scenario_ladder *e)
{
	struct obs o = {
	    .kind = OBS_SEGMENT,
	    .mono = e->mono,
	    .wall = wall_ns() - (mono_ns() - e->mono),
	    .seg = e,
	    .seg_names = {actor_name(sc, e->actor),
			  e->type == SCENARIO_LADDER_SEG ? actor_name(sc, e->peer) : NULL},
	};

	loop_observe(l, &o);
}

/* One IPv4 TCP segment as it left its sender. */
static void on_segment(struct scenario *sc, struct loop *l, const uint8_t *p, size_t n,
		       int64_t mono)
{
	const struct iphdr *ip = (const void *)p;
	const struct tcphdr *th;
	struct scenario_ladder e = {.mono = mono, .type = SCENARIO_LADDER_SEG};
	struct sc_flow *f, *back;
	size_t ihl, thl, tot;
	uint16_t sport, dport;
	uint32_t seq, span;
	unsigned kinds;

	if (n < sizeof(*ip) || ip->version != 4 || ip->protocol != IPPROTO_TCP)
		return;
	ihl = (size_t)ip->ihl * 4;
	tot = ntohs(ip->tot_len);
	if (ihl < sizeof(*ip) || tot > n || tot < ihl + sizeof(*th))
		return;
	th = (const void *)(p + ihl);
	thl = (size_t)th->doff * 4;
	if (thl < sizeof(*th) || ihl + thl > tot)
		return;
	sport = ntohs(th->source);
	dport = ntohs(th->dest);
	e.sport = sport;
	e.dport = dport;
	e.actor = (int8_t)sc_actor_of(sc, sport, dport);
	e.peer = (int8_t)sc_actor_of(sc, dport, sport);
	/* Not between two of ours: another program's traffic in the namespace. */
	if (e.actor < 0 && e.peer < 0)
		return;
	e.tcpflags = p[ihl + 13];
	e.len = (uint16_t)(tot - ihl - thl);
	seq = ntohl(th->seq);
	f = flow_find(sc, sport, dport);
	/* A SYN with a new number: a new connection on the same 4-tuple. */
	if (!f || ((e.tcpflags & TH_SYN) && seq != f->isn))
		f = flow_new(sc, sport, dport, seq);
	span = e.len + !!(e.tcpflags & TH_SYN) + !!(e.tcpflags & TH_FIN);
	if (span && (int32_t)(seq - f->next) < 0)
		e.marks |= SCENARIO_SEG_RETRANS;
	if (span && (int32_t)(seq + span - f->next) > 0)
		f->next = seq + span;
	e.seq = seq - f->isn;
	back = flow_find(sc, dport, sport);
	e.ack = (e.tcpflags & TH_ACK) ? ntohl(th->ack_seq) - (back ? back->isn : 0) : 0;
	kinds = sc_seg_kinds(e.tcpflags);
	if (lost(sc, e.actor, e.peer, kinds))
		e.marks |= SCENARIO_SEG_LOST;
	if (e.actor >= 0) {
		sc->actors[e.actor].sent |= (uint8_t)kinds;
		if (e.marks & SCENARIO_SEG_RETRANS)
			sc->actors[e.actor].resent |= (uint8_t)kinds;
	}
	hand_on(sc, l, &e);
}

static int cap_fd(void *ctx)
{
	struct scenario *sc = ctx;

	return sc->cap_fd;
}

static void cap_input(void *ctx, struct loop *l)
{
	struct scenario *sc = ctx;

	for (int k = 0; k < CAP_BURST && sc->cap_fd >= 0; k++) {
		uint8_t buf[2048];
		char cbuf[CMSG_SPACE(sizeof(struct timespec))];
		struct sockaddr_ll from;
		struct iovec iov = {buf, sizeof(buf)};
		struct msghdr mh = {.msg_name = &from,
				    .msg_namelen = sizeof(from),
				    .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf)};
		struct timespec ts = {0, 0};
		ssize_t n = recvmsg(sc->cap_fd, &mh, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (from.sll_pkttype != PACKET_OUTGOING || from.sll_protocol != htons(ETH_P_IP))
			continue;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS)
				memcpy(&ts, CMSG_DATA(c), sizeof(ts));
		on_segment(sc, l, buf, (size_t)n, ts.tv_sec ? packet_mono(&ts) : mono_ns());
	}
}

/* Hand on the states heard since the last observation. */
static void flush_states(struct scenario *sc, struct loop *l)
{
	struct scenario_ladder pend[SC_MAX_LADDER_PEND];
	size_t n = sc->nlad_pend;

	/* Copied first: handing on may bring more (loop_observe() calls this sink again). */
	memcpy(pend, sc->lad_pend, n * sizeof(pend[0]));
	sc->nlad_pend = 0;
	for (size_t i = 0; i < n; i++)
		hand_on(sc, l, &pend[i]);
}

/* As the script language spells an actor's name: a-z first, then a-z, 0-9, '-', '_'. */
static bool name_ok(const char *n)
{
	size_t len = strlen(n);

	return len && len < SC_NAME_LEN && n[0] >= 'a' && n[0] <= 'z' &&
	       strspn(n, "abcdefghijklmnopqrstuvwxyz0123456789-_") == len;
}

/*
 * A replay names the actors as the recording did (a stand-in until then),
 * and starts their clock at the first entry.
 */
static void learn(struct scenario *sc, const struct obs *o)
{
	int8_t who[2] = {o->seg->actor, o->seg->peer};

	if (!sc->nladder)
		sc->t0 = o->seg->mono;
	for (int k = 0; k < 2; k++) {
		int a = who[k];
		char stand_in[SC_NAME_LEN];

		if (a < 0 || a >= SC_MAX_ACTORS)
			continue;
		for (size_t i = sc->nactors; i <= (size_t)a; i++)
			snprintf(sc->actors[i].name, sizeof(sc->actors[i].name), "actor%zu", i);
		if ((size_t)a >= sc->nactors)
			sc->nactors = (size_t)a + 1;
		/*
		 * Named once, by the first entry that names it, and only as a
		 * script could have: the name goes into SVG and onto the
		 * screen as it is, and a file may hold anything.
		 */
		snprintf(stand_in, sizeof(stand_in), "actor%d", a);
		if (o->seg_names[k] && name_ok(o->seg_names[k]) &&
		    !strcmp(sc->actors[a].name, stand_in))
			snprintf(sc->actors[a].name, sizeof(sc->actors[a].name), "%s",
				 o->seg_names[k]);
	}
}

static void cap_observe(void *ctx, struct loop *l, const struct obs *o)
{
	struct scenario *sc = ctx;

	if (o->kind == OBS_SEGMENT && o->seg) {
		if (sc->replayed)
			learn(sc, o);
		ladder_add(sc, o->seg);
		if (o->seg->type == SCENARIO_LADDER_SEG)
			sc_put_segment(sc, o->seg);
	}
	if (sc->nlad_pend)
		flush_states(sc, l);
}

static void cap_tick(void *ctx, struct loop *l, int64_t now)
{
	struct scenario *sc = ctx;

	(void)now;
	if (sc->nlad_pend)
		flush_states(sc, l);
}

/* A replay that seeks starts its table again: the ladder starts again with it. */
static void cap_reset(void *ctx)
{
	struct scenario *sc = ctx;

	if (sc->replayed)
		sc->nladder = 0;
}

static void cap_close(void *ctx)
{
	struct scenario *sc = ctx;

	if (sc->cap_fd >= 0)
		close(sc->cap_fd);
	sc->cap_fd = -1;
}

static const struct sink_ops cap_ops = {
    .name = "scenario-capture",
    .observe = cap_observe,
    .reset = cap_reset,
    .fd = cap_fd,
    .input = cap_input,
    .tick = cap_tick,
    .close = cap_close,
};

struct scenario *scenario_replay(struct loop *l, const char *name, FILE *batch_out)
{
	struct scenario *sc = xcalloc(1, sizeof(*sc));

	sc->name = xstrdup(name);
	sc->replayed = true;
	sc->cap_fd = -1;
	sc->reply_fd = -1;
	sc->o.batch = batch_out != NULL;
	sc->o.out = batch_out;
	sc->l = l; /* a reader gone (`| head`) ends the replay */
	loop_add_sink(l, &cap_ops, sc);
	return sc;
}

int sc_cap_start(struct scenario *sc, struct loop *l, char *err, size_t len)
{
	/* Outgoing copies reach only ETH_P_ALL sockets. */
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
	int fd, on = 1;

	sc->cap_fd = -1;
	if (!sc->netns)
		return 0;
	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
	if (fd < 0)
		goto fail;
	sll.sll_ifindex = (int)if_nametoindex("lo");
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	if (!sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		close(fd);
		goto fail;
	}
	sc->cap_fd = fd;
	loop_add_sink(l, &cap_ops, sc);
	return 0;
fail:
	snprintf(err, len, "cannot capture the scenario's segments: %s", strerror(errno));
	return -1;
}

void sc_ladder_state(struct scenario *sc, int64_t mono, int actor, unsigned from, unsigned to,
		     uint16_t sport, uint16_t dport)
{
	struct scenario_ladder e = {.mono = mono, .type = SCENARIO_LADDER_STATE};

	/*
	 * The ladder is the segments' story: without a capture it stays empty.
	 * Before the first step only prepare's port probes come and go.
	 */
	if (sc->cap_fd < 0 || (sc->cur == 0 && !sc->cur_begun))
		return;
	e.actor = (int8_t)actor;
	e.peer = -1;
	e.from = (uint8_t)from;
	e.to = (uint8_t)to;
	e.sport = sport;
	e.dport = dport;
	/*
	 * Heard inside the tracker's event: handed on (and recorded) once the
	 * observation is done. More than a burst can hold goes on the ladder
	 * at once, unrecorded, rather than lost from the screen.
	 */
	if (sc->nlad_pend == SC_MAX_LADDER_PEND) {
		ladder_add(sc, &e);
		return;
	}
	sc->lad_pend[sc->nlad_pend++] = e;
}

void sc_cap_rule(struct scenario *sc, size_t i)
{
	const struct sc_step *st = &sc->steps[i];

	if (st->kind == SK_HEAL) {
		sc->ndrops = 0;
		return;
	}
	/* More rules than kept: the oldest is forgotten (its segments then go unmarked). */
	if (sc->ndrops == SC_MAX_DROPS) {
		memmove(sc->drops, sc->drops + 1, (SC_MAX_DROPS - 1) * sizeof(sc->drops[0]));
		sc->ndrops--;
	}
	sc->drops[sc->ndrops++] = (struct sc_drop){
	    .actor = st->actor,
	    .both = st->kind == SK_BLACKHOLE,
	    .once = st->once,
	    .segs = st->segs,
	};
}

size_t scenario_ladder_len(const struct scenario *sc)
{
	return sc ? sc->nladder : 0;
}

const struct scenario_ladder *scenario_ladder_at(const struct scenario *sc, size_t i)
{
	return i < sc->nladder ? &sc->ladder[i] : NULL;
}

const char *scenario_actor_name(const struct scenario *sc, int i)
{
	return i >= 0 && (size_t)i < sc->nactors ? sc->actors[i].name : NULL;
}
