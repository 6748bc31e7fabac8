#!/bin/bash
# Proves: a state held for 2 s (FIN_WAIT_1, released by the peer reading) is
# reported at -d 0.1 with a dwell between 1.5 and 3 s, known as "between two
# polls", on an event line whose time fields are well-formed.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/integ_lib.sh"

start_events
hold d hold-ms fin-wait-1 8003 2000
wait_until 10 hold_said d released || fail "holdstate: $(cat "$TMP/hold-d.err")"
wait_until 5 event_seen "$d_local" "$d_peer" FIN_WAIT_2 ||
    fail "no FIN_WAIT_2 event: $(cat "$TMP/events.json")"

line=$(jq -c --arg l "$d_local" --arg p "$d_peer" \
    'select(.local == $l and .peer == $p and .from == "FIN_WAIT_1" and .to == "FIN_WAIT_2")' \
    "$TMP/events.json")
[ -n "$line" ] || fail "no FIN_WAIT_1 -> FIN_WAIT_2 event: $(cat "$TMP/events.json")"
dwell=$(jq -r .dwell <<<"$line")
awk -v d="$dwell" 'BEGIN { exit !(d >= 1.5 && d <= 3) }' || fail "dwell $dwell: $line"
[ "$(jq -r .dwell_kind <<<"$line")" = between ] || fail "dwell_kind: $line"
[ "$(jq -r .jump <<<"$line")" = false ] || fail "jump: $line"
jq -e '(.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$"))
       and (.mono | type) == "number" and (.dwell | type) == "number"
       and (.cookie | length) > 0' <<<"$line" >/dev/null || fail "fields: $line"
pass "FIN_WAIT_1 held 2 s reported with dwell $dwell s"
