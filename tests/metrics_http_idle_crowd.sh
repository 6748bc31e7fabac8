#!/bin/bash
# Proves: 200 idle connections to --metrics-listen, held open by another
# process, neither stop the server from accepting them nor keep a scrape
# out: GET /metrics is answered while they are all still open.
# Needs no root: loopback of the namespace it runs in.
. "$TOP_SRCDIR/tests/lib.sh"
. "$TOP_SRCDIR/tests/metrics_http_lib.sh"

start_metrics_listen || skip "$(cat "$TMP/h.err")"

# The crowd: 200 connections that never send a byte, kept open.
(
    for i in $(seq 200); do
        exec {fd}<>"/dev/tcp/127.0.0.1/$port" || exit 1
    done
    echo open >"$TMP/crowd"
    exec sleep 120
) 2>/dev/null &
crowd=$!
wait_until 20 test -s "$TMP/crowd" || fail "the server stopped accepting connections"
http_get /metrics || fail "a scrape was kept out by 200 idle connections"
head -1 "$TMP/http.out" | grep -q '^HTTP/1\.[01] 200' || fail "GET /metrics: $(head -1 "$TMP/http.out")"
kill -0 "$crowd" || fail "the crowd ended early"
pass "200 idle connections accepted; a scrape is still answered"
