/* diag_priv.h - what diag.c, diag_parse.c and diag_bc.c share; no other module includes it. */
#ifndef TCPDWELL_DIAG_PRIV_H
#define TCPDWELL_DIAG_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "sock.h"

/* An open-addressing set of row indexes keyed by cookie, reused from dump to dump. */
struct diag_cookie_set {
	uint32_t *slot; /* row index + 1 in the low bits, the cookie's fingerprint above; 0 = empty */
	size_t cap;	/* a power of two */
};
void diag_cookie_set_free(struct diag_cookie_set *set);

/* Drop rows whose cookie was seen before in sn (the later row wins, in the earlier place). */
void diag_dedup(struct snapshot *sn, struct diag_cookie_set *set);

/* diag_parse_buffer() without the deduplication: diag_dump() deduplicates once, at the end. */
int diag_parse_rows(const void *buf, size_t len, uint32_t seq, uint32_t portid,
		    struct snapshot *sn);


#endif
