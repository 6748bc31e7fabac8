#!/bin/bash
# Proves: a recording keeps the sockets' owners. Sockets held by holdstate
# and recorded with `-b -w` replay with `-r FILE -b` to the same OWNER column
# as the live tables; recorded with `-e --format json -w` while they change
# state, every event the live run gave an owner replays with that owner, in
# JSON and in CSV.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/integ_lib.sh"

# Tables: state, local, peer and owner of each held row; "--" per table.
rows() {
    awk '$1 ~ /^[A-Z][A-Z0-9_]+$/ && $1 != "STATE" && $3 ~ /:/ { print $1, $3, $4, $NF }
         /^tcpdwell / { print "--" }' "$1"
}
hold cw close-wait 8101 60
hold est established 8102 60
timeout 30 "$TCPDWELL" -b -c 3 -d 0.2 -w "$TMP/held.tcpd" >"$TMP/live.b" 2>"$TMP/live.err" ||
    fail "live -b: $(cat "$TMP/live.err")"
timeout 30 "$TCPDWELL" -r "$TMP/held.tcpd" -b >"$TMP/replay.b" 2>"$TMP/replay.err" ||
    fail "replay -b: $(cat "$TMP/replay.err")"
rows "$TMP/live.b" >"$TMP/live.rows"
rows "$TMP/replay.b" >"$TMP/replay.rows"
grep -q "^CLOSE_WAIT 127.0.0.1:8101 .* $cw_pid/holdstate\$" "$TMP/live.rows" ||
    fail "the live table does not name the CLOSE_WAIT's owner: $(cat "$TMP/live.b")"
diff -u "$TMP/live.rows" "$TMP/replay.rows" || fail "replayed owners differ from the live ones"

# Events: sockets born and changing state while recording.
"$TCPDWELL" -e --format json -d 0.1 -w "$TMP/ev.tcpd" >"$TMP/live.json" 2>"$TMP/ev.err" &
ev_pid=$!
wait_until 15 test -s "$TMP/ev.tcpd" || fail "tcpdwell -e -w never started: $(cat "$TMP/ev.err")"
# Held 1.5 s, long enough for the owner to be found, then closed: CLOSE_WAIT ends with an owner.
hold late hold-ms close-wait 8103 1500
owned() {
    jq -se --arg p "$late_pid" 'any(.[]; .local == "127.0.0.1:8103" and .from == "CLOSE_WAIT"
                                       and (.pid | tostring) == $p)' "$TMP/live.json" >/dev/null
}
wait_until 15 owned || fail "the live run never named the owner of 8103: $(cat "$TMP/live.json")"
kill -INT "$ev_pid"
wait "$ev_pid" || fail "tcpdwell -e -w did not exit cleanly: $(cat "$TMP/ev.err")"
timeout 30 "$TCPDWELL" -r "$TMP/ev.tcpd" -e --format json >"$TMP/replay.json" \
    2>"$TMP/replay.err" || fail "replay -e json: $(cat "$TMP/replay.err")"
# Events as "local peer from to pid comm": the live run's owned ones must replay as they were.
ev_lines() { jq -r 'select(.pid != null) | "\(.local) \(.peer) \(.from) \(.to) \(.pid) \(.comm)"' "$1" | sort; }
ev_lines "$TMP/live.json" >"$TMP/live.owned"
ev_lines "$TMP/replay.json" >"$TMP/replay.owned"
[ -s "$TMP/live.owned" ] || fail "no live event had an owner"
missing=$(comm -23 "$TMP/live.owned" "$TMP/replay.owned")
[ -z "$missing" ] || fail "owners the live run showed and the replay did not: $missing"
jq -se 'any(.[]; .local == "127.0.0.1:8103" and .from == "CLOSE_WAIT" and .comm == "holdstate")' \
    "$TMP/replay.json" >/dev/null || fail "the replayed JSON lacks the owner of 8103"
timeout 30 "$TCPDWELL" -r "$TMP/ev.tcpd" -e --format csv >"$TMP/replay.csv" ||
    fail "replay -e csv failed"
grep -q "127.0.0.1:8103,.*,CLOSE_WAIT,.*,$late_pid,holdstate" "$TMP/replay.csv" ||
    fail "the replayed CSV lacks the owner of 8103: $(cat "$TMP/replay.csv")"
pass "replayed tables, JSON and CSV name the owners the live run named"
