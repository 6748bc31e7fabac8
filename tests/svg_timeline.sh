#!/bin/bash
# Proves: -r FILE --svg OUT draws a bar per socket the filter chose, coloured
# by state with each part titled with its times, as well-formed SVG that
# rsvg-convert renders: for normal-close's recording, the filter on the
# server's port keeps the listener and the server's connection (LISTEN,
# CLOSE_WAIT) and leaves the client's FIN_WAIT_2 out; no filter draws it. A
# FIFO where the picture should go is refused with a failure status.
. "$TOP_SRCDIR/tests/lib.sh"
[ -x "$TCPDWELL" ] || fail "no binary at $TCPDWELL"
need_cmd xmllint
need_cmd rsvg-convert

rec="$TMP/nc.tcpd"
timeout -k 5 60 "$TCPDWELL" --scenario normal-close -b -w "$rec" >"$TMP/run.out" 2>&1 ||
    { cat "$TMP/run.out"; fail "recording normal-close failed"; }
port=$(sed -n 's/.*listening ports: server \([0-9]*\).*/\1/p' "$TMP/run.out")
[ -n "$port" ] || fail "no server port in the run's output"

# check SVG: well formed, rendered.
check() {
    xmllint --noout "$1" || fail "$1 is not well-formed XML"
    rsvg-convert -o "$TMP/x.png" "$1" || fail "rsvg-convert cannot render $1"
    [ -s "$TMP/x.png" ] || fail "rsvg-convert rendered nothing of $1"
}

"$TCPDWELL" -r "$rec" -b --svg "$TMP/server.svg" "sport = :$port" >/dev/null 2>"$TMP/err" ||
    { cat "$TMP/err"; fail "-r --svg with a filter failed"; }
check "$TMP/server.svg"
bars=$(grep -c "<text x=\"10\" y=\"[0-9]*\">127.0.0.1:$port &gt; " "$TMP/server.svg")
[ "$bars" = 2 ] || fail "the filter on :$port drew $bars sockets of the server, want 2"
grep -q "<title>LISTEN from" "$TMP/server.svg" || fail "no LISTEN bar"
grep -q "<title>CLOSE_WAIT from" "$TMP/server.svg" || fail "no CLOSE_WAIT bar"
if grep -q "<title>FIN_WAIT_2 from" "$TMP/server.svg"; then fail "the client's socket was drawn"; fi
grep -q "filter: sport = :$port" "$TMP/server.svg" || fail "the filter is not named"
pass "the filter chooses the sockets drawn"

"$TCPDWELL" -r "$rec" -b --svg "$TMP/all.svg" >/dev/null 2>"$TMP/err" ||
    { cat "$TMP/err"; fail "-r --svg failed"; }
check "$TMP/all.svg"
grep -q "<title>FIN_WAIT_2 from" "$TMP/all.svg" || fail "no FIN_WAIT_2 bar without a filter"
pass "without a filter every socket is drawn"

mkfifo "$TMP/fifo.svg"
rc=0
timeout -k 5 30 "$TCPDWELL" -r "$rec" -b --svg "$TMP/fifo.svg" >/dev/null 2>"$TMP/err" || rc=$?
[ "$rc" != 0 ] || fail "--svg onto a FIFO: status 0"
grep -q "cannot write SVG '$TMP/fifo.svg': not a regular file" "$TMP/err" ||
    { cat "$TMP/err"; fail "--svg onto a FIFO: no reason given"; }
[ -p "$TMP/fifo.svg" ] || fail "the FIFO was replaced"
pass "a FIFO in the way is refused"
