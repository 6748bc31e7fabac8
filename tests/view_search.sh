#!/bin/bash
# Proves on the real binary in tmux: the search prompt starts empty; a search
# finds a socket in a folded group, unfolding the group to show it selected;
# a "no match" said for an earlier text goes when the text matches again.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/view_lib.sh"

hold listen 6201
hold close-wait 6202

view_start 120 40 -d 0.2
expect "listeners" "^. LISTEN  [0-9]"
expect "a listener's row" "127\\.0\\.0\\.1:6201 "
# The selection starts on the first row, the LISTEN group's header: fold it.
keys F5
expect "folded" "LISTEN .*folded"
lacks "127\\.0\\.0\\.1:6201 " || { screen; fail "a folded group still shows its rows"; }

keys /
expect "search prompt, empty" "^Search: *$"
text ":6201"
expect "the group unfolded to show the match" "127\\.0\\.0\\.1:6201 "
lacks "LISTEN .*folded" || { screen; fail "the group of the match stayed folded"; }
keys Enter

keys /
expect "empty again, not the last text" "^Search: *$"
text "zzz-nothing"
expect "no match said beside the text" "^Search: zzz-nothing .*no socket matches"
keys C-u
text ":6202"
expect "the new text" "^Search: :6202"
expect_not "a stale no match cleared" "no socket matches"
keys Enter
# After Enter, a failed search is said on the message line; a later match clears it there too.
keys /
text "zzz-nothing"
keys Enter
expect "no match on the message line" "no socket matches \"zzz-nothing\""
keys /
text ":6201"
expect "typed" "^Search: :6201"
keys Enter
expect "prompt closed" "F1Help"
lacks "no socket matches" || { screen; fail "a stale no match kept after a match"; }
pass "search: empty prompt, folded groups, no stale no-match"
