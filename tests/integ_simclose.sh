#!/bin/bash
# Proves: `tcpdwell -e --format json -d 0.1` follows a simultaneous close
# one step at a time: the client goes ESTABLISHED -> FIN_WAIT_1 -> CLOSING ->
# TIME_WAIT, the server FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT, no jumps, each
# socket under one cookie from start to TIME_WAIT.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/integ_lib.sh"

start_events
hold sc simultaneous-close 8001 1
wait_until 20 hold_said sc time-wait || fail "holdstate: $(cat "$TMP/hold-sc.err")"
wait_until 5 event_seen "$sc_local" "$sc_peer" TIME_WAIT ||
    fail "no TIME_WAIT event for the client: $(cat "$TMP/events.json")"
wait_until 5 event_seen "$sc_peer" "$sc_local" TIME_WAIT ||
    fail "no TIME_WAIT event for the server: $(cat "$TMP/events.json")"

# The appearance (CLOSED -> ...) depends on when the first poll caught the
# connection; every transition after it is asserted exactly.
client=$(events "$sc_local" "$sc_peer" | grep -v '^CLOSED ' | tr '\n' ',')
[ "$client" = "ESTABLISHED FIN_WAIT_1,FIN_WAIT_1 CLOSING,CLOSING TIME_WAIT," ] ||
    fail "client transitions: $client"
server=$(events "$sc_peer" "$sc_local" | grep -v '^CLOSED ' | tr '\n' ',')
[ "$server" = "ESTABLISHED FIN_WAIT_1,FIN_WAIT_1 FIN_WAIT_2,FIN_WAIT_2 TIME_WAIT," ] ||
    fail "server transitions: $server"

# one_socket LOCAL PEER: its transitions share one cookie, none is a jump.
one_socket() {
    jq -se --arg l "$1" --arg p "$2" '
        map(select(.local == $l and .peer == $p and .from != "CLOSED")) as $ev
        | ($ev | length) >= 3
          and ($ev | map(.cookie) | unique | length) == 1
          and ($ev | map(select(.jump)) | length) == 0
          and ($ev | map(select(.family != "inet")) | length) == 0' \
        "$TMP/events.json" >/dev/null
}
one_socket "$sc_local" "$sc_peer" || fail "client: several cookies, a jump or not inet"
one_socket "$sc_peer" "$sc_local" || fail "server: several cookies, a jump or not inet"

# Each step was held 1 s: the dwell in CLOSING says so (loosely: polls are 0.1 s apart).
dwell=$(jq -r --arg l "$sc_local" 'select(.local == $l and .from == "CLOSING") | .dwell' \
    "$TMP/events.json")
awk -v d="$dwell" 'BEGIN { exit !(d >= 0.5 && d <= 5) }' || fail "CLOSING dwell $dwell"
pass "simultaneous close: $client"
