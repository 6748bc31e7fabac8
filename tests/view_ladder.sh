#!/bin/bash
# Proves, on the real binary in tmux at 80x24, in the scenario's own
# namespace (as root, or in a user namespace): the ladder screen (l)
# of normal-close draws the teardown as on a blackboard, server line left,
# client line right: FIN from the client, the server's ACK, the server's FIN,
# the client's last ACK, arrows in that order and direction, each side's
# states beside its line (CLOSE_WAIT and LAST_ACK left, FIN_WAIT_2 and
# TIME_WAIT right); Esc goes back to the table.
. "$TOP_SRCDIR/tests/lib.sh"
if [ "$(id -u)" = 0 ]; then
    unshare -n true 2>/dev/null || skip "cannot make a network namespace here"
else
    unshare -Urn true 2>/dev/null || skip "no root, and unprivileged user namespaces are off"
fi
. "$TOP_SRCDIR/tests/view_lib.sh"

view_start 80 24 --scenario normal-close --reading-speed 30
expect "table first" "ACTOR/PID"
keys l
expect "ladder header" "^ +time +server +client"
expect "the last ACK" "ACK 2:2"
# States come with the tracker's next look, a moment after the segments.
expect "TIME_WAIT on the client's side" '│ TIME_WAIT *$'
arrows=$(screen | grep -E '[▶◀✕]' | sed -E 's/.*[│] *[─]*[ ]*(.*[^ ─])[ ─]*[│].*/\1/' |
    awk '{ d = /▶/ ? ">" : /◀/ ? "<" : "x"; for (i = 1; i <= NF; i++) if ($i ~ /^[A-Z,]+$/) { print d, $i, $(i + 1); break } }')
tail=$(tail -4 <<<"$arrows")
want="< FIN,ACK 1:1
> ACK 1:2
> FIN,ACK 1:2
< ACK 2:2"
[ "$tail" = "$want" ] || { screen; fail "ladder arrows:
$tail
want:
$want"; }
screen | grep -Eq '^ +[0-9.]+ +CLOSE_WAIT │' || { screen; fail "CLOSE_WAIT not on the server's side"; }
# LAST_ACK lasts microseconds here: only the exact source (root) sees it.
if screen | head -1 | grep -q ' exact'; then
    screen | grep -Eq '^ +[0-9.]+ +LAST_ACK │' || { screen; fail "LAST_ACK not on the server's side"; }
fi
screen | grep -Eq '│ FIN_WAIT_2 *$' || { screen; fail "FIN_WAIT_2 not on the client's side"; }
pass "the ladder reads at 80x24"
keys Escape
expect "back to the table" "ACTOR/PID"
pass "Esc goes back to the table"
