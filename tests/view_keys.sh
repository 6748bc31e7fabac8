#!/bin/bash
# Proves on the real binary in tmux: the help screen returns on any key, q
# included (q there does not quit); a key no binding takes says so in the
# message line, naming it; the view still runs after both.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/view_lib.sh"

hold listen 5701
view_start 100 30 -d 0.2
expect "table" "DWELL"

keys F1
expect "help" "tcpdwell keys"
keys q
expect "q leaves help for the table" "DWELL"
lacks "EXITED" || { screen; fail "q in the help screen quit"; }

keys h
expect "help again" "tcpdwell keys"
keys x
expect "any key leaves help" "DWELL"

keys z
expect "an unknown key says so" "no key 'z' here: F1 or h lists the keys"
keys Escape
expect "Esc named" "no key Esc here"

keys q
expect "q quits from the table" "EXITED=0"
pass "help returns on any key; unknown keys are named"
