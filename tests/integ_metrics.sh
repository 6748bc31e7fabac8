#!/bin/bash
# Proves: --metrics writes a Prometheus text file that a collector can read:
# every line is a comment or a sample of a documented metric family; the
# socket gauge counts a held CLOSE_WAIT and its oldest-dwell gauge grows; a
# simultaneous close seen live adds FIN_WAIT_1 -> CLOSING to the transition
# counters and its dwells to a histogram whose buckets never decrease and
# end at the count, with edges at TCP's timers (0.2 s, around 60 s); no
# transition is labelled from CLOSED or UNKNOWN (appearances have their own
# counter); the self-metrics say the version and when the last dump was;
# every family written is documented in tcpdwell(1);
# the file is replaced whole (no temporary file is left);
# a directory that cannot take it is refused at start with exit status 2.
# --metrics-listen serves the same text at /metrics over HTTP (404 elsewhere)
# and refuses a port in use; a build without libmicrohttpd says so instead.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/integ_lib.sh"
. "$TOP_SRCDIR/tests/documented_metrics.sh"

prom="$TMP/tcp.prom"

# Every line a HELP/TYPE comment or NAME{LABELS} VALUE of our families.
well_formed() {
    awk '
        /^# (HELP|TYPE) tcpdwell_/ { next }
        /^tcpdwell_(sockets|oldest_seconds|leaking_sockets|leaking_oldest_seconds|transitions_total|transitions_jumped_total|appeared_total|dwell_seconds_(bucket|sum|count)|build_info|last_poll_timestamp_seconds|poll_duration_seconds_(bucket|sum|count)|dump_failures_total|samples_lost_total|notice_overruns_total)\{[a-z]+="[^"]*"(,[a-z]+="[^"]*")*\} [0-9.e+]+$/ { next }
        /^tcpdwell_(unseen_total|start_time_seconds|tracked_sockets|ephemeral_ports) [0-9.e+]+$/ { next }
        { print "bad line " NR ": " $0; bad = 1 }
        END { exit bad }' "$1"
}
sample() { awk -v k="$1" '$1 == k { print $2 }' "$prom"; }

hold cw close-wait 8401
timeout 20 "$TCPDWELL" -b -c 3 -d 0.2 --metrics "$prom" >/dev/null 2>"$TMP/b.err" ||
    fail "tcpdwell -b --metrics failed: $(cat "$TMP/b.err")"
well_formed "$prom" || fail "not a Prometheus text file"
[ "$(sample 'tcpdwell_sockets{state="CLOSE_WAIT"}')" = 1 ] ||
    fail "CLOSE_WAIT gauge: $(grep CLOSE_WAIT "$prom")"
old1=$(sample 'tcpdwell_oldest_seconds{state="CLOSE_WAIT"}')
[ -n "$old1" ] || fail "no oldest CLOSE_WAIT: $(cat "$prom")"
ls "$TMP" | grep -q '\.tmp$' && fail "a temporary file was left: $(ls "$TMP")"
grep -q '^tcpdwell_build_info{version="[^"]*"} 1$' "$prom" || fail "no build info: $(cat "$prom")"
[ -n "$(sample 'tcpdwell_last_poll_timestamp_seconds{source="poll"}')" ] ||
    fail "no time of the last poll: $(grep last_poll "$prom")"

# Live: written every second while running, then once more at the end.
"$TCPDWELL" -e -d 0.05 --metrics "$prom" >/dev/null 2>"$TMP/e.err" &
epid=$!
wait_until 10 awk -v o="$old1" '$1 == "tcpdwell_oldest_seconds{state=\"CLOSE_WAIT\"}" &&
    $2 > o { f = 1 } END { exit !f }' "$prom" || fail "the oldest CLOSE_WAIT did not grow"
