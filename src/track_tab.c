#include "config.h"
#include "track_tab.h"

#include <stdlib.h>
#include <string.h>

struct tab_block {
	void *p;
	size_t len; /* as given to big_alloc() */
};

/*
 * Cookies are sequential in the kernel: mix them so that low bits spread over
 * buckets. The namespace joins in (kernels that count cookies per namespace).
 */
static uint32_t cookie_hash(uint64_t c, uint32_t netns)
{
	c += (uint64_t)netns * 0x9e3779b97f4a7c15ULL;
	c ^= c >> 30;
	c *= 0xbf58476d1ce4e5b9ULL;
	c ^= c >> 27;
	c *= 0x94d049bb133111ebULL;
	c ^= c >> 31;
	return (uint32_t)c;
}

static uint32_t *buckets_new(uint32_t n)
{
	uint32_t *b = xreallocarray(NULL, n, sizeof(*b));

	populate(b, (size_t)n * sizeof(*b));
	memset(b, 0xff, (size_t)n * sizeof(*b)); /* TAB_NIL everywhere */
	return b;
}

void track_tab_init(struct track *t)
{
	t->chunks = NULL;
	t->nchunks = t->used = t->nfree = 0;
	t->free_head = TAB_NIL;
	t->blocks = NULL;
	t->nblocks = 0;
	t->cmask = t->kmask = 255;
	t->cb = buckets_new(t->cmask + 1);
	t->kb = buckets_new(t->kmask + 1);
	t->cn = t->kn = 0;
	memset(t->count, 0, sizeof(t->count));
	t->alive = t->size = 0;
	t->ghosts = (struct dueheap){0};
}

void track_tab_clear(struct track *t)
{
	for (uint32_t i = 0; i < t->used; i++)
		free(tab_get(t, i)->ts.hist);
	for (size_t i = 0; i < t->nblocks; i++)
		big_free(t->blocks[i].p, t->blocks[i].len);
	free(t->blocks);
	free(t->chunks);
	free(t->cb);
	free(t->kb);
	dueheap_free(&t->ghosts);
}

/* count more chunks, cut from one block. */
static void chunks_add(struct track *t, uint32_t count)
{
	size_t len;
	void *p;

	if (count > (TAB_NIL >> TAB_CHUNK_SHIFT) - t->nchunks)
		abort(); /* 4 billion sockets: the indexes cannot name more */
	/* One block for a whole dump's new entries, all of them used: huge pages when large. */
	len = (size_t)count * TAB_CHUNK * sizeof(struct entry);
	p = big_alloc(len);
	big_huge(p, len);
	t->blocks = xreallocarray(t->blocks, t->nblocks + 1, sizeof(*t->blocks));
	t->blocks[t->nblocks++] = (struct tab_block){p, len};
	t->chunks = xreallocarray(t->chunks, (size_t)t->nchunks + count, sizeof(*t->chunks));
	for (uint32_t i = 0; i < count; i++)
		t->chunks[t->nchunks++] = (struct entry *)p + (size_t)i * TAB_CHUNK;
}

struct entry *track_tab_alloc(struct track *t)
{
	struct entry *e;
	uint32_t i;

	if (t->free_head != TAB_NIL) {
		i = t->free_head;
		t->free_head = tab_get(t, i)->next_c;
		t->nfree--;
	} else {
		if (t->used == t->nchunks * TAB_CHUNK)
			chunks_add(t, 1);
		i = t->used++;
	}
	e = tab_get(t, i);
	memset(e, 0, sizeof(*e));
	e->self = i;
	e->next_c = e->next_k = TAB_NIL;
	e->ts.prev_state = ST_UNKNOWN;
	return e;
}

void track_tab_count(struct track *t, const struct entry *e, int delta)
{
	unsigned st = e->ts.s.state < ST_MAX ? e->ts.s.state : ST_MAX;

	if (delta > 0) {
		t->count[st]++;
		t->alive++;
	} else {
		t->count[st]--;
		t->alive--;
	}
}

