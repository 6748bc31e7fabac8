/* filter.h - filter expressions in the spirit of ss: states, ports, addresses, and/or/not. */
#ifndef TCPDWELL_FILTER_H
#define TCPDWELL_FILTER_H

#include "sock.h"

struct filter;
struct netns_tab;

/*
 * Parse an expression such as "state fin-wait-1 and (sport = :80 or dst
 * 10.0.0.0/8)". On error returns NULL and writes to err a message that
 * names the offending word and its column.
 */
struct filter *filter_parse(const char *expr, char *err, size_t errlen);
void filter_free(struct filter *f);
bool filter_match(const struct filter *f, const struct sock *s);
/* The states a matching socket can be in (ST_MASK bits); ST_ALL_MASK when any. */
uint32_t filter_states(const struct filter *f);
/* The expression as given. */
const char *filter_text(const struct filter *f);
/* Where `netns NAME` finds each socket's namespace label (NULL: no socket has one). */
void filter_bind_netns(struct filter *f, const struct netns_tab *labels);

/* Walking the parsed tree, for the kernel bytecode compiler in diag.c. */
enum filter_op {
	FOP_AND, FOP_OR, FOP_NOT, FOP_TRUE,
	FOP_STATE,	  /* u.states */
	FOP_SPORT, FOP_DPORT, /* u.port with cmp */
	FOP_SRC, FOP_DST,     /* u.net */
	FOP_NETNS,	      /* u.name: the namespace label (user space only) */
};
enum filter_cmp { FCMP_EQ, FCMP_NE, FCMP_LT, FCMP_LE, FCMP_GT, FCMP_GE };
struct filter_node {
	enum filter_op op;
	enum filter_cmp cmp;
	const struct filter_node *a, *b; /* operands of AND, OR (a, b) and NOT (a) */
	union {
		uint32_t states;
		uint16_t port;
		struct {
			uint8_t family; /* 0: any */
			uint8_t prefix;
			uint8_t addr[16];
			int32_t port; /* -1: any */
		} net;
		struct {
			size_t off, len; /* in filter_text() */
		} name;
	} u;
};
const struct filter_node *filter_root(const struct filter *f);

#endif
