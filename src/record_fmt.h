/* record_fmt.h - the recording format inside the record module: encoding, writer, reader. */
#ifndef TCPDWELL_RECORD_FMT_H
#define TCPDWELL_RECORD_FMT_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

#include "loop.h"
#include "netns.h"
#include "record.h"
#include "scenario.h"

#define RECORD_MAGIC "TCPDWREC"
#define RECORD_VERSION 1
#define RECORD_FILE_HDR 16	     /* magic, version, header length, CRC */
#define RECORD_HDR 24		     /* length, type, flags, reserved, mono, wall */
#define RECORD_MIN (RECORD_HDR + 4)  /* plus the CRC */
#define RECORD_MAX (64u << 20)	     /* a record on disk, header and CRC included */
#define RECORD_RAW_MAX (256u << 20)  /* a payload once decompressed */
/*
 * Times in a file, on the timeline and as wall time, lie from 0 to this
 * (the year 2116): the difference or sum of two of them never overflows.
 */
#define RECORD_TIME_MAX	 (INT64_MAX / 2)
#define RECORD_RATIO_MAX 256	       /* a payload once decompressed, by its compressed size */
#define RECORD_STR_MAX 1024	     /* host, kernel, source, note */
#define RECORD_INDEX_TAG "TDWINDEX"

enum record_type {
	REC_SEGMENT = 1, /* a writing session starts: host, kernel, interval, source */
	REC_KEY = 2,	 /* a whole snapshot */
	REC_DELTA = 3,	 /* a snapshot as changes to the last one with the same state mask */
	REC_DESTROY = 4, /* OBS_DESTROY */
	REC_CHANGE = 5,	 /* OBS_CHANGE */
	REC_NOTE = 6,	 /* OBS_NOTE */
	REC_INDEX = 7,	 /* where the epochs start; last in a cleanly closed file */
	REC_LADDER = 8,	 /* OBS_SEGMENT: a scenario's captured segment or an actor's state */
	REC_OWNER = 9,	 /* the processes that own sockets, as they were learned */
};
#define REC_LAST REC_OWNER /* the highest type this version reads; later ones are skipped */
enum {
	RECF_ZSTD = 1 << 0,  /* the payload is one zstd frame */
	RECF_EPOCH = 1 << 1, /* a KEY that forgets every earlier base: a seek point */
};

/* Encoding primitives and the checksum (record_enc.c). */
uint32_t record_crc32(uint32_t crc, const void *buf, size_t len);

struct rbuf {
	uint8_t *p;
	size_t len, cap;
};
void rbuf_put(struct rbuf *b, const void *p, size_t n);
void rbuf_u8(struct rbuf *b, uint8_t v);
void rbuf_u16(struct rbuf *b, uint16_t v);
void rbuf_u32(struct rbuf *b, uint32_t v);
void rbuf_u64(struct rbuf *b, uint64_t v);
void rbuf_str(struct rbuf *b, const char *s);
void rbuf_free(struct rbuf *b);

/* A bounded reading cursor: reads past the end return 0 and set bad. */
struct rcur {
	const uint8_t *p;
	size_t len, pos;
	bool bad;
};
uint8_t rcur_u8(struct rcur *c);
uint16_t rcur_u16(struct rcur *c);
uint32_t rcur_u32(struct rcur *c);
uint64_t rcur_u64(struct rcur *c);
const uint8_t *rcur_bytes(struct rcur *c, size_t n);
/* A length-prefixed string, sanitised into dst. */
void rcur_str(struct rcur *c, char *dst, size_t dstlen);
static inline size_t rcur_left(const struct rcur *c)
{
	return c->len - c->pos;
}

void record_put_le(uint8_t *p, uint64_t v, unsigned width);
uint64_t record_get_le(const uint8_t *p, unsigned width);

/*
 * What a recording stores of a socket: the row and its tcp_info (zero, and
 * s.has_info 0, when it has none). Snapshots keep tcp_info beside their
 * rows; the codec wants them side by side.
 */
struct rrow {
	struct sock s;
	struct sock_info info;
};
/* A namespace a snapshot covers, and its label. */
struct rns {
	uint32_t idx;
	char label[NETNS_LABEL_MAX];
};
enum { RNS_PRESENT = 1 << 0, RNS_MULTI = 1 << 1 }; /* rsnap.nsflags */

