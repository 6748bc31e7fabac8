/* sock.h - one observed TCP socket and one snapshot of them, as every source reports them. */
#ifndef TCPDWELL_SOCK_H
#define TCPDWELL_SOCK_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* TCP states, numbered as the kernel numbers them (include/net/tcp_states.h). */
enum tcp_st {
	ST_UNKNOWN = 0,
	ST_ESTABLISHED = 1,
	ST_SYN_SENT = 2,
	ST_SYN_RECV = 3,
	ST_FIN_WAIT1 = 4,
	ST_FIN_WAIT2 = 5,
	ST_TIME_WAIT = 6,
	ST_CLOSE = 7,
	ST_CLOSE_WAIT = 8,
	ST_LAST_ACK = 9,
	ST_LISTEN = 10,
	ST_CLOSING = 11,
	ST_NEW_SYN_RECV = 12,
	ST_MAX = 13
};
#define ST_MASK(st) (1u << (st))
#define ST_ALL_MASK ((1u << ST_MAX) - 2)
/* The rare states: everything but ESTABLISHED, LISTEN, TIME_WAIT. */
#define ST_RARE_MASK                                                                              \
	(ST_MASK(ST_SYN_SENT) | ST_MASK(ST_SYN_RECV) | ST_MASK(ST_FIN_WAIT1) |                     \
	 ST_MASK(ST_FIN_WAIT2) | ST_MASK(ST_CLOSE_WAIT) | ST_MASK(ST_LAST_ACK) |                   \
	 ST_MASK(ST_CLOSING) | ST_MASK(ST_NEW_SYN_RECV))

/* "FIN_WAIT_1", ...; "CLOSED" for ST_CLOSE; "UNKNOWN(n)" out of range (into a static ring). */
const char *st_name(unsigned st);
/* A name of at most 8 columns, as ss spells it (ESTAB, FIN-WT-1), for narrow cells. */
const char *st_short(unsigned st);
/* Accepts FIN_WAIT_1, fin-wait-1, fin_wait1, finwait1, ...; -1 if none. */
int st_parse(const char *s);
/* States in the order of the TCP state machine, for grouping. */
extern const uint8_t st_order[];
extern const size_t st_order_len;
/* Position of st in st_order (ST_MAX for unknown). */
unsigned st_rank(unsigned st);

/* Kernel timer kinds (idiag_timer). */
enum tcp_timer { TM_NONE = 0, TM_RETRANS = 1, TM_KEEPALIVE = 2, TM_TIMEWAIT = 3, TM_PROBE = 4 };
const char *timer_name(unsigned t);

/*
 * The tcp_info figures we keep. Not part of struct sock: only a recording
 * needs them for every socket (its dumps ask for them, into the snapshot's
 * info array); the detail view asks the source for one socket's.
 */
struct sock_info {
	uint32_t rtt_us, rttvar_us;
	uint32_t snd_cwnd, snd_mss, rcv_mss;
	uint32_t unacked, lost, retrans, total_retrans;
	uint8_t ca_state, backoff, probes;
	uint64_t bytes_acked, bytes_received, bytes_sent, bytes_retrans;
	uint32_t segs_out, segs_in;
	uint32_t last_data_recv_ms, last_data_sent_ms;
	/*
	 * Since the last ACK came (tcpi_last_ack_recv): for a socket entered
	 * on an ACK (CLOSE_WAIT, CLOSING, FIN_WAIT_2), a lower bound on its
	 * time in the state. Not recorded: it serves the first sight only.
	 */
	uint32_t last_ack_recv_ms;
};

/* One socket as one dump saw it. Fixed size, no pointers: copied freely. */
struct sock {
	uint64_t cookie;
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t state;	/* enum tcp_st */
	uint8_t timer;	/* enum tcp_timer */
	uint8_t retrans;
	uint8_t has_info; /* the snapshot's info[] holds this row's tcp_info */
	uint16_t sport, dport; /* host byte order */
	uint8_t src[16], dst[16];
	uint32_t ifindex;
	uint32_t expires_ms; /* time left on the timer */
	uint32_t rqueue, wqueue;
	uint32_t uid;
	uint32_t inode;
	uint32_t netns; /* index into the source's namespace labels, 0 = own */
};

