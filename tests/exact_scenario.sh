#!/bin/bash
# exact_scenario.sh - proves that the normal-close scenario run as root (where
# it takes the exact source by default) shows every state of the textbook
# teardown, microsecond ones included: the client ESTABLISHED -> FIN_WAIT_1
# -> FIN_WAIT_2 -> TIME_WAIT, the server ESTABLISHED -> CLOSE_WAIT ->
# LAST_ACK -> gone; that `--source poll` is still honoured; and that a
# recording of the run says which source made it.
. "$TOP_SRCDIR/tests/lib.sh"
need_root
[ -x "$TCPDWELL" ] || fail "no binary at $TCPDWELL"
if [ ! -d /sys/kernel/tracing/events ] && [ ! -d /sys/kernel/debug/tracing/events ]; then
    mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || skip "cannot mount tracefs"
fi

timeout -k 5 60 "$TCPDWELL" --scenario normal-close -b -w "$TMP/rec.tcpd" >"$TMP/out" 2>&1 ||
    { cat "$TMP/out"; fail "normal-close: exit status $?"; }
grep -q "exact source unavailable" "$TMP/out" && { cat "$TMP/out"; skip "no exact source here"; }

# "[  1.057]   client   127.0.0.1:59036   127.0.0.1:8000   FIN_WAIT_1 -> FIN_WAIT_2 after 449us"
# Fields without the time stamp: 1 actor, 2 local, 3 peer, 4 from, 5 "->", 6 to.
sed -E 's/^\[[ 0-9.]*\]//' "$TMP/out" >"$TMP/lines"
path() {
    awk -v who="$1" '$1 == who && $5 == "->" { if (!n++) printf "%s", $4; printf " %s", $6 }' \
        "$TMP/lines" | sed 's/(new) //'
}
client=$(path client)
want_client="SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT"
want_server_conn="SYN_RECV ESTABLISHED CLOSE_WAIT LAST_ACK gone"
[ "$client" = "$want_client" ] ||
    { cat "$TMP/out"; fail "client went '$client', want '$want_client'"; }
# The server's lines hold its listener too: keep those of the connection.
server=$(awk '$1 == "server" && $5 == "->" && $3 != "0.0.0.0:0" { printf " %s", $6 }' "$TMP/lines")
[ "$server" = " $want_server_conn" ] ||
    { cat "$TMP/out"; fail "server connection went '$server', want ' $want_server_conn'"; }
# Microsecond dwells print in µs or ms: FIN_WAIT_1 lasts far less than a second.
grep -Eq "client .* FIN_WAIT_1 -> FIN_WAIT_2 after [0-9.]+(us|µs|ms)$" "$TMP/out" ||
    { cat "$TMP/out"; fail "FIN_WAIT_1's dwell is not in us or ms"; }
pass "every state of normal-close shown, FIN_WAIT_1 and LAST_ACK included"

"$TCPDWELL" -r "$TMP/rec.tcpd" -b -c 1 >"$TMP/replay" 2>&1 || { cat "$TMP/replay"; fail "replay"; }
head -1 "$TMP/replay" | grep -q "exact" || { head -1 "$TMP/replay"; fail "the recording does not say exact"; }
pass "the recording names its source"

timeout -k 5 60 "$TCPDWELL" --scenario normal-close -b --source poll >"$TMP/poll" 2>&1 ||
    { cat "$TMP/poll"; fail "normal-close --source poll: exit status $?"; }
grep -q "FIN_WAIT_1 -> FIN_WAIT_2 after" "$TMP/poll" &&
    { cat "$TMP/poll"; fail "--source poll saw a microsecond FIN_WAIT_1: is it really polling?"; }
pass "--source poll is honoured for a scenario"
