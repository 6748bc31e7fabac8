#!/bin/bash
# Proves: Enter on a socket opens its detail view with the timeline of the
# states the tracker saw it pass through (a simultaneous close: ESTABLISHED,
# FIN_WAIT_1, CLOSING, then TIME_WAIT, in that order), its owner line and the
# explanation of its current state; Esc returns to the table. A full
# socket's detail (FIN_WAIT_1) shows its tcp_info, asked of the kernel for
# that one socket when shown (polls do not fetch it for every socket).
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/view_lib.sh"

view_start 120 40 -d 0.1
expect "view up" "^ tcpdwell "

out="$TMP/simul"
"$HOLDSTATE" simultaneous-close 5201 1 >"$out" 2>&1 &
wait_until 15 grep -q '^time-wait' "$out" || { cat "$out"; fail "simultaneous close did not finish"; }
read -r _ CLIENT _ < <(grep '^ready' "$out")
expect "client in TIME_WAIT" "^. TIME_WAIT  2"

# Filter to the client's port; the first socket row (under its group) is it.
keys f
text "sport = :${CLIENT##*:}"
keys Enter
expect "filtered to the client" "^. TIME_WAIT  1"
keys Down Enter
expect "detail view" "^ Socket $CLIENT "
expect "timeline" "^ Timeline"
timeline=$(screen | sed -n '/^ Timeline/,/^ What /p' | awk '{ print $2 }' | grep -E '^[A-Z_0-9]+$' | tr '\n' ' ')
case $timeline in
*"ESTABLISHED FIN_WAIT_1 CLOSING TIME_WAIT"*) ;;
*) screen; fail "timeline is '$timeline'" ;;
esac
expect "explanation" "^ What TIME_WAIT means"
expect "owner line" "^ Owner .*inode"

keys Escape
expect "back to the table" "DWELL▾ +LOCAL"

hold fin-wait-1 5202
keys f C-u
text "sport = :${HELD_LOCAL##*:}"
keys Enter
expect "filtered to the FIN_WAIT_1 socket" "^. FIN_WAIT_1  1"
keys Down Enter
expect "detail of the FIN_WAIT_1 socket" "^ Socket $HELD_LOCAL "
expect "its tcp_info" "^ TCP +rtt [0-9.]+(µs|us|ms)"
expect "its byte counts" "bytes sent [1-9][0-9]* acked"
keys Escape
pass "detail timeline and tcp_info"
