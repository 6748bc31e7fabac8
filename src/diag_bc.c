/* diag_bc.c - the port and address parts of a filter as inet_diag bytecode for the kernel. */
#include "config.h"
#include "diag.h"

#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>

#include "filter.h"

/*
 * The kernel runs the program from its start: each op goes on to op + yes
 * when its condition holds and to op + no when not. Reaching the exact end
 * accepts the socket, landing past it rejects. Every block built here keeps
 * that shape on its own: falling off its end means true, a jump to four
 * bytes past its end means false. Blocks then compose by concatenation and
 * a few patched jumps, like the kernel's own audit expects (forward jumps
 * only, to an op boundary or to the end + 4).
 *
 * What cannot be expressed (states, odd addresses) is replaced by a
 * constant that can only widen the result: true where the node counts
 * positively, false under an odd number of NOTs. The kernel then sends a
 * superset and user space applies the whole filter again.
 */

enum kind { K_CODE, K_TRUE, K_FALSE };

struct bc {
	uint8_t *buf;
	size_t cap, len;
	bool overflow;
};

#define OP_LEN ((unsigned)sizeof(struct inet_diag_bc_op))
#define MAX_DEPTH 64
/* Jump offsets are 16 bits wide. */
#define MAX_LEN 32768

static void emit(struct bc *bc, const void *p, size_t n)
{
	if (bc->overflow || n > bc->cap - bc->len) {
		bc->overflow = true;
		return;
	}
	memcpy(bc->buf + bc->len, p, n);
	bc->len += n;
}

static void emit_op(struct bc *bc, uint8_t code, uint8_t yes, uint16_t no)
{
	struct inet_diag_bc_op op = { .code = code, .yes = yes, .no = no };

	emit(bc, &op, sizeof(op));
}

/* Negate the block that ends here: true falls onto a jump to false, false lands past it. */
static void emit_not(struct bc *bc)
{
	emit_op(bc, INET_DIAG_BC_JMP, OP_LEN, 2 * OP_LEN);
}

/*
 * Retarget the "false" exits of the block [start, start + len) by reloc
 * bytes: it is now followed by reloc bytes of code that false must skip.
 */
static void patch_false(struct bc *bc, size_t start, size_t len, size_t reloc)
{
	size_t off = 0;

	if (bc->overflow)
		return;
	while (off < len) {
		struct inet_diag_bc_op op;

		memcpy(&op, bc->buf + start + off, sizeof(op));
		if (op.no == len - off + OP_LEN) {
			op.no = (uint16_t)(op.no + reloc);
			memcpy(bc->buf + start + off, &op, sizeof(op));
		}
		off += op.yes;
	}
}

static enum kind port_op(struct bc *bc, uint8_t code, unsigned port)
{
	emit_op(bc, code, 2 * OP_LEN, 3 * OP_LEN);
	emit_op(bc, 0, 0, (uint16_t)port);
	return K_CODE;
}

static enum kind port_cond(struct bc *bc, const struct filter_node *n)
{
	bool src = n->op == FOP_SPORT;
	uint8_t eq = src ? INET_DIAG_BC_S_EQ : INET_DIAG_BC_D_EQ;
	uint8_t ge = src ? INET_DIAG_BC_S_GE : INET_DIAG_BC_D_GE;
	uint8_t le = src ? INET_DIAG_BC_S_LE : INET_DIAG_BC_D_LE;
	unsigned p = n->u.port;

	switch (n->cmp) {
	case FCMP_EQ:
		return port_op(bc, eq, p);
	case FCMP_NE:
		port_op(bc, eq, p);
		emit_not(bc);
		return K_CODE;
	case FCMP_LT:
		return p == 0 ? K_FALSE : port_op(bc, le, p - 1);
	case FCMP_LE:
		return p >= 65535 ? K_TRUE : port_op(bc, le, p);
	case FCMP_GT:
		return p >= 65535 ? K_FALSE : port_op(bc, ge, p + 1);
	case FCMP_GE:
		return p == 0 ? K_TRUE : port_op(bc, ge, p);
	}
	return K_TRUE;
}

/*
 * src/dst with an optional prefix and port; anything doubtful widens to the
 * constant. The kernel matches an IPv4 prefix against v4-mapped IPv6
 * addresses too, as filter_match() does.
 */
static enum kind host_cond(struct bc *bc, const struct filter_node *n, enum kind widen)
{
	struct inet_diag_hostcond hc;
	unsigned alen, len;
	int32_t port = n->u.net.port;