/*
 * The final tcp_info of the last destroyed sockets, by cookie: a gone
 * socket's figures for the detail view (a ring; the oldest are overwritten).
 */
#define INFO_RING 256
struct info_ring {
	struct {
		uint64_t cookie;
		struct sock_info info;
	} v[INFO_RING];
	unsigned n; /* put so far */
};
void info_ring_put(struct info_ring *r, uint64_t cookie, const struct sock_info *in);
/* The newest figures kept for cookie; false when none are. */
bool info_ring_get(const struct info_ring *r, uint64_t cookie, struct sock_info *out);

/* The 4-tuple key, for sockets without a cookie and for joining sources. */
struct sock_key {
	uint8_t family;
	uint16_t sport, dport;
	uint8_t src[16], dst[16];
	uint32_t netns;
};
void sock_key(const struct sock *s, struct sock_key *k);
uint64_t sock_key_hash(const struct sock_key *k);
/* The same as sock_key_hash() of s's key, without making the key. */
uint64_t sock_hash(const struct sock *s);
bool sock_key_eq(const struct sock_key *a, const struct sock_key *b);

/*
 * One dump. states: which states the dump asked the kernel for; a socket
 * whose last state is outside it says nothing by its absence. complete is
 * false when the dump failed midway: such a snapshot is never applied.
 */
struct snapshot {
	int64_t mono;	/* CLOCK_MONOTONIC ns when the dump started */
	int64_t wall;	/* CLOCK_REALTIME ns at the same moment */
	uint32_t states; /* ST_MASK bits asked for */
	bool complete;
	bool unique;	 /* no two rows share a cookie: diag_dedup() made sure */
	bool with_info;	 /* info[] runs beside v[] (set before filling; kept by clear) */
	size_t n, cap;
	struct sock *v;
	struct sock_info *info; /* info[i] belongs to v[i] when v[i].has_info */
	/*
	 * The namespaces (label indexes) the dump covers: a socket of another
	 * namespace says nothing by its absence. None listed: namespace 0 alone.
	 */
	uint32_t *ns;
	uint32_t nns, ns_cap;
};
void snapshot_init(struct snapshot *sn);
void snapshot_clear(struct snapshot *sn);
struct sock *snapshot_push(struct snapshot *sn);
/* Like snapshot_push() but not zeroed: for a caller that writes every field (a parser). */
struct sock *snapshot_reserve(struct snapshot *sn);
/* Row i's tcp_info, or NULL when the snapshot has none for it. */
const struct sock_info *snapshot_info(const struct snapshot *sn, size_t i);
/* Make room for n rows (and their info when with_info); n never shrinks it. */
void snapshot_grow(struct snapshot *sn, size_t n);
/*
 * About rows rows are coming (an estimate, before a first dump): room for
 * them at once, not grown by doublings, and what is surely filled in huge
 * pages (big_huge). Returns that span of rows (empty when nothing changed),
 * for a caller that faults it in ahead.
 */
struct span snapshot_expect(struct snapshot *sn, size_t rows);
/* The dump covers namespace ns too. */
void snapshot_cover(struct snapshot *sn, uint32_t ns);
/* Whether the dump covers namespace ns. */
bool snapshot_covers(const struct snapshot *sn, uint32_t ns);
/*
 * Rows from first on were read late ns after the dump began: their timers
 * and tcp_info clocks are made to count from the dump's start, as every
 * reader of a snapshot takes them (an orphan's timer dates its state).
 */
void snapshot_timers_since(struct snapshot *sn, size_t first, int64_t late);
/*
 * Append s's rows and tcp_info to d, each row's namespace set to ns, their
 * timers counted from d's start (d->mono; s began no earlier).
 */
void snapshot_append(struct snapshot *d, const struct snapshot *s, uint32_t ns);
/* d becomes a copy of s, rows, tcp_info and namespaces, reusing d's memory. */
void snapshot_copy(struct snapshot *d, const struct snapshot *s);
void snapshot_free(struct snapshot *sn);

#endif
