#!/bin/bash
# Proves: a FIN_WAIT_2 (half-closed client) and the CLOSE_WAIT across from it
# are reported by `tcpdwell -e --format json` as they are entered, stay
# without a further event while held, and `tcpdwell -b -c 1` shows both in
# their state groups with the owning process from /proc.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/integ_lib.sh"

start_events
hold fw fin-wait-2 8002 60
wait_until 5 event_seen "$fw_local" "$fw_peer" FIN_WAIT_2 ||
    fail "no FIN_WAIT_2 event: $(cat "$TMP/events.json")"
wait_until 5 event_seen "$fw_peer" "$fw_local" CLOSE_WAIT ||
    fail "no CLOSE_WAIT event: $(cat "$TMP/events.json")"

rows=$(batch_rows)
grep -qx "FIN_WAIT_2 $fw_local $fw_peer" <<<"$rows" || fail "no FIN_WAIT_2 row in: $rows"
grep -qx "CLOSE_WAIT $fw_peer $fw_local" <<<"$rows" || fail "no CLOSE_WAIT row in: $rows"
grep -qx "FIN_WAIT_2 1" "$TMP/batch.out" || fail "no 'FIN_WAIT_2 1' group: $(cat "$TMP/batch.out")"
grep -qx "CLOSE_WAIT 1" "$TMP/batch.out" || fail "no 'CLOSE_WAIT 1' group: $(cat "$TMP/batch.out")"
owner=$(awk -v l="$fw_local" '$1 == "FIN_WAIT_2" && $3 == l { print $NF }' "$TMP/batch.out")
[ "$owner" = "$fw_pid/holdstate" ] || fail "owner '$owner', want $fw_pid/holdstate"

# Only the CLOSE_WAIT side through a filter.
rows=$(batch_rows state close-wait)
[ "$rows" = "CLOSE_WAIT $fw_peer $fw_local" ] || fail "filtered: $rows"

# Held, both still there after more polls and nothing left either state: the
# event stream reports a listener opened after the checks above, so it has
# polled since.
hold later listen 9989
wait_until 10 event_seen "$later_local" "0.0.0.0:*" LISTEN ||
    fail "no event for a later listener: $(cat "$TMP/events.json")"
jq -se --arg l "$fw_local" --arg p "$fw_peer" \
    'any(.[]; (.local == $l or .local == $p) and (.from == "FIN_WAIT_2" or .from == "CLOSE_WAIT"))
     | not' "$TMP/events.json" >/dev/null || fail "a held state was left: $(cat "$TMP/events.json")"
rows=$(batch_rows)
grep -qx "FIN_WAIT_2 $fw_local $fw_peer" <<<"$rows" || fail "FIN_WAIT_2 gone: $rows"
pass "FIN_WAIT_2 and CLOSE_WAIT held and shown"
