#!/bin/bash
# Proves on the real binary in tmux: --columns chooses and orders the view's
# columns; the sort column carries a mark in the header, and F6 moves the mark
# to the next shown column that sorts (skipping the timer, which does not);
# the view prints a timer as the -b table does (KIND:LEFT); owners, wished for
# with the data and not by drawing, still show.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/view_lib.sh"

hold listen 5311
hold time-wait 5312

view_start 120 30 --columns peer,timer,local,dwell -d 0.2
expect "columns in the order asked, dwell marked as the sort" "^ +PEER +TIMER +LOCAL +DWELL▾"
lacks "OWNER" || { screen; fail "a column not asked for is shown"; }
expect "the timer as -b prints it" "timewait:[0-9]"
keys F6
# From dwell (last) the next that sorts is peer (the first); the timer is skipped.
expect "sort moved to peer" "PEER▾ +TIMER +LOCAL +DWELL( |\$)"
keys F6
expect "timer skipped: local next" "TIMER +LOCAL▾"
keys I
expect "reversed sort marked" "LOCAL▴"
view_stop

# Owners are wished for with the data, not while drawing: they still come.
view_start 120 30 -d 0.2
expect "the owner of a held socket" "127\.0\.0\.1:5311 .* [0-9]+/holdstate"
pass "view columns chosen, ordered and sort-marked; owners found"
