#!/bin/bash
# Proves: a scenario's segments are recorded and replayed with the rest.
# normal-close recorded with `-b -w` replays with `-b -r` to the same
# segments the live run printed (SYN, SYN/ACK, ACK, FIN, ACK, FIN, ACK, with
# their senders and relative numbers, in order); `-r --svg` draws them, with
# each side's states, as well-formed SVG; `-r` in the view shows them on the
# ladder (l); a recording without segments draws no ladder; lost-last-ack's
# marks (lost, retransmission) come back too (where nft can drop).
. "$TOP_SRCDIR/tests/lib.sh"
need_root
unshare -n true 2>/dev/null || skip "cannot make a network namespace here"
[ -x "$TCPDWELL" ] || fail "no tcpdwell binary at $TCPDWELL"
export TCPDWELL_SCENARIO_DIR

# The segment lines of a -b run, without their times.
segments() {
    grep -E '^\[.*\]   (client|server) +> ' "$1" | sed 's/^\[[^]]*\] *//'
}

rec="$TMP/normal-close.tcpd"
timeout -k 5 120 "$TCPDWELL" --scenario normal-close -b -w "$rec" >"$TMP/live.out" 2>&1 ||
    { cat "$TMP/live.out"; fail "the live run failed"; }
segments "$TMP/live.out" >"$TMP/live.seg"
[ -s "$TMP/live.seg" ] || skip "the scenario captured no segment here"

timeout -k 5 60 "$TCPDWELL" -b -r "$rec" >"$TMP/replay.out" 2>"$TMP/replay.err" ||
    { cat "$TMP/replay.err"; fail "-b -r failed"; }
[ -s "$TMP/replay.err" ] && fail "the replay said: $(cat "$TMP/replay.err")"
segments "$TMP/replay.out" >"$TMP/replay.seg"
diff -u "$TMP/live.seg" "$TMP/replay.seg" || fail "replayed segments differ from the live ones"
got=$(awk '{ print $1, $3, $4, $6, $8, $10 }' "$TMP/replay.seg")
want="client server SYN 0 0 0
server client SYN,ACK 0 1 0
client server ACK 1 1 0
client server FIN,ACK 1 1 0
server client ACK 1 2 0
server client FIN,ACK 1 2 0
client server ACK 2 2 0"
[ "$got" = "$want" ] || fail "replayed segments:
$got
want:
$want"
pass "-b -r prints the seven segments the live run printed, in order"

# Marks: segments a drop rule took, and the retransmissions they caused.
if command -v nft >/dev/null || [ -x /usr/sbin/nft ]; then
    timeout -k 5 120 "$TCPDWELL" --scenario lost-last-ack -b -w "$TMP/lla.tcpd" >"$TMP/lla.live" 2>&1 ||
        { cat "$TMP/lla.live"; fail "lost-last-ack's live run failed"; }
    timeout -k 5 60 "$TCPDWELL" -b -r "$TMP/lla.tcpd" >"$TMP/lla.replay" 2>&1 ||
        { cat "$TMP/lla.replay"; fail "lost-last-ack's replay failed"; }
    segments "$TMP/lla.live" >"$TMP/lla.live.seg"
    segments "$TMP/lla.replay" >"$TMP/lla.replay.seg"
    diff -u "$TMP/lla.live.seg" "$TMP/lla.replay.seg" ||
        fail "lost-last-ack: replayed segments differ from the live ones"
    grep -q 'FIN,ACK .* retransmission$' "$TMP/lla.replay.seg" || fail "no retransmitted FIN replayed"
    grep -q 'ACK .*(lost: a drop rule took it)$' "$TMP/lla.replay.seg" || fail "no lost ACK replayed"
    pass "lost-last-ack's lost ACKs and retransmitted FINs replay as marked"
else
    echo "marks part not run: needs nft"
fi

# The picture of the replay holds the arrows in order, and the states beside them.
timeout -k 5 60 "$TCPDWELL" -b -r "$rec" --svg "$TMP/rec.svg" >/dev/null 2>"$TMP/svg.err" ||
    { cat "$TMP/svg.err"; fail "-r --svg failed"; }
if command -v xmllint >/dev/null; then
    xmllint --noout "$TMP/rec.svg" || fail "the SVG is not well formed"
fi
if command -v rsvg-convert >/dev/null; then
    rsvg-convert -o "$TMP/rec.png" "$TMP/rec.svg" && [ -s "$TMP/rec.png" ] ||
        fail "rsvg-convert cannot render the SVG"
fi
got=$(grep -o 'class="label[^"]*" text-anchor="middle">[^<]*' "$TMP/rec.svg" |
    sed 's/.*>//' | awk '{ print $1, $2 }')
want="SYN 0:0
SYN,ACK 0:1
ACK 1:1
FIN,ACK 1:1
ACK 1:2
FIN,ACK 1:2
ACK 2:2"
[ "$got" = "$want" ] || fail "segments in the SVG:
$got
want:
$want"
for st in SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT CLOSE_WAIT; do
    grep -q "class=\"state\"[^>]*>$st<" "$TMP/rec.svg" || fail "no $st beside the ladder"
done
grep -q '<title>FIN_WAIT_2 from' "$TMP/rec.svg" || fail "the timeline's bars are gone"
pass "-r --svg draws the ladder under the timeline"

# A recording with no scenario has no ladder to draw.
timeout -k 5 30 "$TCPDWELL" -b -c 1 -w "$TMP/plain.tcpd" >/dev/null 2>&1 ||
    fail "a plain recording failed"
timeout -k 5 30 "$TCPDWELL" -b -r "$TMP/plain.tcpd" --svg "$TMP/plain.svg" >"$TMP/plain.out" 2>&1 ||
    { cat "$TMP/plain.out"; fail "replaying a plain recording failed"; }
[ -z "$(segments "$TMP/plain.out")" ] || fail "segments out of a recording without any"
grep -q 'Segments and states' "$TMP/plain.svg" && fail "a ladder drawn for a recording without one"
pass "a recording without segments replays without a ladder"

# The view: l during the replay shows the recorded ladder.
if command -v tmux >/dev/null && [ -x "$HOLDSTATE" ]; then
    . "$TOP_SRCDIR/tests/view_lib.sh"
    view_start 80 24 -r "$rec"
    expect "the replay's table" "REPLAY"
    keys l
    expect "ladder header" "^ +time +server +client"
    expect "the last ACK" "ACK 2:2"
    expect "TIME_WAIT on the client's side" '│ TIME_WAIT *$'
    pass "l in a replay shows the recorded ladder"
else
    echo "view part not run: needs tmux and the holdstate helper"
fi
