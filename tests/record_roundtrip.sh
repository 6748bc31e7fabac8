#!/bin/bash
# Proves: a recording replays to what the live run printed. Scenarios recorded
# with -w while `-e --format json` prints live give, replayed with
# `-r FILE -e --format json`, the same transitions field for field (the owning
# process aside: a live event may precede the owner's lookup, which the
# replay already knows; tests/record_owners.sh checks owners); held sockets
# recorded with `-b -w` give, replayed with `-r FILE -b`, the same tables
# (states, addresses and queues; dwell and timer columns depend on when a
# table was printed). Also: text and CSV replays carry the same transitions.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
[ -x "$TCPDWELL" ] || fail "no tcpdwell binary at $TCPDWELL"
[ -x "$HOLDSTATE" ] || skip "holdstate helper not built"
export TCPDWELL_SCENARIO_DIR

# JSON lines without the owner fields.
no_owner() { grep '^{' "$1" | sed -E 's/,"pid":[^,]*,"comm":("([^"\\]|\\.)*"|null)//'; }

for sc in normal-close simultaneous-close; do
    rec="$TMP/$sc.tcpd"
    timeout 60 "$TCPDWELL" --scenario "$sc" -e --format json -w "$rec" \
        >"$TMP/live.out" 2>"$TMP/live.err" || fail "$sc live run: $(cat "$TMP/live.err")"
    no_owner "$TMP/live.out" >"$TMP/live.json"
    [ "$(wc -l <"$TMP/live.json")" -ge 5 ] || fail "$sc: too few live transitions"
    timeout 30 "$TCPDWELL" -r "$rec" -e --format json >"$TMP/replay.out" 2>"$TMP/replay.err" ||
        fail "$sc replay: $(cat "$TMP/replay.err")"
    [ -s "$TMP/replay.err" ] && fail "$sc replay said: $(cat "$TMP/replay.err")"
    no_owner "$TMP/replay.out" >"$TMP/replay.json"
    diff -u "$TMP/live.json" "$TMP/replay.json" || fail "$sc: replayed transitions differ"
    timeout 30 "$TCPDWELL" -r "$rec" -e --format csv >"$TMP/replay.csv" ||
        fail "$sc: csv replay failed"
    [ "$(grep -c ',TIME_WAIT,' "$TMP/replay.csv")" -ge 1 ] || fail "$sc: no TIME_WAIT in CSV"
    timeout 30 "$TCPDWELL" -r "$rec" -e >"$TMP/replay.txt" || fail "$sc: text replay failed"
    [ "$(grep -c 'TIME_WAIT' "$TMP/replay.txt")" -ge 1 ] || fail "$sc: no TIME_WAIT in text"
done
grep -q '"from":"FIN_WAIT_2","to":"TIME_WAIT"' "$TMP/normal-close.tcpd" 2>/dev/null &&
    fail "the recording is not compressed or binary as documented"
no_owner "$TMP/replay.out" | grep -q '"to":"CLOSING"' ||
    fail "simultaneous-close replay without CLOSING"

# Held sockets, live tables against replayed tables.
hold_bg() {
    "$HOLDSTATE" "$@" >"$TMP/hold-$2.out" 2>&1 &
    wait_until 15 grep -q '^ready ' "$TMP/hold-$2.out" || fail "holdstate $* never ready"
}
hold_bg established 8001 60
hold_bg close-wait 8002 60
hold_bg listen 8003 60
rows() {
    awk '$1 ~ /^[A-Z][A-Z0-9_]+$/ && $1 != "STATE" && $3 ~ /:/ { print $1, $3, $4, $5, $6 }
         /^tcpdwell / { print "--" }' "$1"
}
timeout 30 "$TCPDWELL" -b -c 4 -d 0.2 -w "$TMP/held.tcpd" >"$TMP/live.b" 2>"$TMP/live.berr" ||
    fail "live -b: $(cat "$TMP/live.berr")"
timeout 30 "$TCPDWELL" -r "$TMP/held.tcpd" -b >"$TMP/replay.b" 2>"$TMP/replay.berr" ||
    fail "replay -b: $(cat "$TMP/replay.berr")"
rows "$TMP/live.b" >"$TMP/live.rows"
rows "$TMP/replay.b" >"$TMP/replay.rows"
grep -q '^CLOSE_WAIT 127.0.0.1:8002' "$TMP/live.rows" || fail "no held CLOSE_WAIT live"
[ "$(grep -c -- '--' "$TMP/live.rows")" = 4 ] || fail "live printed not 4 tables"
diff -u "$TMP/live.rows" "$TMP/replay.rows" || fail "replayed tables differ"
grep -q '^tcpdwell .*REPLAY' "$TMP/replay.b" || fail "replay header does not say REPLAY"
pass "live and replayed transitions and tables agree"
