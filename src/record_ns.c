/* record_ns.c - a snapshot's namespace block in a recording: which namespaces, their labels. */
#include "config.h"
#include "record_fmt.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Far more namespaces than a box runs; bounds what a damaged count may allocate. */
#define RECORD_NS_MAX 65536

static void ns_reserve(struct rsnap *r, uint32_t n)
{
	if (n > r->ns_cap || !r->ns) {
		r->ns = xreallocarray(r->ns, n ? n : 1, sizeof(*r->ns));
		r->ns_cap = n ? n : 1;
	}
}

void rsnap_copy_ns(struct rsnap *d, const struct rsnap *s)
{
	ns_reserve(d, s->nns);
	if (s->nns)
		memcpy(d->ns, s->ns, s->nns * sizeof(*s->ns));
	d->nns = s->nns;
	d->nsflags = s->nsflags;
}

const char *rsnap_ns_label(const struct rsnap *base, uint32_t idx)
{
	for (uint32_t i = 0; base && i < base->nns; i++)
		if (base->ns[i].idx == idx)
			return base->ns[i].label;
	return NULL;
}

void record_put_ns(struct rbuf *b, const struct rsnap *sn, const struct rsnap *base)
{
	if (!(sn->nsflags & RNS_PRESENT))
		return;
	rbuf_u32(b, sn->nsflags & RNS_MULTI ? 1 : 0);
	rbuf_u32(b, sn->nns);
	for (uint32_t i = 0; i < sn->nns; i++) {
		const char *was = rsnap_ns_label(base, sn->ns[i].idx);

		rbuf_u32(b, sn->ns[i].idx);
		rbuf_str(b, was && !strcmp(was, sn->ns[i].label) ? "" : sn->ns[i].label);
	}
}

int record_get_ns(struct rcur *c, struct rsnap *out, const struct rsnap *base)
{
	uint32_t flags, n;

	out->nsflags = 0;
	out->nns = 0;
	if (!rcur_left(c))
		return 0;
	flags = rcur_u32(c);
	n = rcur_u32(c);
	/* Each namespace takes at least its index and a string length. */
	if (c->bad || n > RECORD_NS_MAX || n > rcur_left(c) / 6)
		return -1;
	ns_reserve(out, n);
	for (uint32_t i = 0; i < n; i++) {
		struct rns *ns = &out->ns[i];
		const char *was;

		ns->idx = rcur_u32(c);
		rcur_str(c, ns->label, sizeof(ns->label));
		if (!ns->label[0] && (was = rsnap_ns_label(base, ns->idx)))
			memcpy(ns->label, was, sizeof(ns->label));
	}
	if (c->bad)
		return -1;
	out->nns = n;
	out->nsflags = RNS_PRESENT | (flags & 1 ? RNS_MULTI : 0);
	return 0;
}
