/* record_owner.c - sockets' owners in a recording: the OWNER record, the writer's memory of it. */
#include "config.h"
#include "record_fmt.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The smallest entry: u32 inode, u32 pid, an empty string. */
#define OWNER_ENTRY_MIN 10

void record_put_owners(struct rbuf *b, const struct record_owner *v, size_t n)
{
	rbuf_u32(b, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		rbuf_u32(b, v[i].inode);
		rbuf_u32(b, (uint32_t)v[i].pid);
		rbuf_str(b, v[i].comm);
	}
}

int record_get_owners(struct rcur *c, struct record_owner **v, size_t *cap, size_t *n,
		      const char **why)
{
	uint32_t count = rcur_u32(c);

	*n = 0;
	/* A count the payload cannot hold is damage, not a reason to allocate. */
	if (c->bad || count > rcur_left(c) / OWNER_ENTRY_MIN) {
		*why = "owner count larger than the record";
		return -1;
	}
	if (count > *cap) {
		*v = xreallocarray(*v, count, sizeof(**v));
		*cap = count;
	}
	for (uint32_t i = 0; i < count; i++) {
		struct record_owner *o = &(*v)[i];

		o->inode = rcur_u32(c);
		o->pid = (int32_t)rcur_u32(c);
		rcur_str(c, o->comm, sizeof(o->comm));
		if (c->bad) {
			*why = "short payload";
			return -1;
		}
		if (!o->inode || o->pid <= 0) {
			*why = "owner without inode or pid";
			return -1;
		}
	}
	*n = count;
	return 0;
}

/* ---- what the writer has recorded since the epoch began: inode -> pid ---- */

static size_t oset_slot(const struct record_oset *s, uint32_t inode)
{
	return (size_t)(inode * 2654435761u) & (s->cap - 1);
}

int record_oset_get(const struct record_oset *s, uint32_t inode)
{
	if (!s->cap)
		return 0;
	for (size_t i = oset_slot(s, inode);; i = (i + 1) & (s->cap - 1)) {
		if (s->inode[i] == inode)
			return s->pid[i];
		if (!s->inode[i])
			return 0;
	}
}

void record_oset_put(struct record_oset *s, uint32_t inode, int pid)
{
	size_t i;

	if (2 * (s->n + 1) > s->cap) {
		struct record_oset o = *s;

		s->cap = s->cap ? 2 * s->cap : 256;
		s->inode = xcalloc(s->cap, sizeof(*s->inode));
		s->pid = xcalloc(s->cap, sizeof(*s->pid));
		s->n = 0;
		for (size_t j = 0; j < o.cap; j++)
			if (o.inode[j])
				record_oset_put(s, o.inode[j], o.pid[j]);
		free(o.inode);
		free(o.pid);
	}
	for (i = oset_slot(s, inode); s->inode[i] && s->inode[i] != inode;
	     i = (i + 1) & (s->cap - 1))
		;
	s->n += !s->inode[i];
	s->inode[i] = inode;
	s->pid[i] = pid;
}

void record_oset_clear(struct record_oset *s)
{
	if (s->cap) {
		memset(s->inode, 0, s->cap * sizeof(*s->inode));
		memset(s->pid, 0, s->cap * sizeof(*s->pid));
	}
	s->n = 0;
}

void record_oset_free(struct record_oset *s)
{
	free(s->inode);
	free(s->pid);
	memset(s, 0, sizeof(*s));
}
