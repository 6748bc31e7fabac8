#!/bin/bash
# Proves, with full polls only every 2 s and no tracepoint (--source poll):
# - a FIN_WAIT_1 held for 0.3 s is reported through the fast lane, with a
#   dwell near 0.3 s that only its 50 ms polls can measure;
# - a connection whose server side opens, goes through CLOSE_WAIT and
#   LAST_ACK and is freed between two full polls (no TIME_WAIT on that side,
#   fast lane off) is still reported, from "UNSEEN" to CLOSED, through the
#   kernel's destroy notices.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/integ_lib.sh"

# watch NAME PORT ARGS...: `tcpdwell -e --format json --source poll -d 2 ARGS`
# into $TMP/NAME.json, returning once it is known to be watching: a listener
# made after its first poll is reported (one made before is part of the
# baseline and never is: then try the next port).
watch() {
    local name=$1 port=$2 p l pid
    shift 2
    "$TCPDWELL" -e --format json --source poll -d 2 "$@" >"$TMP/$name.json" 2>"$TMP/$name.err" &
    watch_pid=$!
    for p in $(seq "$port" $((port + 4))); do
        hold "s$p" listen "$p"
        l="s${p}_local" pid="s${p}_pid"
        wait_until 5 jq -se --arg l "${!l}" 'any(.[]; .local == $l and .to == "LISTEN")' \
            "$TMP/$name.json" >/dev/null && return 0
        kill "${!pid}"
        kill -0 "$watch_pid" 2>/dev/null || fail "tcpdwell -e $* exited: $(cat "$TMP/$name.err")"
    done
    fail "tcpdwell -e $* never reported a new listener: $(cat "$TMP/$name.err")"
}

# The fast lane: FIN_WAIT_1 for 0.3 s, entered and left between two full polls
# (or across one; the dwell is still the fast lane's to measure). A generous
# budget: on a loaded machine the lane would stretch itself past 0.3 s.
watch fast 9900 --fast-budget 50
hold f hold-ms fin-wait-1 8301 300
wait_until 10 hold_said f released || fail "holdstate: $(cat "$TMP/hold-f.err")"
wait_until 5 jq -se --arg l "$f_local" --arg p "$f_peer" \
    'any(.[]; .local == $l and .peer == $p and .from == "FIN_WAIT_1")' "$TMP/fast.json" \
    >/dev/null || fail "FIN_WAIT_1 never left, as reported: $(cat "$TMP/fast.json")"
line=$(jq -c --arg l "$f_local" --arg p "$f_peer" \
    'select(.local == $l and .peer == $p and .from == "FIN_WAIT_1")' "$TMP/fast.json")
dwell=$(jq -r .dwell <<<"$line")
awk -v d="$dwell" 'BEGIN { exit !(d >= 0.15 && d <= 0.8) }' ||
    fail "FIN_WAIT_1 dwell $dwell s, not near 0.3 s: $line"
kill "$watch_pid"

# Destroy notices: a whole connection between two full polls. A poll may
# happen to catch it alive (then the end is not the notices' alone to tell):
# try again on another port, a few times.
watch gone 9910 --fast 0
for try in 1 2 3; do
    port=$((8310 + try))
    hold g$try hold-ms last-ack "$port" 100
    wait_until 10 hold_said g$try released || fail "holdstate: $(cat "$TMP/hold-g$try.err")"
    l="g${try}_local" p="g${try}_peer" pid="g${try}_pid"
    # The socket is freed when its descriptor is closed: end the holder.
    kill "${!pid}"
    wait_until 6 jq -se --arg l "${!l}" --arg p "${!p}" \
        'any(.[]; .local == $l and .peer == $p and .to == "CLOSED")' "$TMP/gone.json" \
        >/dev/null || fail "the end of ${!l} was never reported: $(cat "$TMP/gone.json")"
    from=$(jq -r --arg l "${!l}" --arg p "${!p}" \
        'select(.local == $l and .peer == $p and .to == "CLOSED") | .from' "$TMP/gone.json")
    if [ "$from" = UNSEEN ]; then
        pass "FIN_WAIT_1 of 0.3 s seen by the fast lane (dwell $dwell s); a connection" \
            "that lived between two polls reported through destroy notices"
        exit 0
    fi
done
fail "each try was caught by a full poll (from: $from); destroy notices not shown alone"