hold sc simultaneous-close 8402 1
wait_until 20 hold_said sc time-wait || fail "holdstate: $(cat "$TMP/hold-sc.err")"
key='tcpdwell_transitions_total{from="FIN_WAIT_1",to="CLOSING"}'
wait_until 10 grep -qF "$key" "$prom" || fail "no FIN_WAIT_1 -> CLOSING counted: $(cat "$prom")"
kill "$epid"
wait "$epid"
well_formed "$prom" || fail "not a Prometheus text file after the run"
# Every family written is one tcpdwell(1) documents.
bad=$(undocumented_metrics "$prom")
[ -z "$bad" ] || fail "families tcpdwell(1) does not document: $bad"
[ "$(sample "$key")" -ge 1 ] || fail "FIN_WAIT_1 -> CLOSING: $(sample "$key")"
# The histogram of FIN_WAIT_1: buckets in order, never decreasing, +Inf = count.
awk '
    /^tcpdwell_dwell_seconds_bucket\{state="FIN_WAIT_1"/ { if ($2 < last) bad = 1; last = $2; inf = $2; n++ }
    $1 == "tcpdwell_dwell_seconds_count{state=\"FIN_WAIT_1\"}" { count = $2 }
    END { exit !(n > 10 && !bad && inf == count && count >= 1) }' "$prom" ||
    fail "FIN_WAIT_1 histogram: $(grep 'state="FIN_WAIT_1"' "$prom")"
# Edges where TCP's clocks are: the least RTO, and either side of TIME_WAIT's 60 s.
for le in 0.2 59 61; do
    grep -q "^tcpdwell_dwell_seconds_bucket{state=\"FIN_WAIT_1\",le=\"$le\"}" "$prom" ||
        fail "no bucket edge at $le s: $(grep 'bucket{state="FIN_WAIT_1"' "$prom")"
done
# CLOSED and UNKNOWN are never a from: the sockets of the simultaneous close appeared.
grep -E '^tcpdwell_transitions(_jumped)?_total\{[^}]*from="(CLOSED|UNKNOWN)' "$prom" &&
    fail "an appearance counted as a transition"
[ "$(sample 'tcpdwell_appeared_total{state="ESTABLISHED"}')" -ge 1 ] ||
    fail "the simultaneous close's sockets did not appear: $(grep appeared "$prom")"

# Refused at start, with the reason.
"$TCPDWELL" -b -c 1 --metrics "$TMP/no/such/dir/x.prom" >/dev/null 2>"$TMP/r.err"
rc=$?
[ "$rc" = 2 ] && grep -q "cannot write metrics beside .*No such file" "$TMP/r.err" ||
    fail "a missing directory: status $rc, $(cat "$TMP/r.err")"
# Over HTTP.
port=9411
# http_get PATH: the reply to GET PATH on $port, in $TMP/http.out.
http_get() {
    exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
    printf 'GET %s HTTP/1.0\r\n\r\n' "$1" >&3
    timeout 5 cat <&3 >"$TMP/http.out"
    exec 3<&-
}
"$TCPDWELL" -e -d 0.2 --metrics-listen "127.0.0.1:$port" >/dev/null 2>"$TMP/h.err" &
hpid=$!
# It answers, or (a build without libmicrohttpd) it has said it cannot.
answers_or_refused() { http_get /metrics 2>/dev/null || grep -q "built without" "$TMP/h.err"; }
wait_until 10 answers_or_refused || fail "no HTTP answer: $(cat "$TMP/h.err")"
if grep -q "built without libmicrohttpd" "$TMP/h.err"; then
    wait "$hpid"
    rc=$?
    [ "$rc" = 2 ] || fail "without libmicrohttpd: status $rc"
    pass "metrics file; HTTP refused plainly in a build without libmicrohttpd"
    exit 0
fi
head -1 "$TMP/http.out" | grep -q '^HTTP/1\.[01] 200' || fail "GET /metrics: $(head -5 "$TMP/http.out")"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$TMP/http.out" ||
    fail "content type: $(head -8 "$TMP/http.out")"
sed '1,/^\r$/d' "$TMP/http.out" >"$prom"
well_formed "$prom" || fail "HTTP body not a Prometheus text"
# http_sample KEY VALUE: the served text, in $prom, has KEY at VALUE.
http_sample() {
    http_get /metrics && sed '1,/^\r$/d' "$TMP/http.out" >"$prom" && [ "$(sample "$1")" = "$2" ]
}
wait_until 5 http_sample 'tcpdwell_sockets{state="CLOSE_WAIT"}' 1 ||
    fail "CLOSE_WAIT over HTTP: $(grep CLOSE_WAIT "$prom")"
http_get /nothing || fail "GET /nothing: no answer"
head -1 "$TMP/http.out" | grep -q ' 404' || fail "GET /nothing: $(head -1 "$TMP/http.out")"
"$TCPDWELL" -b -c 1 --metrics-listen "127.0.0.1:$port" >/dev/null 2>"$TMP/busy.err"
rc=$?
[ "$rc" = 2 ] && grep -q "cannot serve metrics on .*in use" "$TMP/busy.err" ||
    fail "a port in use: status $rc, $(cat "$TMP/busy.err")"
kill "$hpid"
pass "metrics: gauges, counters and a histogram in a well-formed, whole file, and over HTTP"
