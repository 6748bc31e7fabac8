#!/bin/bash
# Proves, on the real binary in tmux: with --netns all the header says how
# many namespaces are watched and the table has a NETNS column with each
# socket's label, at 120x40 and at 80x24 (where IPv4 addresses stay whole:
# the timer column goes first); the transitions pane says a new socket's
# namespace, before its addresses (so at 80x24 too); the detail view names
# the namespace; with one named namespace
# there is no column, the header names it.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/view_lib.sh"
need_cmd ip

A=tdw-view-$$
at_exit "ip netns del $A 2>/dev/null"
ip netns add "$A" || fail "ip netns add $A"
ip -n "$A" link set lo up || fail "cannot bring loopback up in $A"
out="$TMP/hold-a"
ip netns exec "$A" "$HOLDSTATE" listen 5201 300 >"$out" 2>&1 &
wait_until 10 grep -q '^ready' "$out" || { cat "$out"; fail "holdstate in $A not ready"; }
read -r _ A_LOCAL _ < <(grep '^ready' "$out")
hold listen 5202
OWN_LOCAL=$HELD_LOCAL

view_start 120 40 -d 0.2 --netns all
expect "header" "netns all: [0-9]+ namespaces"
expect "column" "DWELL▾ NETNS +LOCAL"
expect "row of $A" " $A +$A_LOCAL "
expect "row of our own namespace" " self +$OWN_LOCAL "
# A socket new in $A: the transitions pane says its namespace, as -e does.
ip netns exec "$A" "$HOLDSTATE" listen 5203 300 >"$TMP/hold-a2" 2>&1 &
wait_until 10 grep -q '^ready' "$TMP/hold-a2" || { cat "$TMP/hold-a2"; fail "second holdstate in $A not ready"; }
expect "pane names the namespace" "[0-9]{2}\.[0-9]{3} $A +\(new\) → LISTEN .*:5203 > 0\.0\.0\.0:\*"

# 80 columns: still a column, narrower.
$VT resize-window -t v -x 80 -y 24 2>/dev/null || $VT resize-pane -t v -x 80 -y 24
wait_until 10 test "$(pane_fmt '#{pane_width}')" = 80 || fail "pane not resized"
expect "column at 80x24" "DWELL▾ NETNS +LOCAL"
# The pane names it before the addresses: at 80 columns too, cut as in the table.
expect "pane names the namespace at 80x24" "[0-9]{2}\.[0-9]{3} ${A:0:7}(…|>) \(new\) → LISTEN"
expect "row of $A at 80x24, cut" " ${A:0:7}(…|>) "
# The addresses stay whole: the timer column makes room for them.
expect "whole address at 80x24" " ${A:0:7}(…|>) +$A_LOCAL "
lacks "TIMER" || { screen; fail "a TIMER column at 80x24 that cuts the addresses"; }

# The detail of the selected socket names its namespace. Tests running
# beside this one add sockets in namespaces of their own, and the table
# moves as they come: search again until the row found is the one opened.
detail_of_a() {
    keys -l /
    text "$A_LOCAL"
    keys Enter
    wait_until 5 lacks "^Search:" || return 1
    keys Enter
    wait_until 3 shows "netns $A" && return 0
    keys Escape
    return 1
}
wait_until 20 detail_of_a || { screen; fail "detail: netns $A not on screen"; }
keys q
expect "quit" "EXITED=0"
view_stop

# One namespace by name: the header names it, no column.
view_start 120 40 -d 0.2 --netns "$A"
expect "header with one" "netns $A "
expect "its listener" "$A_LOCAL"
lacks "NETNS" || { screen; fail "a NETNS column with one namespace"; }
pass "namespaces in the header, the column and the detail"
