#!/bin/bash
# Proves, on the real binary in tmux with sockets held in known states: every
# group header shows its state and the count ss sees; a held FIN_WAIT_1 socket
# sits under its group, and the group is highlighted (an SGR background on
# its line that the LISTEN group does not have); the filter key narrows the
# table live, shows a bad expression's error inline, and Esc undoes the edit.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/view_lib.sh"

hold fin-wait-1 5101
FW1_LOCAL=$HELD_LOCAL
hold close-wait 5102
CW_LOCAL=$HELD_LOCAL
hold listen 5103

view_start 120 40 -d 0.2

# Group headers with the counts ss reports.
for st in LISTEN ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 CLOSE_WAIT; do
    n=$(ss_count "$st")
    [ "$n" -gt 0 ] || fail "ss sees no $st socket: the held states are not as planned"
    expect "group $st" "^. $st  $n( |\$)"
done

# The FIN_WAIT_1 socket is the row right under its group header.
under=$(screen | grep -A1 -E "^. FIN_WAIT_1  1" | tail -1)
case $under in
*"$FW1_LOCAL"*) ;;
*) screen; fail "FIN_WAIT_1 socket $FW1_LOCAL not under its group: '$under'" ;;
esac

# Highlighted: the FIN_WAIT_1 header sets a background colour, LISTEN's does not.
bg='\[([0-9]+;)*4[0-7](;[0-9]+)*m'
screen_e | grep -aE "FIN_WAIT_1  1" | grep -qaE "$bg" ||
    { screen_e | cat -v; fail "FIN_WAIT_1 group not highlighted"; }
keys Down  # move the selection bar off the LISTEN header
listen_plain() { ! screen_e | grep -aE "LISTEN  [0-9]" | grep -qaE "$bg"; }
wait_until 10 listen_plain || { screen_e | cat -v; fail "LISTEN group highlighted like FIN_WAIT_1"; }

# The filter narrows the table as it is typed.
keys f
text "state close-wait"
expect "filter prompt" "^Filter: state close-wait"
expect_not "filtered out" "FIN_WAIT_1  1"
expect "kept by the filter" "^. CLOSE_WAIT  1"
shows "$CW_LOCAL" || { screen; fail "CLOSE_WAIT socket $CW_LOCAL not shown"; }
lacks "^. LISTEN  " || { screen; fail "LISTEN group shown under a close-wait filter"; }
keys Enter
expect "filter in the header, with how many match" "filter: state close-wait \\(1 match\\)"

# A bad expression: its error inline, the last good filter still applied.
keys f
text " and frobnicate"
expect "inline filter error" "^Filter: state close-wait and frobnicate .*frobnicate"
shows "^. CLOSE_WAIT  1" || { screen; fail "a bad expression dropped the filter"; }
# Esc: the filter as it was before editing.
keys Escape
expect "prompt closed" "F1Help"
shows "filter: state close-wait" || { screen; fail "Esc did not restore the filter"; }

# Clearing it brings every group back.
keys f C-u Enter
expect "unfiltered" "^. FIN_WAIT_1  1"
expect "unfiltered" "^. LISTEN  "
pass "groups, counts, highlight and filter"
