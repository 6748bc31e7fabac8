#!/bin/bash
# Proves: a request to --metrics-listen whose header is larger than the
# server takes (40 KB) is answered with 431 or cut, and its connection
# closed, not left hanging in CLOSE_WAIT; after 25 of them the endpoint
# still serves /metrics. Needs no root: loopback of the namespace it runs in.
. "$TOP_SRCDIR/tests/lib.sh"
. "$TOP_SRCDIR/tests/metrics_http_lib.sh"

start_metrics_listen || skip "$(cat "$TMP/h.err")"

# big_request: one GET with a 40 KB header; the reply (if any) in $TMP/big.out.
# The server may close before it has read it all: the writer runs apart.
big_request() {
    local rc
    exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
    ( trap '' PIPE
      { printf 'GET /metrics HTTP/1.1\r\nHost: localhost\r\nX-Big: '
        head -c 40000 /dev/zero | tr '\0' a
        printf '\r\n\r\n'; } >&3 ) 2>/dev/null &
    # The server closes the connection after its answer: cat ends then
    # (or fails, when the server reset it); only the deadline is a failure.
    timeout 10 cat <&3 >"$TMP/big.out" 2>/dev/null
    rc=$?
    exec 3<&-
    wait $!
    [ $rc != 124 ]
}
for i in $(seq 25); do
    big_request || fail "request $i with a 40 KB header: no answer, connection not closed"
    [ ! -s "$TMP/big.out" ] || head -1 "$TMP/big.out" | grep -q '^HTTP/1\.[01] 431' ||
        fail "request $i with a 40 KB header: $(head -1 "$TMP/big.out")"
done
# No connection of ours is left for the server to close.
no_close_wait() { [ -z "$(ss -tanH state close-wait "( sport = :$port )")" ]; }
wait_until 10 no_close_wait || fail "left in CLOSE_WAIT: $(ss -tan "( sport = :$port )")"
http_get /metrics || fail "no answer to GET /metrics after the big requests"
head -1 "$TMP/http.out" | grep -q '^HTTP/1\.[01] 200' || fail "GET /metrics: $(head -1 "$TMP/http.out")"
pass "a 40 KB header gets 431 or a closed connection, 25 times; /metrics still served"
