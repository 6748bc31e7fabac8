#!/bin/bash
# churn.sh - the churn benchmark of issue 12: how faithfully tcpdwell reports
# sockets that live for milliseconds, thousands a second.
#
# A real server and load generator (nginx, ab without keep-alive) run in a
# private network namespace at thousands of connections a second; the
# kernel's tracepoint sock:inet_sock_set_state, recorded in a private tracefs
# instance, is the reference; tcpdwell -e --format json runs beside them, once
# per source. churn_check.py compares the two and this prints one row per
# run. Then the same with two namespaces using the same 4-tuples at once,
# watched together with --netns all. It reports; it never fails on a figure.
#
# Usage: churn.sh [-t SECONDS] [-r RATE | -a N -c CONCURRENCY] [-s "exact poll"] [-o OPTIONS] [-1|-2] [-p OTHER] [-k] [TCPDWELL]
#   -t  seconds of load per run (default 10)
#   -r  connections a second per namespace, at a fixed pace: h2load (HTTP/1.1,
#       one request and "Connection: close" per connection, started every
#       10 ms) instead of ab, which only goes as fast as it can
#   -a  ab processes per namespace (default 2: one ab is one core at most)
#   -c  each ab's concurrency (default 8)
#   -s  sources to run (default "exact poll")
#   -o  more options for tcpdwell (such as "--fast-budget 3")
#   -1  only the one-namespace configuration
#   -2  only the two-namespace configuration
#   -p  run the tcpdwell OTHER beside the measured one, with the same options,
#       on the same load, and print both CPU figures (a paired comparison of
#       two builds: on a shared machine, runs apart differ by more than most
#       changes do); OTHER's events are kept but not judged
#   -k  keep the scratch directory (traces, events, tcpdwell's stderr)
# Needs root, nginx, ab or h2load, python3 (contrib/install-deps installs them).
set -u

SECS=10 NAB=2 CONC=8 SOURCES="exact poll" CONFIGS="one two" KEEP="" RATE="" MORE="" OTHER=""
while getopts "t:r:a:c:s:o:12p:kh" o; do
    case $o in
    t) SECS=$OPTARG ;;
    r) RATE=$OPTARG ;;
    a) NAB=$OPTARG ;;
    c) CONC=$OPTARG ;;
    s) SOURCES=$OPTARG ;;
    o) MORE=$OPTARG ;;
    1) CONFIGS=one ;;
    2) CONFIGS=two ;;
    p) OTHER=$(realpath "$OPTARG") ;;
    k) KEEP=1 ;;
    *) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
TCPDWELL=$(realpath "${1:-${TCPDWELL:-./src/tcpdwell}}")
HERE=$(cd "$(dirname "$0")" && pwd)
CHECK="$HERE/churn_check.py"

