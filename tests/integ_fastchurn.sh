#!/bin/bash
# Proves: under churn, when rare states pass faster than the fast lane looks
# (loopback connections opened and closed a thousand a second: their
# teardown takes microseconds), the lane slows itself and the summary line
# says "(churn)" (down to a probe every few seconds), since each of its looks
# walks a table full of TIME_WAITs to see almost none of the changes the
# destroy notices and full polls tell;
# once the churn stops it leaves "(churn)", and a socket in a rare state
# brings it back to its own pace. Polls only, in a namespace of its own.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/integ_lib.sh"
CHURN="$TOP_BUILDDIR/tests/helpers/churn"
[ -x "$CHURN" ] || fail "helper $CHURN not built"

# A whole core for the lane: "(slowed: budget)" would hide what this is about.
"$TCPDWELL" -b -d 1 --source poll --fast-budget 100 >"$TMP/out" 2>"$TMP/err" &
td=$!
at_exit "kill $td 2>/dev/null"

last_summary() { grep '^tcpdwell ' "$TMP/out" | tail -1; }
summary_has() { last_summary | grep -qF -- "$1"; }
summary_lacks() { last_summary | grep -q . && ! summary_has "$1"; }
wait_until 20 summary_has "fast " || fail "no fast lane in: $(last_summary) $(cat "$TMP/err")"

# 30,000 connections over 30 s: far longer than the lane needs to judge.
"$CHURN" 127.0.0.1 9601 30000 30 >"$TMP/churn.out" 2>&1 &
churn=$!
at_exit "kill $churn 2>/dev/null"
wait_until 25 summary_has "(churn)" ||
    fail "the fast lane never said churn under 1,000 connections a second: $(last_summary)"
kill -0 $churn 2>/dev/null || fail "the churn ended before the lane judged it: $(cat "$TMP/churn.out")"
# "fast 800ms (churn)", or, slowed past the full poll to a probe, "fast 3.2s (churn)".
[[ $(last_summary) =~ fast\ ([0-9.]+)(ms|s)\ \(churn\) ]] || fail "no interval in: $(last_summary)"
awk -v m="${BASH_REMATCH[1]}" -v u="${BASH_REMATCH[2]}" 'BEGIN { exit !(u == "s" || m > 50) }' ||
    fail "churn but not slower than 50 ms: $(last_summary)"

kill $churn 2>/dev/null
wait $churn 2>/dev/null
wait_until 20 summary_lacks "(churn)" ||
    fail "the fast lane still said churn after the churn stopped: $(last_summary)"

# A CLOSE_WAIT appears: the lane goes back to its 50 ms.
hold cw close-wait 9812
back() { summary_has "fast 50ms," && summary_has "CLOSE_WAIT 1"; }
wait_until 20 back || fail "the fast lane stayed slow with a CLOSE_WAIT present: $(last_summary)"
pass "the fast lane slowed for churn, said so, and came back when it stopped"
