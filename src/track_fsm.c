#include "config.h"
#include "track.h"

#define M(st) ST_MASK(ST_##st)

/*
 * The edges of the TCP state machine as RFC 793 draws it and Linux runs it,
 * one row per state: the states it may move to in one step. ST_CLOSE stands
 * for "no socket", so CLOSE -> X is a birth and X -> CLOSE an end.
 *
 * Linux additions to the RFC: a request socket (SYN_RECV, NEW_SYN_RECV)
 * appears from nothing; ESTABLISHED, CLOSE_WAIT, FIN_WAIT_*, CLOSING and
 * SYN_* end at once on RST or abort; FIN_WAIT_1 -> TIME_WAIT when the ACK of
 * our FIN and the peer's FIN arrive in one segment; the TIME_WAIT mini-socket
 * ends by its timer.
 */
static const uint16_t legal_next[ST_MAX] = {
	[ST_CLOSE] = M(SYN_SENT) | M(LISTEN) | M(SYN_RECV) | M(NEW_SYN_RECV),
	[ST_LISTEN] = M(SYN_RECV) | M(NEW_SYN_RECV) | M(SYN_SENT) | M(CLOSE),
	[ST_SYN_SENT] = M(ESTABLISHED) | M(SYN_RECV) | M(CLOSE),
	[ST_SYN_RECV] = M(ESTABLISHED) | M(FIN_WAIT1) | M(LISTEN) | M(CLOSE),
	[ST_NEW_SYN_RECV] = M(ESTABLISHED) | M(SYN_RECV) | M(CLOSE),
	[ST_ESTABLISHED] = M(FIN_WAIT1) | M(CLOSE_WAIT) | M(CLOSE),
	[ST_FIN_WAIT1] = M(FIN_WAIT2) | M(CLOSING) | M(TIME_WAIT) | M(CLOSE),
	[ST_FIN_WAIT2] = M(TIME_WAIT) | M(CLOSE),
	[ST_CLOSING] = M(TIME_WAIT) | M(CLOSE),
	[ST_TIME_WAIT] = M(CLOSE),
	[ST_CLOSE_WAIT] = M(LAST_ACK) | M(CLOSE),
	[ST_LAST_ACK] = M(CLOSE),
};

bool track_legal(unsigned from, unsigned to)
{
	if (from >= ST_MAX || to >= ST_MAX)
		return false;
	return legal_next[from] & ST_MASK(to);
}
