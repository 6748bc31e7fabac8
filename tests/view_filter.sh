#!/bin/bash
# Proves that the filter has one owner: started with `state close-wait`, the
# poller asks the kernel for CLOSE_WAIT sockets only; widening the filter with
# f in the view reaches the poller, which then asks for every state, so the
# ESTABLISHED sockets ss sees appear (with a single owner missing, the view's
# own copy widened while the kernel still sent CLOSE_WAIT alone: "0 match").
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/view_lib.sh"

hold close-wait 5401
hold fin-wait-1 5402 # its peer stays ESTABLISHED, with a full send queue
est=$(ss_count ESTABLISHED)
[ "$est" -gt 0 ] || fail "ss sees no ESTABLISHED socket: the held states are not as planned"

view_start 120 40 -d 0.2 state close-wait
expect "started filtered" "^. CLOSE_WAIT  1"
lacks "^. ESTABLISHED" || { screen; fail "ESTABLISHED shown under a close-wait filter"; }

keys f C-u
text "state established"
keys Enter
expect "widened to another state: the sockets the kernel has" "^. ESTABLISHED  $est( |\$)"
lacks "^. CLOSE_WAIT" || { screen; fail "CLOSE_WAIT still shown under an established filter"; }

keys f C-u Enter
expect "no filter: every state" "^. ESTABLISHED  $est( |\$)"
expect "no filter: every state" "^. CLOSE_WAIT  1"
expect "no filter: every state" "^. FIN_WAIT_1  1"
pass "a filter widened in the view reaches the poller"