die() { echo "churn: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (namespaces, tracefs)"
[ -x "$TCPDWELL" ] || die "no tcpdwell at $TCPDWELL (give its path)"
[ -z "$OTHER" ] || [ -x "$OTHER" ] || die "no tcpdwell at $OTHER (-p)"
for c in nginx ab python3 nsenter ip ${RATE:+h2load}; do
    command -v $c >/dev/null || die "needs $c (contrib/install-deps installs it)"
done
if [ -n "$RATE" ]; then
    [[ "$RATE" =~ ^[0-9]+$ ]] && [ "$RATE" -ge 100 ] ||
        die "-r wants connections a second, 100 or more (not '$RATE')"
    # h2load starts a batch of connections every 10 ms: a multiple of 100.
    PER=$(( RATE / 100 )) RATE=$(( RATE / 100 * 100 ))
    LOADER="h2load at $RATE connections/s"
else
    LOADER="$NAB x ab -c $CONC"
fi

TMP=$(mktemp -d /tmp/tcpdwell-churn.XXXXXX)
NSES="" INST="" MOUNTED="" PIDS=""
declare -A NGINX
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    [ -z "$INST" ] || { echo 0 >"$INST/tracing_on"; rmdir "$INST"; } 2>/dev/null
    for n in $NSES; do ip netns del "$n" 2>/dev/null; done
    [ -z "$MOUNTED" ] || umount "$MOUNTED" 2>/dev/null
    if [ -n "$KEEP" ]; then echo "churn: kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# wait_until SECONDS COMMAND...: poll COMMAND every 50 ms until it succeeds.
wait_until() {
    local end=$(( $(now_ms) + $1 * 1000 ))
    shift
    until "$@"; do
        [ "$(now_ms)" -lt "$end" ] || return 1
        sleep 0.05
    done
}

# tracefs: mounted already, or mounted here for the run and unmounted after.
TFS=/sys/kernel/tracing
if [ ! -d $TFS/events ]; then
    mount -t tracefs nodev $TFS || die "cannot mount tracefs on $TFS"
    MOUNTED=$TFS
fi
[ -d $TFS/events/sock/inet_sock_set_state ] || die "kernel has no sock:inet_sock_set_state"

# One address and port of our own: the tracepoint sees every namespace on the
# box, the filter keeps the reference to this port, the analysis to the address.
PORT=$(( 20000 + RANDOM % 10000 ))
ADDR="127.$(( RANDOM % 200 + 20 )).$(( RANDOM % 250 + 1 )).$(( RANDOM % 250 + 1 ))"
SERVER="$ADDR:$PORT"

# A named namespace (so that --netns all labels it by name), entered with
# nsenter, which keeps our /sys: ip netns exec remounts it without tracefs.
make_ns() {
    ip netns add "$1" || die "cannot create namespace $1"
    NSES="$NSES $1"
    in_ns "$1" ip link set lo up
    # Every port but the server's range for clients; backlogs for the rate.
    in_ns "$1" sysctl -qw net.ipv4.ip_local_port_range="1024 65535" \
        net.core.somaxconn=4096 net.ipv4.tcp_max_syn_backlog=8192
}
in_ns() { local n=$1; shift; nsenter --net="/run/netns/$n" -- "$@"; }

# nginx in the foreground, two workers, no logs per request, answering "ok".
start_nginx() {
    local ns=$1 d="$TMP/nginx-$1"
    mkdir -p "$d"
    cat >"$d/nginx.conf" <<EOF
worker_processes 2;
daemon off;
user root;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path $d;
    proxy_temp_path $d;
    fastcgi_temp_path $d;
    server {
        listen $SERVER backlog=4096;
        location / { return 200 "ok\n"; }
    }
}
EOF
    nsenter --net="/run/netns/$ns" -- nginx -p "$d" -c "$d/nginx.conf" 2>>"$d/error.log" &
    NGINX[$ns]=$!
    PIDS="$PIDS $!"
    wait_until 10 in_ns "$ns" sh -c "ss -Htln | grep -q '$SERVER'" ||
        die "nginx did not listen in $ns: $(cat "$d/error.log")"
}
stop_nginx() {
    kill -QUIT "${NGINX[$1]}" 2>/dev/null
    wait "${NGINX[$1]}" 2>/dev/null
}

