#!/bin/bash
# Proves: `tcpdwell --serve` runs as a service: without a terminal and with
# nothing on stdout it serves the metrics, says on stderr one line when it
# starts and one when it stops; a CLOSE_WAIT held longer than --leak shows
# as a leak labelled with its owning process; a process name with a quote
# and a backslash is written as every output shows it (the backslash made
# visible as \\), escaped as the text format wants, and promtool reads it
# back where installed; SIGTERM stops it with status 0, its port free again
# at once. --serve without a metrics output, or with -b, is refused with
# status 2.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/integ_lib.sh"

# usage ARGS...: refused with status 2 and a message naming --serve.
usage() {
    "$TCPDWELL" "$@" </dev/null >"$TMP/u.out" 2>"$TMP/u.err"
    local rc=$?
    [ "$rc" = 2 ] && grep -q -- "--serve" "$TMP/u.err" ||
        fail "tcpdwell $*: status $rc, $(cat "$TMP/u.err")"
}
usage --serve
usage --serve -b --metrics "$TMP/x.prom"

prom="$TMP/serve.prom"
port=9412
# The file always; HTTP where this build has libmicrohttpd.
listen=(--metrics-listen "127.0.0.1:$port")
"$TCPDWELL" -b -c 1 "${listen[@]}" >/dev/null 2>"$TMP/probe.err" </dev/null
grep -q "built without libmicrohttpd" "$TMP/probe.err" && listen=()

hold cw close-wait 8421
# The same helper under a name a label must escape: the command name is the file's.
odd='ho"ld\st'
ln -s "$HOLDSTATE" "$TMP/$odd"
HOLDSTATE="$TMP/$odd" hold odd close-wait 8422
"$TCPDWELL" --serve --metrics "$prom" "${listen[@]}" -d 0.1 --leak 0.3 \
    </dev/null >"$TMP/serve.out" 2>"$TMP/serve.err" &
spid=$!
# The value of the series named KEY (through the environment: awk -v would
# undo the backslashes of an escaped label).
sample() { K="$1" awk '$1 == ENVIRON["K"] { print $2 }' "$prom"; }
leak='tcpdwell_leaking_sockets{state="CLOSE_WAIT",process="holdstate"}'
leaking() { [ "$(sample "$leak" 2>/dev/null)" = 1 ]; }
wait_until 15 leaking ||
    fail "no leak of holdstate's CLOSE_WAIT: $(grep leaking "$prom" 2>/dev/null) $(cat "$TMP/serve.err")"
[ -n "$(sample 'tcpdwell_leaking_oldest_seconds{state="CLOSE_WAIT",process="holdstate"}')" ] ||
    fail "no age of the leak: $(grep leaking "$prom")"
oddleak='tcpdwell_leaking_sockets{state="CLOSE_WAIT",process="ho\"ld\\\\st"}'
odd_leaking() { [ "$(sample "$oddleak" 2>/dev/null)" = 1 ]; }
wait_until 10 odd_leaking || fail "the odd name, escaped: $(grep leaking "$prom")"
if command -v promtool >/dev/null; then
    promtool check metrics <"$prom" >"$TMP/check.out" 2>&1 ||
        fail "promtool check metrics: $(cat "$TMP/check.out")"
fi
if [ ${#listen[@]} -gt 0 ]; then
    exec 3<>"/dev/tcp/127.0.0.1/$port" || fail "nothing listens on $port"
    printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3
    timeout 5 cat <&3 >"$TMP/http.out"
    exec 3<&-
    grep -qF "$leak 1" "$TMP/http.out" || fail "the leak over HTTP: $(grep leaking "$TMP/http.out")"
fi

kill -TERM "$spid"
ended() { ! kill -0 "$spid" 2>/dev/null; }
wait_until 10 ended || fail "still running after SIGTERM"
wait "$spid"
rc=$?
[ "$rc" = 0 ] || fail "status $rc after SIGTERM: $(cat "$TMP/serve.err")"
[ ! -s "$TMP/serve.out" ] || fail "the service printed on stdout: $(head -3 "$TMP/serve.out")"
head -1 "$TMP/serve.err" | grep -q '^tcpdwell: serving metrics' ||
    fail "first line: $(head -1 "$TMP/serve.err")"
tail -1 "$TMP/serve.err" | grep -qx 'tcpdwell: stopped' ||
    fail "last line: $(tail -1 "$TMP/serve.err")"
# The last figures stay behind for a collector, whole.
[ "$(sample "$leak")" = 1 ] || fail "the file after SIGTERM: $(grep leaking "$prom")"
if [ ${#listen[@]} -gt 0 ]; then
    timeout 20 "$TCPDWELL" -b -c 1 -d 0.1 "${listen[@]}" >/dev/null 2>"$TMP/again.err" ||
        fail "the port is not free after SIGTERM: $(cat "$TMP/again.err")"
fi
pass "--serve: headless metrics, a leak by process, clean stop on SIGTERM"