void track_tab_release(struct track *t, struct entry *e)
{
	if (tab_alive(e))
		track_tab_count(t, e, -1);
	if (tab_visible(e))
		t->size--;
	if (e->iflags & E_CIDX)
		track_cidx_remove(t, e);
	track_kidx_remove(t, e);
	free(e->ts.hist);
	e->ts.hist = NULL;
	e->iflags = E_FREE;
	e->next_c = t->free_head;
	t->free_head = e->self;
	t->nfree++;
}

/*
 * Grow a chained table to nmask + 1 buckets (a larger power of two); chains
 * keep their order (newest first): a new bucket takes entries of one old one.
 */
static void rehash(struct track *t, bool cookie, uint32_t nmask)
{
	uint32_t *old = cookie ? t->cb : t->kb;
	uint32_t omask = cookie ? t->cmask : t->kmask;
	uint32_t *nb = buckets_new(nmask + 1);
	/* Where each new chain ends; an empty table (before a first dump) needs none. */
	uint32_t *tail = (cookie ? t->cn : t->kn) ? buckets_new(nmask + 1) : NULL;

	for (uint32_t b = 0; tail && b <= omask; b++) {
		uint32_t i = old[b];
		while (i != TAB_NIL) {
			struct entry *e = tab_get(t, i);
			uint32_t next = cookie ? e->next_c : e->next_k;
			uint32_t h =
			    (cookie ? cookie_hash(e->ts.s.cookie, e->ts.s.netns) : e->khash) &
			    nmask;

			if (cookie)
				e->next_c = TAB_NIL;
			else
				e->next_k = TAB_NIL;
			if (tail[h] == TAB_NIL) {
				nb[h] = i;
			} else if (cookie) {
				tab_get(t, tail[h])->next_c = i;
			} else {
				tab_get(t, tail[h])->next_k = i;
			}
			tail[h] = i;
			i = next;
		}
	}
	free(tail);
	free(old);
	if (cookie) {
		t->cb = nb;
		t->cmask = nmask;
	} else {
		t->kb = nb;
		t->kmask = nmask;
	}
}

/* The mask of an index grown from mask to hold n entries at a load factor of at most one. */
static uint32_t mask_for(uint32_t mask, size_t n)
{
	while ((size_t)mask + 1 < n && mask < (UINT32_MAX >> 1))
		mask = mask * 2 + 1;
	return mask;
}

/* Buckets for n entries in one rehash, not in doublings. */
static void index_fit(struct track *t, bool cookie, size_t n)
{
	uint32_t mask = cookie ? t->cmask : t->kmask, nmask = mask_for(mask, n);

	if (nmask != mask)
		rehash(t, cookie, nmask);
}

void track_tab_reserve(struct track *t, size_t more)
{
	size_t room = (size_t)t->nchunks * TAB_CHUNK - t->used + t->nfree;

	if (more > room) {
		size_t need = (more - room + TAB_CHUNK - 1) / TAB_CHUNK;

		chunks_add(t, need > UINT32_MAX ? UINT32_MAX : (uint32_t)need);
	}
	index_fit(t, true, t->cn + more);
	index_fit(t, false, t->kn + more);
}

/*
 * An index with nothing in it gets buckets for n entries at once, unfilled:
 * *fill is the span to fill with 0xff (TAB_NIL everywhere) before use.
 */
static void index_fresh(struct track *t, bool cookie, size_t n, struct span *fill)
{
	uint32_t mask = cookie ? t->cmask : t->kmask, nmask = mask_for(mask, n);
	uint32_t *b;

	*fill = (struct span){.p = NULL};
	if (nmask == mask)
		return;
	b = xreallocarray(NULL, (size_t)nmask + 1, sizeof(*b));
	if (cookie) {
		free(t->cb);
		t->cb = b;
		t->cmask = nmask;
	} else {
		free(t->kb);
		t->kb = b;
		t->kmask = nmask;
	}
	*fill = (struct span){
	    .p = b, .len = ((size_t)nmask + 1) * sizeof(*b), .how = WARM_FILL, .byte = 0xff};
}