# The reference: a private instance (its own buffer, clock and filter).
trace_start() {
    INST="$TFS/instances/tcpdwell-churn-$$"
    mkdir "$INST" || die "cannot create a tracefs instance"
    echo mono >"$INST/trace_clock" || die "tracefs has no mono clock"
    echo 1 >"$INST/options/fields" || die "tracefs has no fields option (needed for skaddr)"
    echo 262144 >"$INST/buffer_size_kb" || die "cannot size the trace buffer"
    echo "sport == $PORT || dport == $PORT" >"$INST/events/sock/inet_sock_set_state/filter"
    echo 1 >"$INST/events/sock/inet_sock_set_state/enable"
}
# trace_stop FILE: the trace to FILE; prints the events the buffer overran.
trace_stop() {
    echo 0 >"$INST/events/sock/inet_sock_set_state/enable"
    cat "$INST/trace" >"$1"
    awk '/^overrun:/ { n += $2 } END { print n + 0 }' "$INST"/per_cpu/cpu*/stats
    rmdir "$INST"
    INST=""
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# The processes of each namespace, for telling the two namespaces' kernel
# lives apart (loopback moves a socket in its own namespace's processes).
pid_labels() {
    local n ino p
    for n in "$@"; do
        ino=$(stat -Lc %i "/run/netns/$n")
        for p in /proc/[0-9]*; do
            [ "$(stat -Lc %i "$p/ns/net" 2>/dev/null)" = "$ino" ] && echo "${p#/proc/} $n"
        done
    done
}

# Until tcpdwell has said nothing more of the server's sockets for 3 s (it
# has caught up). The exact source reports every namespace on the box, so
# the file grows with others' traffic: only what was added is read.
settled() {
    local size n
    size=$(stat -c %s "$1")
    n=$(tail -c +$((_off + 1)) "$1" | head -c $((size - _off)) | grep -c "\"$SERVER\"")
    _off=$size
    if [ "$n" -gt 0 ]; then
        _since=$(now_ms)
        return 1
    fi
    [ $(( $(now_ms) - _since )) -ge 3000 ]
}

SUMMARY="$TMP/summary.jsonl"
: >"$SUMMARY"

# run CONFIG SOURCE NS...: one measured run of tcpdwell with SOURCE.
run() {
    local cfg=$1 src=$2 name out args tp c0 c1 t0 t1 n rate lost ns
    shift 2
    name="$cfg-$src"
    out="$TMP/$name"
    mkdir -p "$out"
    args="-e --format json --source $src"
    [ "$src" = poll ] && args="$args -d 1"
    [ $# -gt 1 ] && args="$args --netns all"
    args="$args $MORE"

    # watch BINARY EVENTS STDERR NS...: a tcpdwell over the run's namespaces
    # (in the one, or all of them from here); its pid in $!.
    watch() {
        local bin=$1 ev=$2 er=$3
        shift 3
        if [ $# -gt 1 ]; then
            "$bin" $args >"$ev" 2>"$er" &
        else
            nsenter --net="/run/netns/$1" -- "$bin" $args >"$ev" 2>"$er" &
        fi
    }
    trace_start
    # tcpdwell first: the listener's birth is then in its stream too.
    watch "$TCPDWELL" "$out/events.json" "$out/stderr" "$@"
    tp=$!
    PIDS="$PIDS $tp"
    local op=""
    if [ -n "$OTHER" ]; then
        watch "$OTHER" "$out/other.json" "$out/other.stderr" "$@"
        op=$!
        PIDS="$PIDS $op"
    fi
    for ns in "$@"; do start_nginx "$ns"; done
    # Live when it has reported a socket of the server: the listener, or a
    # probe request made every half second until then (the exact source
    # may open after nginx's listen, and does not announce a listener it
    # learns of from a dump).
    local probes=0
    live() {
        grep -q "\"$SERVER\"" "$out/events.json" && return 0
        if [ $((probes++ % 10)) = 9 ]; then
            for ns in "$@"; do
                nsenter --net="/run/netns/$ns" -- ab -q -n 1 "http://$SERVER/" >/dev/null 2>&1
            done
        fi
        return 1
    }
    if ! wait_until 15 live "$@"; then
        if ! kill -0 $tp 2>/dev/null; then
            echo "{\"run\":\"$name\",\"skipped\":\"$(head -c 120 "$out/stderr" | tr '\n"' ' ')\"}" >>"$SUMMARY"
            for ns in "$@"; do stop_nginx "$ns"; done
            trace_stop "$out/trace" >/dev/null
            return
        fi
        echo "churn: $name: the listener never appeared in tcpdwell's events" >&2
    fi

    c0=$(cpu_ticks $tp)
    local o0=0 o1=0
    [ -z "$op" ] || o0=$(cpu_ticks $op)
    t0=$(now_ms)
    local abs="" i
    for ns in "$@"; do
        if [ -n "$RATE" ]; then
            nsenter --net="/run/netns/$ns" -- h2load --h1 -H "Connection: close" -r "$PER" \
                --rate-period 10ms -c $((RATE * SECS)) -n $((RATE * SECS)) \
                "http://$SERVER/" >"$out/ab-$ns-1.txt" 2>&1 &
            abs="$abs $!"
            continue
        fi
        for i in $(seq "$NAB"); do
            nsenter --net="/run/netns/$ns" -- ab -q -r -t "$SECS" -n 100000000 -c "$CONC" \
                "http://$SERVER/" >"$out/ab-$ns-$i.txt" 2>&1 &
            abs="$abs $!"
        done
    done
    [ $# -gt 1 ] && { sleep 0.2; pid_labels "$@" >"$out/pidns"; }
    for i in $abs; do wait "$i"; done
    t1=$(now_ms)
    c1=$(cpu_ticks $tp)
    [ -z "$op" ] || o1=$(cpu_ticks $op)
    [ $# -gt 1 ] && pid_labels "$@" >>"$out/pidns"

    for ns in "$@"; do stop_nginx "$ns"; done
    closed() { grep -q "\"local\":\"$SERVER\".*\"from\":\"LISTEN\",\"to\":\"CLOSED\"" "$1"; }
    wait_until 30 closed "$out/events.json" ||
        echo "churn: $name: tcpdwell never reported the listener's close" >&2
    _off=0 _since=$(now_ms)
    wait_until 60 settled "$out/events.json" ||
        echo "churn: $name: tcpdwell still writing after 60 s" >&2
    kill $tp $op 2>/dev/null
    wait $tp $op 2>/dev/null
    lost=$(trace_stop "$out/trace")

    # Requests done: ab's "Complete requests: N", h2load's "requests: ... N succeeded".
    n=$(awk '/^Complete requests:/ { n += $3 } /^requests: .* succeeded/ { n += $(NF - 7) }
        END { print n + 0 }' "$out"/ab-*.txt)
    rate=$(awk -v n="$n" -v ms=$((t1 - t0)) 'BEGIN { printf "%.0f", n * 1000 / ms }')
    local cpu
    cpu=$(awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v ms=$((t1 - t0)) \
        'BEGIN { printf "%.1f", 100 * t / hz / (ms / 1000) }')
    if [ -n "$op" ]; then
        awk -v a=$((c1 - c0)) -v b=$((o1 - o0)) -v hz="$(getconf CLK_TCK)" -v ms=$((t1 - t0)) \
            -v n="$name" 'BEGIN { printf "%-10s %5.1f%%  %5.1f%%\n", n,
                100 * a / hz / (ms / 1000), 100 * b / hz / (ms / 1000) }' >>"$TMP/paired"
    fi
    for ns in "$@"; do
        local label=() row="$name"
        if [ $# -gt 1 ]; then
            label=(--pidns "$out/pidns" --netns "$ns")
            row="$name:${ns##*-}"
            rate=$(awk '/^Complete requests:/ { n += $3 } /^Time taken/ { t = $5 }
                /^requests: .* succeeded/ { n += $(NF - 7) }
                /^finished in/ { t = $3; sub(/s,$/, "", t) }
                END { printf "%.0f", n / t }' "$out/ab-$ns"-*.txt)
        fi
        echo "== $row: $n requests in $(( (t1 - t0) / 1000 )) s by $# x $LOADER; reference lost $lost"
        python3 "$CHECK" --trace "$out/trace" --events "$out/events.json" --server "$SERVER" \
            --stderr "$out/stderr" "${label[@]}" --examples 2 --summary "$SUMMARY" \
            --set run="$row" --set rate="$rate" --set cpu="$cpu" --set ref_lost="$lost"
    done
}

for cfg in $CONFIGS; do
    if [ "$cfg" = one ]; then
        set -- "tcpdwell-churn-$$"
    else
        set -- "tcpdwell-churn-$$-A" "tcpdwell-churn-$$-B"
    fi
    for ns in "$@"; do make_ns "$ns"; done
    for src in $SOURCES; do
        run "$cfg" "$src" "$@"
    done
    for ns in "$@"; do ip netns del "$ns"; done
    NSES=""
done

echo
echo "tcpdwell churn benchmark: nginx (2 workers) + $LOADER without keep-alive" \
    "per namespace, $SECS s a run, server $SERVER${MORE:+, tcpdwell $MORE}"
python3 "$CHECK" --definitions
echo "  CPU           tcpdwell's user+system time over the load, % of one core"
echo "  ref lost      events the reference's buffer overran (should be 0)"
echo "  lost          samples lost + destroy-notice resynchronisations (r)"
echo
python3 "$CHECK" --table "$SUMMARY"
if [ -n "$OTHER" ]; then
    echo
    echo "Paired, on the same load: CPU of $TCPDWELL, then of $OTHER (% of one core)"
    cat "$TMP/paired"
fi
