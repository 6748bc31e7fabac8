#!/bin/bash
# Proves: the view survives resizing (to 60x15, to tiny sizes down to 1x1,
# and back) and redraws a whole screen after it; q leaves the terminal as
# it found it (alternate screen off, cursor shown, exit status 0); SIGTERM
# does the same; under NO_COLOR the FIN_WAIT_1 group is still marked, by
# attributes alone (reverse video, no colour).
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/view_lib.sh"

hold fin-wait-1 5301

view_start 120 40 -d 0.2
expect "view up" "^. FIN_WAIT_1  1"
[ "$(pane_fmt '#{alternate_on}')" = 1 ] || fail "the view did not take the alternate screen"

$VT resize-window -t v -x 60 -y 15
expect "title at 60x15" "^ tcpdwell "
expect "group at 60x15" "^. FIN_WAIT_1  1"
w=0
while IFS= read -r line; do
    [ ${#line} -gt "$w" ] && w=${#line}
done < <(screen)
[ "$w" -le 60 ] || { screen; fail "a line wider than 60 columns after the resize"; }
expect "key bar at 60x15" "^F1Help"

# A storm of sizes, down to one cell. The pause paces the storm so that each
# size reaches tcpdwell as a SIGWINCH of its own; nothing here waits for a
# state, the expectations after the storm do.
for size in "20 5" "5 2" "1 1" "200 60" "3 40"; do
    set -- $size
    $VT resize-window -t v -x "$1" -y "$2"
    sleep 0.2
done
$VT resize-window -t v -x 120 -y 40
expect "title after the storm" "^ tcpdwell "
expect "group after the storm" "^. FIN_WAIT_1  1"
expect "counts after the storm" "^LISTEN +[0-9]"
lacks "EXITED=" || { screen; fail "tcpdwell died while resizing"; }

keys q
expect "exit status" "EXITED=0"
[ "$(pane_fmt '#{alternate_on}')" = 0 ] || fail "alternate screen still on after q"
[ "$(pane_fmt '#{cursor_flag}')" = 1 ] || fail "cursor still hidden after q"
[ "$(pane_fmt '#{keypad_cursor_flag}')" = 0 ] || fail "keypad mode left on after q"

# SIGTERM: the same.
view_stop
view_start 100 30 -d 0.2
expect "view up again" "^. FIN_WAIT_1  1"
pid=$(pgrep -P "$(pane_fmt '#{pane_pid}')" -x tcpdwell) || fail "no tcpdwell process in the pane"
kill -TERM "$pid"
expect "ended by SIGTERM" "EXITED="
[ "$(pane_fmt '#{alternate_on}')" = 0 ] || fail "alternate screen still on after SIGTERM"
[ "$(pane_fmt '#{cursor_flag}')" = 1 ] || fail "cursor still hidden after SIGTERM"

# Monochrome: reverse video marks FIN_WAIT_1, and no colour is set anywhere.
view_stop
VIEW_ENV="NO_COLOR=1" view_start 100 30 -d 0.2
expect "monochrome view" "^. FIN_WAIT_1  1"
screen_e | grep -aE "FIN_WAIT_1  1" | grep -qaE '\[([0-9]+;)*7(;[0-9]+)*m' ||
    { screen_e | cat -v; fail "FIN_WAIT_1 not in reverse video under NO_COLOR"; }
screen_e | grep -qaE '\[([0-9]+;)*(3[0-7]|4[0-7])(;[0-9]+)*m' &&
    { screen_e | cat -v; fail "a colour under NO_COLOR"; }
pass "resize, restore on q and SIGTERM, monochrome"