/* A snapshot of such rows: the writer's bases and the reader's frames. */
struct rsnap {
	int64_t mono, wall;
	uint32_t states;
	size_t n, cap;
	struct rrow *v;
	/* The namespace block: RNS_PRESENT when the snapshot had one (a run with --netns). */
	uint32_t nsflags;
	uint32_t nns, ns_cap;
	struct rns *ns;
};
void rsnap_reserve(struct rsnap *r, size_t n);
/* Copies of a snapshot's rows and tcp_info, either way (rsnap_to() sets with_info). */
void rsnap_from(struct rsnap *r, const struct snapshot *sn);
void rsnap_to(struct snapshot *sn, const struct rsnap *r);
void rsnap_free(struct rsnap *r);
/* d's namespace block becomes a copy of s's. */
void rsnap_copy_ns(struct rsnap *d, const struct rsnap *s);
/* The label base has for namespace idx, or NULL. */
const char *rsnap_ns_label(const struct rsnap *base, uint32_t idx);

/*
 * The namespace block after a snapshot's sockets (record_ns.c): u32 flags
 * (1 more than one namespace), u32 count, then per namespace u32 index and
 * a string label, empty in a delta when base has the same. Readers of
 * format 1 that predate it ignore it: it follows everything they read.
 */
void record_put_ns(struct rbuf *b, const struct rsnap *sn, const struct rsnap *base);
/* Read it into out when the payload has one (labels from base where empty); -1 if malformed. */
int record_get_ns(struct rcur *c, struct rsnap *out, const struct rsnap *base);

/* Sockets: whole ones by columns, and snapshot deltas (record_enc.c). */
void record_put_socks(struct rbuf *b, const struct rrow *v, size_t n);
int record_get_socks(struct rcur *c, struct rrow *v, size_t n);
void record_put_key(struct rbuf *b, const struct sock_key *k);
void record_get_key(struct rcur *c, struct sock_key *k);

/* The smallest encoding of one socket in a column block, to bound counts by payload sizes. */
#define RECORD_SOCK_MIN 40

/*
 * Encode sn as changes to base. Slow-moving clock fields (timer left, time
 * since last data) are predicted from the elapsed time and recorded only
 * when off by more than a tolerance, so base is rewritten to what a reader
 * will reconstruct. map is scratch space the encoder owns.
 */
struct record_cmap {
	uint64_t *keys;
	uint32_t *vals;
	size_t cap;
};
void record_put_delta(struct rbuf *b, struct rsnap *base, const struct rsnap *sn,
		      struct record_cmap *map);
/* Rebuild a snapshot from base and a delta payload into out; -1 when malformed. */
int record_get_delta(struct rcur *c, const struct rsnap *base, struct rsnap *out,
		     const char **why);
void record_cmap_free(struct record_cmap *m);

/*
 * A ladder entry (record_ladder.c), after the record's i64 mono and wall:
 * u8 kind (0 segment, 1 state), i8 actor, i8 peer, u16 source and
 * destination port, string actor name, string peer name; then a segment's
 * u8 TCP flags, u8 marks, u32 relative seq, u32 relative ack, u16 payload
 * length, or a state's u8 old and u8 new state. Bytes after those are
 * ignored: a later version may add fields.
 */
#define RECORD_ACTOR_MAX 32 /* an actor's name as read; the scripts' are shorter */
void record_put_ladder(struct rbuf *b, const struct obs *o);
/*
 * The entry after the times into *e (mono left as it was) and the names;
 * 0, 1 for a kind this version does not know (to skip), -1 if malformed
 * with *why set.
 */
int record_get_ladder(struct rcur *c, struct scenario_ladder *e, char names[2][RECORD_ACTOR_MAX],
		      const char **why);

/*
 * Owners (record_owner.c), after the record's i64 mono and wall: u32
 * count, then per socket u32 inode, u32 pid, string command. An owner
 * holds for its inode until the segment ends or a later record names
 * another; the writer names again, right after each epoch's key frame
 * (but a segment's first), the owners of its sockets. Bytes after the
 * entries are ignored.
 */
struct record_owner {
	uint32_t inode;
	int32_t pid;
	char comm[64];
};
void record_put_owners(struct rbuf *b, const struct record_owner *v, size_t n);
/* Into *v (grown, *cap its size), *n entries; -1 if malformed with *why set. */
int record_get_owners(struct rcur *c, struct record_owner **v, size_t *cap, size_t *n,
		      const char **why);

/* The owners a writer recorded since its epoch began: inode -> pid (0: none). */
struct record_oset {
	uint32_t *inode;
	int *pid;
	size_t n, cap;
};
int record_oset_get(const struct record_oset *s, uint32_t inode);
void record_oset_put(struct record_oset *s, uint32_t inode, int pid);
void record_oset_clear(struct record_oset *s);
void record_oset_free(struct record_oset *s);

