#!/bin/bash
# Proves (RELIABILITY.md 32): dates far in the future or the past given to
# --begin and --end mean what they say, not a wrapped-around number:
# --end 9999-12-31 and --begin 1000-01-01 replay the whole recording,
# --begin 9999-12-31 replays nothing; a duration too long to be one is refused.
. "$TOP_SRCDIR/tests/lib.sh"
rec="$TOP_SRCDIR/tests/corpus/record/normal-close.tcpd"

replay() { timeout 30 "$TCPDWELL" -r "$rec" -b "$@" >"$TMP/out" 2>"$TMP/err"; }
replay || fail "the whole recording: $(cat "$TMP/err")"
cp "$TMP/out" "$TMP/whole"
[ -s "$TMP/whole" ] || fail "the whole recording replays nothing"

replay --end 9999-12-31T23:59:59Z || fail "--end 9999: $(cat "$TMP/err")"
cmp -s "$TMP/out" "$TMP/whole" || fail "--end 9999-12-31 did not replay the whole recording"
replay --begin 1000-01-01T00:00:00Z || fail "--begin 1000: $(cat "$TMP/err")"
cmp -s "$TMP/out" "$TMP/whole" || fail "--begin 1000-01-01 did not replay the whole recording"
replay --begin 9999-12-31T23:59:59Z || fail "--begin 9999: $(cat "$TMP/err")"
[ -s "$TMP/out" ] && fail "--begin 9999-12-31 replayed: $(head -3 "$TMP/out")"
replay --begin 1000-01-01T00:00:00Z --end 9999-12-31T23:59:59Z || fail "both: $(cat "$TMP/err")"
cmp -s "$TMP/out" "$TMP/whole" || fail "--begin 1000 --end 9999 did not replay the whole recording"
replay --end 99999999999999999999
[ $? = 2 ] && grep -q -- "--end '99999999999999999999'" "$TMP/err" ||
    fail "a duration past any recording: $(cat "$TMP/err")"
pass "far dates mean what they say in --begin and --end"
