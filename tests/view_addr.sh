#!/bin/bash
# Proves on the real binary in tmux: an address too long for its column is
# cut in the middle, keeping its start (an IPv6 bracket and prefix) and its
# port, never from the left.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/view_lib.sh"

out="$TMP/hold6"
"$HOLDSTATE" -6 listen 6301 300 >"$out" 2>&1 &
wait_until 10 grep -q '^ready' "$out" || { cat "$out"; skip "no IPv6 listener (IPv6 off?)"; }

# Whole where there is room.
view_start 100 30 -d 0.2
expect "whole" " \\[::1\\]:6301 "
view_stop

# 30 columns of local, peer and owner: the address gets 8 or 9 cells.
view_start 30 30 -d 0.2 --columns local,peer,owner
expect "cut in the middle: bracket and port kept" "^ +\\[::1?…6301 "
pass "addresses cut in the middle"
