#!/bin/bash
# Proves, on the real binary in tmux: L shows the leak report, the held
# CLOSE_WAIT and its peer's FIN_WAIT_2 under their owning process, with
# their peers; L again (or Esc) goes back to the table.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/view_lib.sh"

hold close-wait 8301
view_start 120 30 -d 0.2 --leak 0.5
expect "view up" "DWELL"
keys L
expect "the report" "Leaks: 2 sockets in CLOSE_WAIT or FIN_WAIT_2 for 0.50s or more"
expect "the owner" "[0-9]+/holdstate: 1 CLOSE_WAIT, 1 FIN_WAIT_2, oldest"
expect "the CLOSE_WAIT and its peer" "CLOSE_WAIT .* 127\.0\.0\.1:8301 -> 127\.0\.0\.1:[0-9]+"
expect "the FIN_WAIT_2 and its peer" "FIN_WAIT_2 .* 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:8301"
keys L
expect "back to the table" "DWELL"
keys L
expect "the report again" "^Leaks: "
keys Escape
expect "Esc: back to the table" "DWELL"
view_stop
pass "L shows the leaks by process, and goes back"
