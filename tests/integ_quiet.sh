#!/bin/bash
# Proves: on a quiet box the fast lane slows itself ("fast 800ms (quiet)" in
# the summary line), since every dump walks the kernel's whole socket table
# however few sockets there are; and a socket in a rare state brings it back
# to its own pace at once. Polls only, in a namespace of its own, so that
# nothing else on the machine stirs it.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/integ_lib.sh"

"$TCPDWELL" -b -d 1 --source poll >"$TMP/out" 2>"$TMP/err" &
td=$!
at_exit "kill $td 2>/dev/null"

# last_summary: the summary line of the newest table.
last_summary() { grep '^tcpdwell ' "$TMP/out" | tail -1; }
summary_has() { last_summary | grep -qF -- "$1"; }

wait_until 20 summary_has "(quiet)" ||
    fail "the fast lane never slowed down on a quiet box: $(last_summary) $(cat "$TMP/err")"
[[ $(last_summary) =~ fast\ ([0-9.]+)ms\ \(quiet\) ]] || fail "no interval in: $(last_summary)"
awk -v m="${BASH_REMATCH[1]}" 'BEGIN { exit !(m > 50) }' ||
    fail "quiet but not slower than 50 ms: $(last_summary)"

# A CLOSE_WAIT (a rare state) appears: the lane goes back to 50 ms and stays.
hold cw close-wait 9811
back() { summary_has "fast 50ms," && summary_has "CLOSE_WAIT 1"; }
wait_until 20 back || fail "the fast lane stayed slow with a CLOSE_WAIT present: $(last_summary)"
pass "the fast lane slowed itself on a quiet box and came back when a rare state appeared"
