#!/bin/bash
# churn_lives.sh - proves that under churn (3,000 loopback connections opened
# and closed over a second and a half) tcpdwell -e reports
# every socket life the kernel made: each life by at least one transition or
# destroy notice, no from -> to the kernel never made for that socket, and no
# change that skips the kernel's states without being marked a jump. Run for
# --source poll -d 1 (lives shorter than a poll must come from destroy
# notices, as marked jumps) and for --source exact where it can be opened.
# The ground truth is the kernel's tracepoint sock:inet_sock_set_state read
# through a private tracefs instance; contrib/bench/churn_check.py (shared
# with the churn benchmark) joins the two and defines each count. It asserts
# nothing about time or speed.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
need_cmd python3
CHURN="$TOP_BUILDDIR/tests/helpers/churn"
CHECK="$TOP_SRCDIR/contrib/bench/churn_check.py"
[ -x "$CHURN" ] || fail "helper $CHURN not built"

# tracefs: found, or mounted here (we are root) and unmounted at exit.
TFS=/sys/kernel/tracing
if [ ! -d "$TFS/events" ]; then
    mount -t tracefs nodev "$TFS" 2>/dev/null || skip "cannot mount tracefs"
    at_exit "umount '$TFS' 2>/dev/null"
fi
[ -d "$TFS/events/sock/inet_sock_set_state" ] || skip "kernel has no sock:inet_sock_set_state"

# The tracepoint sees every namespace on the box: a port and an address of
# our own keep other tests' sockets out of the reference.
PORT=$(( 20000 + RANDOM % 20000 ))
PROBE=$(( PORT + 1 ))
ADDR="127.$(( RANDOM % 200 + 20 )).$(( RANDOM % 250 + 1 )).$(( RANDOM % 250 + 1 ))"
N=3000
# Clients may take any port but the test's own.
sysctl -qw net.ipv4.ip_local_port_range="1024 $(( PORT - 1 ))" ||
    fail "cannot widen the port range"

# trace_start NAME: a private instance, its own buffer, clock and filter.
trace_start() {
    INST="$TFS/instances/tcpdwell-churn-$$-$1"
    mkdir "$INST" 2>/dev/null || skip "cannot create a tracefs instance"
    at_exit "rmdir '$INST' 2>/dev/null"
    echo mono >"$INST/trace_clock" || skip "tracefs has no mono clock"
    echo 1 >"$INST/options/fields" || skip "tracefs has no fields option (skaddr)"
    echo 32768 >"$INST/buffer_size_kb" || fail "cannot size the trace buffer"
    echo "sport == $PORT || dport == $PORT" >"$INST/events/sock/inet_sock_set_state/filter" ||
        fail "cannot set the trace filter"
    echo 1 >"$INST/events/sock/inet_sock_set_state/enable" || fail "cannot enable the tracepoint"
}
trace_stop() {
    echo 0 >"$INST/events/sock/inet_sock_set_state/enable"
    cat "$INST/trace" >"$1"
    if grep -h '^overrun:' "$INST"/per_cpu/cpu*/stats | grep -qv 'overrun: 0'; then
        fail "the reference overflowed its trace buffer: it cannot judge"
    fi
    rmdir "$INST"
}

failed=""
# run SOURCE ARGS...: one churn under tcpdwell with SOURCE; records a failure.
run() {
    local src=$1 out="$TMP/$1"
    shift
    mkdir -p "$out"
    trace_start "$src"
    "$TCPDWELL" -e --format json --source "$src" "$@" >"$out/events.json" 2>"$out/stderr" &
    TD=$!
    at_exit "kill $TD 2>/dev/null"

    # A probe connection seen proves tcpdwell is watching before the churn;
    # one is made every half second until then (it may start listening late).
    probes=0
    probe_seen() {
        grep -q "\"$ADDR:$PROBE\"" "$out/events.json" && return 0
        if [ $((probes++ % 10)) = 0 ]; then
            "$CHURN" "$ADDR" "$PROBE" 1 >/dev/null || fail "probe connection failed"
        fi
        return 1
    }
    if ! wait_until 10 probe_seen; then
        if ! kill -0 $TD 2>/dev/null; then
            if [ "$src" = exact ]; then
                echo "note: --source exact not available here: $(head -n 2 "$out/stderr")"
                trace_stop "$out/trace"
                return
            fi
            cat "$out/stderr"
            fail "tcpdwell --source $src exited"
        fi
        cat "$out/stderr"
        fail "--source $src: the probe never appeared in the event stream"
    fi

    # Over 1.5 s: longer than a poll, so that dumps see some sockets mid-life.
    "$CHURN" "$ADDR" "$PORT" "$N" 1.5 || fail "the churn failed"

    # The listener's end is the churn's last change; then the poller's next
    # dumps (TIME_WAIT sockets) and late destroy notices: a few polls more.
    listener_closed() {
        grep -q "\"local\":\"$ADDR:$PORT\",\"peer\":\"0.0.0.0:\*\",\"from\":\"[A-Z_]*\",\"to\":\"CLOSED\"" \
            "$out/events.json"
    }
    wait_until 30 listener_closed || echo "note: --source $src never reported the listener's end"
    check() {
        python3 "$CHECK" --trace "$out/trace" --events "$out/events.json" \
            --server "$ADDR:$PORT" --stderr "$out/stderr" --assert "$@"
    }
    cat "$INST/trace" >"$out/trace"
    wait_until 5 check --examples 0 >/dev/null
    kill $TD
    wait $TD 2>/dev/null
    trace_stop "$out/trace"

    echo "--source $src${*:+ $*}:"
    if ! check --examples 2; then
        failed="$failed $src"
        echo "tcpdwell's notes:"
        sort "$out/stderr" | uniq -c | sort -rn | head -n 5
    fi
    echo
}

run poll -d 1
run exact

[ -z "$failed" ] || fail "under churn, tcpdwell's account of the kernel's socket lives is wrong for:$failed"
pass "every socket life of $N connections reported, none invented, no unmarked skip"