size_t track_reserve(struct track *t, size_t n, struct span *fresh, size_t cap)
{
	size_t nb = t->nblocks, k = 0;
	/* An estimate may be a little high: only what will surely be filled. */
	size_t sure = (n - n / 16) * sizeof(struct entry);

	/* Empty indexes: their new buckets are filled with the rest, off this thread. */
	if (n > t->alive && !t->cn && !t->kn && cap >= 2) {
		index_fresh(t, true, n, &fresh[k]);
		k += fresh[k].len != 0;
		index_fresh(t, false, n, &fresh[k]);
		k += fresh[k].len != 0;
	}
	if (n > t->alive)
		track_tab_reserve(t, n - t->alive);
	for (size_t i = nb; i < t->nblocks && k < cap && sure; i++) {
		size_t len = t->blocks[i].len < sure ? t->blocks[i].len : sure;

		/*
		 * Touched, not only put in: populate() would hold the memory map's
		 * lock for each step while this thread may need it.
		 */
		fresh[k++] = (struct span){.p = t->blocks[i].p, .len = len, .how = WARM_TOUCH};
		sure -= len;
	}
	return k;
}

void track_tab_prefetch(const struct track *t, const struct sock *r)
{
	if (r->cookie)
		__builtin_prefetch(&t->cb[cookie_hash(r->cookie, r->netns) & t->cmask], 1);
	__builtin_prefetch(&t->kb[sock_hash(r) & t->kmask], 1);
}

struct entry *track_cidx_find(const struct track *t, uint64_t cookie, uint32_t netns)
{
	uint32_t i = t->cb[cookie_hash(cookie, netns) & t->cmask];

	while (i != TAB_NIL) {
		struct entry *e = tab_get(t, i);
		if (e->ts.s.cookie == cookie && e->ts.s.netns == netns)
			return e;
		i = e->next_c;
	}
	return NULL;
}

void track_cidx_insert(struct track *t, struct entry *e)
{
	uint32_t *b;

	if (t->cn >= (size_t)t->cmask + 1 && t->cmask < (UINT32_MAX >> 1))
		rehash(t, true, t->cmask * 2 + 1);
	b = &t->cb[cookie_hash(e->ts.s.cookie, e->ts.s.netns) & t->cmask];
	e->next_c = *b;
	*b = e->self;
	e->iflags |= E_CIDX;
	t->cn++;
}

void track_cidx_remove(struct track *t, struct entry *e)
{
	uint32_t *p = &t->cb[cookie_hash(e->ts.s.cookie, e->ts.s.netns) & t->cmask];

	while (*p != TAB_NIL && *p != e->self)
		p = &tab_get(t, *p)->next_c;
	if (*p == e->self) {
		*p = e->next_c;
		t->cn--;
	}
	e->next_c = TAB_NIL;
	e->iflags &= (uint16_t)~E_CIDX;
}

void track_kidx_insert(struct track *t, struct entry *e)
{
	uint32_t *b;

	if (t->kn >= (size_t)t->kmask + 1 && t->kmask < (UINT32_MAX >> 1))
		rehash(t, false, t->kmask * 2 + 1);
	e->khash = (uint32_t)sock_hash(&e->ts.s);
	b = &t->kb[e->khash & t->kmask];
	e->next_k = *b;
	*b = e->self;
	t->kn++;
}

void track_kidx_remove(struct track *t, struct entry *e)
{
	uint32_t *p = &t->kb[e->khash & t->kmask];

	while (*p != TAB_NIL && *p != e->self)
		p = &tab_get(t, *p)->next_k;
	if (*p == e->self) {
		*p = e->next_k;
		t->kn--;
	}
	e->next_k = TAB_NIL;
}

struct entry *track_kidx_find(const struct track *t, const struct sock_key *k, track_pred_fn pred,
			      const void *arg)
{
	uint32_t h = (uint32_t)sock_key_hash(k);
	uint32_t i = t->kb[h & t->kmask];

	while (i != TAB_NIL) {
		struct entry *e = tab_get(t, i);
		struct sock_key ek;

		if (e->khash == h) {
			sock_key(&e->ts.s, &ek);
			if (sock_key_eq(&ek, k) && (!pred || pred(e, arg)))
				return e;
		}
		i = e->next_k;
	}
	return NULL;
}
