#!/bin/bash
# Proves: --diagram opens the live state diagram, whole and readable in
# 100x30 (every state box with its count); during a simultaneous close the
# CLOSING box counts the socket held there and is highlighted; the diagram
# key returns to the table.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/view_lib.sh"

view_start 100 30 -d 0.1 --diagram
for st in CLOSED LISTEN SYN_SENT SYN_RECV ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 CLOSING \
    TIME_WAIT CLOSE_WAIT LAST_ACK; do
    expect "box $st" "\[ +$st( +[0-9]+)? +\]"
done
expect "an arrow label" "rcv SYN, send SYN\+ACK"

out="$TMP/simul"
"$HOLDSTATE" simultaneous-close 5501 4 >"$out" 2>&1 &
wait_until 15 grep -q '^closing' "$out" || { cat "$out"; fail "no simultaneous close"; }
expect "CLOSING counted" "\[ CLOSING +1 \]"
screen_e | grep -aE "CLOSING +1 " | grep -qaE '\[([0-9]+;)*4[0-7](;[0-9]+)*m' ||
    { screen_e | cat -v; fail "CLOSING box not highlighted"; }

keys d
expect "back to the table" "DWELL▾ +LOCAL"
pass "state diagram"