	if (port < -1 || port > 65535)
		return widen;
	switch (n->u.net.family) {
	case 0:
		if (n->u.net.prefix != 0)
			return widen;
		if (port == -1)
			return K_TRUE;
		alen = 0;
		break;
	case AF_INET:
		if (n->u.net.prefix > 32)
			return widen;
		alen = 4;
		break;
	case AF_INET6:
		if (n->u.net.prefix > 128)
			return widen;
		alen = 16;
		break;
	default:
		return widen;
	}
	len = OP_LEN + (unsigned)sizeof(hc) + alen;
	emit_op(bc, n->op == FOP_SRC ? INET_DIAG_BC_S_COND : INET_DIAG_BC_D_COND, (uint8_t)len,
		(uint16_t)(len + OP_LEN));
	memset(&hc, 0, sizeof(hc));
	hc.family = n->u.net.family;
	hc.prefix_len = n->u.net.prefix;
	hc.port = port;
	emit(bc, &hc, sizeof(hc));
	emit(bc, n->u.net.addr, alen);
	return K_CODE;
}

/*
 * Compile n at the end of bc. pos: n counts positively (the result may
 * accept more than n); otherwise it is under a NOT and may accept less.
 * Constants emit nothing.
 */
static enum kind compile(struct bc *bc, const struct filter_node *n, bool pos, int depth)
{
	enum kind widen = pos ? K_TRUE : K_FALSE;
	size_t start = bc->len, mid;
	enum kind ka, kb;

	if (!n || depth > MAX_DEPTH)
		return widen;
	switch (n->op) {
	case FOP_TRUE:
		return K_TRUE;
	case FOP_STATE:
		/* States go to the kernel as idiag_states, not as bytecode. */
		return widen;
	case FOP_NETNS:
		/* Each namespace is dumped on its own: the label is ours, not the kernel's. */
		return widen;
	case FOP_SPORT:
	case FOP_DPORT:
		return port_cond(bc, n);
	case FOP_SRC:
	case FOP_DST:
		return host_cond(bc, n, widen);
	case FOP_NOT:
		ka = compile(bc, n->a, !pos, depth + 1);
		if (ka != K_CODE)
			return ka == K_TRUE ? K_FALSE : K_TRUE;
		emit_not(bc);
		return K_CODE;
	case FOP_AND:
		ka = compile(bc, n->a, pos, depth + 1);
		if (ka == K_FALSE)
			return K_FALSE;
		mid = bc->len;
		kb = compile(bc, n->b, pos, depth + 1);
		if (kb == K_FALSE) {
			bc->len = start;
			return K_FALSE;
		}
		if (ka == K_TRUE)
			return kb;
		if (kb == K_CODE)
			patch_false(bc, start, mid - start, bc->len - mid);
		return K_CODE;
	case FOP_OR:
		ka = compile(bc, n->a, pos, depth + 1);
		if (ka == K_TRUE)
			return K_TRUE;
		if (ka == K_FALSE)
			return compile(bc, n->b, pos, depth + 1);
		/* a's false lands just past this jump, on b; a's true jumps over b. */
		mid = bc->len;
		emit_op(bc, INET_DIAG_BC_JMP, OP_LEN, 0);
		kb = compile(bc, n->b, pos, depth + 1);
		if (kb == K_TRUE) {
			bc->len = start;
			return K_TRUE;
		}
		if (kb == K_FALSE) {
			bc->len = mid;
			return K_CODE;
		}
		if (!bc->overflow) {
			uint16_t no = (uint16_t)(bc->len - mid);

			memcpy(bc->buf + mid + offsetof(struct inet_diag_bc_op, no), &no, sizeof(no));
		}
		return K_CODE;
	}
	return widen;
}

size_t diag_bc_compile(const struct filter_node *root, void *buf, size_t cap)
{
	struct bc bc = { .buf = buf, .cap = cap < MAX_LEN ? cap : MAX_LEN };
	enum kind k;

	if (!root)
		return 0;
	k = compile(&bc, root, true, 0);
	if (bc.overflow || k == K_TRUE)
		return 0;
	if (k == K_FALSE) {
		/* Nothing can match: one jump past the end rejects every socket. */
		bc.len = 0;
		emit_not(&bc);
		if (bc.overflow)
			return 0;
	}
	return bc.len;
}
