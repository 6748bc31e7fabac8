# metrics_http_lib.sh - sourced by the metrics HTTP tests: a tcpdwell serving
# --metrics-listen on a free loopback port, and one GET.

# start_metrics_listen: tcpdwell -e on a free port of 127.0.0.1, in $port,
# its pid in $hpid, answering; 1 (reason in $TMP/h.err) when it cannot serve.
start_metrics_listen() {
    local try
    for try in 1 2 3 4 5; do
        port=$(( 20000 + (RANDOM * 7 + try) % 40000 ))
        "$TCPDWELL" -e -d 0.5 --metrics-listen "127.0.0.1:$port" >/dev/null 2>"$TMP/h.err" &
        hpid=$!
        if wait_until 10 _answers; then
            return 0
        fi
        kill "$hpid" 2>/dev/null
        wait "$hpid" 2>/dev/null
        grep -q "in use" "$TMP/h.err" || break
    done
    grep -q "built without libmicrohttpd" "$TMP/h.err" && return 1
    fail "tcpdwell does not serve metrics: $(cat "$TMP/h.err")"
}
_answers() { kill -0 "$hpid" 2>/dev/null && http_get /metrics 2>/dev/null; }

# http_get PATH: the reply to GET PATH on $port, in $TMP/http.out.
http_get() {
    exec 4<>"/dev/tcp/127.0.0.1/$port" || return 1
    printf 'GET %s HTTP/1.0\r\n\r\n' "$1" >&4
    timeout 5 cat <&4 >"$TMP/http.out"
    local rc=$?
    exec 4<&-
    [ $rc = 0 ] && [ -s "$TMP/http.out" ]
}
