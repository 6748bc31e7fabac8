#!/bin/bash
# Proves: -r opens a recording in the view with REPLAY, the recorded time and
# the speed in the header; the recorded FIN_WAIT_1 socket is in its group;
# Space pauses and resumes the replay, + and - double and halve the speed,
# Home goes back to the first recorded second; the detail view of the
# recorded FIN_WAIT_1 socket shows the tcp_info the recording kept; q leaves
# cleanly.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/view_lib.sh"

hold fin-wait-1 5601
rec="$TMP/rec.tcpd"
"$TCPDWELL" -b -d 0.2 -c 15 -w "$rec" >/dev/null 2>"$TMP/rec.err" || { cat "$TMP/rec.err"; fail "recording failed"; }

view_start 120 40 -r "$rec"
expect "replay header" "^ REPLAY x1 "
expect "recorded FIN_WAIT_1" "^. FIN_WAIT_1  1"
first=$(screen | head -1 | grep -oE '[0-9]{2}:[0-9]{2}:[0-9]{2}' | head -1)

keys Space
expect "paused" "^ REPLAY x1 .* (paused|end) "
keys +
expect "speed doubled" "^ REPLAY x2 "
keys - -
expect "speed halved twice" "^ REPLAY x0\.5 "
keys End
expect "at the end" "^ REPLAY .* end "
keys Home
expect "back at the start, paused" "^ REPLAY .* paused "
# The replay may have moved on before the first look: the start is no later.
home=$(screen | head -1 | grep -oE '[0-9]{2}:[0-9]{2}:[0-9]{2}' | head -1)
[ -n "$home" ] && [[ ! "$home" > "$first" ]] ||
    { screen; fail "Home went to '$home', later than the first screen's '$first'"; }
keys Space
expect_not "resumed" "^ REPLAY .* paused "

keys f
text "sport = :${HELD_LOCAL##*:}"
keys Enter
expect "filtered to the recorded FIN_WAIT_1 socket" "^. FIN_WAIT_1  1"
keys Down Enter
expect "detail of the recorded socket" "^ Socket $HELD_LOCAL "
expect "the recorded tcp_info" "^ TCP +rtt [0-9.]+(µs|us|ms)"
keys Escape

keys q
expect "exit status" "EXITED=0"
[ "$(pane_fmt '#{alternate_on}')" = 0 ] || fail "alternate screen still on after q"
pass "replay in the view"
