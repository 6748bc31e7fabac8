#!/bin/bash
# Proves on the real binary in tmux, at 80x24: the filter and PAUSED come at
# the start of the header, whole, however long the expression (it is cut, its
# match count is not); the count says "1 match" and "2 matches"; the poll
# interval is said once (no "every 200ms" beside "poll 200ms"), and a fast
# lane is never called slowed at the interval it was asked for.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/view_lib.sh"

hold close-wait 5501
P1=${HELD_LOCAL##*:}
hold close-wait 5502

view_start 140 24 -d 0.2
expect "the poll interval in the header" "^ tcpdwell .* poll 200ms"
lacks "every" || { screen; fail "the interval said twice"; }
lacks "fast 50ms \\(slowed" || { screen; fail "a fast lane slowed at the interval asked"; }
view_stop

view_start 80 24 -d 0.2 state close-wait
expect "filter first, plural" "^ filter: state close-wait \\(2 matches\\) +tcpdwell "

keys Space
expect "PAUSED first, then the filter" "^ PAUSED  filter: state close-wait \\(2 matches\\) "
keys Space
expect_not "resumed" "PAUSED"

keys f C-u
text "sport = :$P1"
keys Enter
expect "singular" "^ filter: sport = :$P1 \\(1 match\\) "

long="sport = :$P1 or sport = :1 or sport = :2 or sport = :3 or sport = :4 or sport = :5 or sport = :6"
keys f C-u
text "$long"
keys Enter
keys Space
expect "a long filter cut, PAUSED and the count whole" "^ PAUSED  filter: sport = :$P1 or .*… \\(1 match\\)( |$)"
pass "header: state first, counted, never cut at 80 columns"
