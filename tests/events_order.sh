#!/bin/bash
# events_order.sh - proves that under churn (2,000 loopback connections
# opened and closed over a second) tcpdwell -e prints its transitions in
# time order in every format, and loses none for it: each printed time is
# at or after the one before (the ISO time of a text line, the mono field
# of JSON and CSV), and the events printed are as many as the transitions
# the exporter counted, which hears them at once, not in order
# (tcpdwell_transitions_total, _appeared_total and _unseen_total, written
# when tcpdwell ends). A dump tells late what it found, a destroy notice of
# a socket never seen is told at the next full dump with its own time, and
# the exact source stamps with the kernel's clock: without the ordering
# most of these events came out of order. Run for --source poll in each
# format, and --source exact in JSON where it can be opened. The JSON runs
# are recorded too: their replay (-r -e) prints the same events in the same
# order, owners aside (a replay may know more of them). It asserts nothing
# about time or speed.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
need_cmd awk
CHURN="$TOP_BUILDDIR/tests/helpers/churn"
[ -x "$CHURN" ] || fail "helper $CHURN not built"
ADDR=127.0.0.1
N=2000

# run NAME FORMAT ARGS...: one churn under tcpdwell -e --format FORMAT ARGS.
run() {
    local name=$1 fmt=$2 out="$TMP/$1"
    shift 2
    PORT=$(( PORT + 1 ))
    "$TCPDWELL" -e --format "$fmt" -d 0.2 --metrics "$out.prom" "$@" >"$out" 2>"$out.err" &
    local td=$!
    # The exporter writes its file after the first poll: tcpdwell is watching.
    if ! wait_until 10 test -s "$out.prom"; then
        if ! kill -0 $td 2>/dev/null && [ "$name" = exact ]; then
            echo "note: --source exact not available here: $(head -n 1 "$out.err")"
            return 1
        fi
        cat "$out.err"
        fail "$name: tcpdwell never wrote its metrics"
    fi
    "$CHURN" "$ADDR" "$PORT" "$N" 1 >/dev/null || fail "$name: the churn failed"
    # The listener's end is the churn's last change: once it is printed,
    # dumps and notices of every connection before it have been told.
    listener_closed() {
        grep "$ADDR:$PORT" "$out" | grep '0\.0\.0\.0:\*' | grep -q 'LISTEN.*CLOSED'
    }
    wait_until 30 listener_closed || { tail -n 3 "$out"; fail "$name: the listener's end never came"; }
    kill -TERM $td
    wait $td || fail "$name: tcpdwell exited with $? on SIGTERM"
}

# times NAME FORMAT: the time of each event, one a line, in a form sort -c compares.
times() {
    case $2 in
    text) awk '{ print $1 }' "$TMP/$1" ;;
    json) sed -E 's/.*"mono":([0-9.]+),.*/\1/' "$TMP/$1" ;;
    csv) awk -F, 'NR > 1 { print $2 }' "$TMP/$1" ;;
    esac
}

# check NAME FORMAT: in order, and as many as the exporter counted.
check() {
    local name=$1 fmt=$2 printed counted
    times "$name" "$fmt" >"$TMP/$name.times"
    [ "$fmt" = text ] && sort_opt="" || sort_opt="-g"
    if ! LC_ALL=C sort -c $sort_opt "$TMP/$name.times" 2>"$TMP/$name.sort"; then
        cat "$TMP/$name.sort"
        fail "$name: an event printed before one with an earlier time"
    fi
    printed=$(wc -l <"$TMP/$name.times")
    counted=$(awk '/^tcpdwell_(transitions|appeared|unseen)_total/ { n += $NF } END { print n + 0 }' \
        "$TMP/$name.prom")
    [ "$printed" -ge "$N" ] || fail "$name: only $printed events for $N connections"
    [ "$printed" = "$counted" ] ||
        fail "$name: $printed events printed, $counted counted by the exporter"
    echo "$name: $printed events in time order, as many as counted"
}

# replay_same NAME: the recording of run NAME replays to the events it printed.
replay_same() {
    "$TCPDWELL" -r "$TMP/$1.tcpd" -e --format json >"$TMP/$1.replay" 2>"$TMP/$1.replay.err" ||
        { cat "$TMP/$1.replay.err"; fail "$1: the replay failed"; }
    # The fields before pid and comm.
    if ! diff <(cut -d, -f1-11 "$TMP/$1") <(cut -d, -f1-11 "$TMP/$1.replay") >"$TMP/$1.diff"; then
        head -n 6 "$TMP/$1.diff"
        fail "$1: the replay's events are not those printed live"
    fi
    echo "$1: the replay prints the same events in the same order"
}

PORT=$(( 20000 + RANDOM % 20000 ))
for fmt in text json csv; do
    rec=()
    [ "$fmt" = json ] && rec=(-w "$TMP/poll-$fmt.tcpd")
    run "poll-$fmt" "$fmt" --source poll "${rec[@]}"
    check "poll-$fmt" "$fmt"
done
replay_same poll-json
if run exact json --source exact -w "$TMP/exact.tcpd"; then
    check exact json
    replay_same exact
fi
pass "under churn, every event stream format is in time order and complete"