/* One writing session, as its SEGMENT record tells. */
struct record_seg {
	char host[256], kernel[256], source[256], version[64];
	int64_t interval_ns;
	int64_t start_wall, start_mono;
	int64_t shift; /* added to every mono of the segment: one timeline over segments */
	uint64_t off;  /* of the SEGMENT record */
};

/* Where an epoch starts, on the file's timeline. */
struct record_epoch {
	uint64_t off, seg_off;
	int64_t mono, wall;
};

/* The writer (record_write.c). */
struct record_writer;
struct record_writer *record_writer_open(const char *path, const struct record_meta *m,
					 char *err, size_t errlen);
/* What opening it cut off (a damaged tail), for a note; NULL when nothing. */
const char *record_writer_cut(const struct record_writer *w);
struct procmap;
/* Where sockets' owners come from (NULL: none recorded); looked for before each snapshot. */
void record_writer_set_owners(struct record_writer *w, struct procmap *pm);
/* Where snapshots' namespace labels come from (NULL or inactive: no namespace block). */
void record_writer_set_labels(struct record_writer *w, const struct netns_tab *labels);
/* Write one observation; 0, or -errno with the file cut back to its last complete record. */
int record_writer_obs(struct record_writer *w, const struct obs *o);
/* Epoch length: a key frame every ns or every count snapshots, whichever comes first. */
void record_writer_set_epoch(struct record_writer *w, int64_t ns, unsigned count);
uint64_t record_writer_size(const struct record_writer *w);
/* Write the index and close; -errno if the index could not be written (the file is valid). */
int record_writer_close(struct record_writer *w);

/* The reader (record_read.c). */
struct record_item {
	enum record_type type;
	uint8_t flags;
	uint64_t off;	    /* of the record */
	int64_t at;	    /* the record's time on the file's timeline: never goes back */
	int64_t mono, wall; /* the observation's own times (mono on the timeline) */
	const struct snapshot *snap;	/* KEY, DELTA */
	const struct rsnap *ns;		/* KEY, DELTA: its namespaces and labels (nsflags 0: none) */
	const struct record_seg *seg;	/* SEGMENT */
	struct sock sock;		/* DESTROY */
	struct sock_info info;		/* DESTROY: the final tcp_info when sock.has_info */
	struct sock_key key;		/* CHANGE */
	uint8_t from, to;		/* CHANGE */
	uint64_t cookie;		/* CHANGE: 0 when the source did not know it */
	const char *note;		/* NOTE */
	struct scenario_ladder lad;	/* LADDER: type UINT8_MAX for a later kind, to skip */
	const char *lad_names[2];	/* LADDER: actor and peer, NULL when not named */
	const struct record_owner *owners; /* OWNER: nowners of them */
	size_t nowners;
};

struct record_reader;
/* Check the file header and the first segment; NULL with err naming path and offset. */
struct record_reader *record_reader_open(const char *path, char *err, size_t errlen);
/* The same on an open descriptor (taken over), name for messages. */
struct record_reader *record_reader_fdopen(int fd, const char *name, char *err, size_t errlen);
void record_reader_close(struct record_reader *r);
/*
 * The next record: 1 with it filled (valid until the next call), 0 at a
 * clean end of the file, -1 at damage (record_reader_error() says what and
 * where; everything before it was good). INDEX records are skipped.
 */
int record_reader_next(struct record_reader *r, struct record_item *it);
const char *record_reader_error(const struct record_reader *r);
/* End offset of the last good record read. */
uint64_t record_reader_good(const struct record_reader *r);
const struct record_seg *record_reader_first_seg(const struct record_reader *r);
/*
 * The epochs, from the index at the end or a quick scan of the record
 * headers; also the last record's times. Valid until close.
 */
size_t record_reader_epochs(struct record_reader *r, const struct record_epoch **v,
			    int64_t *end_mono, int64_t *end_wall);
/* Continue reading at an epoch from record_reader_epochs(); -1 with the error set. */
int record_reader_goto(struct record_reader *r, const struct record_epoch *e);
/* Scan a whole file for the writer's append: last good end, last times, epochs. */
int record_reader_scan(struct record_reader *r, uint64_t *good_end, int64_t *last_mono,
		       int64_t *last_wall, struct record_epoch **epochs, size_t *nepochs);
/* The first whole, checksummed record after offset from, or 0: damage before it is no tail. */
uint64_t record_reader_valid_after(struct record_reader *r, uint64_t from);

#endif
