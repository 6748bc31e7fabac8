#!/bin/bash
# Proves on the real binary in tmux: F2 opens the setup screen, where Space
# hides a column, [ moves one, s sorts by one and w saves them to
# $XDG_CONFIG_HOME/tcpdwell/tcpdwellrc; the table follows at once, and the
# next start reads the file; a damaged file is ignored whole, with a warning
# naming the file, the line and the fault.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/view_lib.sh"

hold listen 6101
export VIEW_ENV="XDG_CONFIG_HOME=$TMP/cfg"
rc="$TMP/cfg/tcpdwell/tcpdwellrc"

view_start 200 40 -d 0.2
expect "table" "DWELL▾ +LOCAL +PEER"
keys F2
expect "setup" "Setup: the table's columns and sort"
expect "local listed as shown" "\\[x\\] LOCAL"
keys Down Down Space
expect "local hidden" "\\[ \\] LOCAL"
keys Escape
expect "the table without it" "DWELL▾ +PEER"
lacks "LOCAL" || { screen; fail "a hidden column still shown"; }

keys F2
expect "setup again" "Setup: the table's columns and sort"
keys PPage Down Down s
expect "sorted by peer" "\\[x\\] PEER .*\\(sort\\)"
keys [
keys w
expect "saved" "saved to $rc"
grep -qx "columns = dwell,peer,netns,recv-q,send-q,timer,owner" "$rc" || { cat "$rc"; fail "columns not saved as set"; }
grep -qx "sort = peer" "$rc" || { cat "$rc"; fail "sort not saved"; }
view_stop

view_start 200 40 -d 0.2
expect "the next start reads the file" "DWELL +PEER▾ +RECV-Q"
lacks "LOCAL" || { screen; fail "the saved columns not applied at start"; }
view_stop

printf 'columns = dwell,peer\ncolums = local\n' >"$rc"
view_start 200 40 -d 0.2
expect "damaged: ignored whole, said" "settings ignored: .*tcpdwellrc:2: unknown setting 'colums'"
expect "damaged: the defaults" "DWELL▾ +LOCAL +PEER"
pass "F2 setup: columns and sort chosen, saved, read at start; damage ignored with a warning"
