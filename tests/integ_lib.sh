# integ_lib.sh - sourced by the integ_*.sh tests after lib.sh: sockets held by
# holdstate, a running `tcpdwell -e --format json`, and reading what it said.

need_cmd jq
need_cmd ss
[ -x "$HOLDSTATE" ] || skip "holdstate helper not built"
[ -x "$TCPDWELL" ] || fail "no tcpdwell binary at $TCPDWELL"

# hold NAME ARGS...: run holdstate ARGS in the background, wait for its
# "ready LOCAL PEER" line, and set NAME_local, NAME_peer and NAME_pid.
hold() {
    local name=$1 out
    shift
    out="$TMP/hold-$name.out"
    "$HOLDSTATE" "$@" >"$out" 2>"$TMP/hold-$name.err" &
    eval "${name}_pid=$!"
    wait_until 15 grep -q '^ready ' "$out" ||
        fail "holdstate $* never got ready: $(cat "$TMP/hold-$name.err")"
    read -r _ "${name}_local" "${name}_peer" < <(grep '^ready ' "$out")
}

# hold_said NAME WORD: holdstate NAME has printed the line WORD.
hold_said() { grep -qx "$2" "$TMP/hold-$1.out"; }

# start_events [ARGS...]: `tcpdwell -e --format json -d 0.1 ARGS` into
# $TMP/events.json; returns once it has reported a listener that appeared
# after it started, so that it is known to be watching.
start_events() {
    local port
    "$TCPDWELL" -e --format json -d 0.1 "$@" >"$TMP/events.json" 2>"$TMP/events.err" &
    events_pid=$!
    # A listener present at the first poll has no event: retry until one does.
    for port in $(seq 9990 9999); do
        hold sentinel listen "$port"
        wait_until 1 event_seen "$sentinel_local" "0.0.0.0:*" LISTEN && return 0
        kill "$sentinel_pid"
        kill -0 "$events_pid" 2>/dev/null ||
            fail "tcpdwell -e exited: $(cat "$TMP/events.err")"
    done
    fail "tcpdwell -e never reported a new listener: $(cat "$TMP/events.err")"
}

# events LOCAL PEER: the "from to" pairs reported for one socket, in order.
events() {
    jq -r --arg l "$1" --arg p "$2" 'select(.local == $l and .peer == $p) | "\(.from) \(.to)"' \
        "$TMP/events.json"
}

# event_seen LOCAL PEER TO: a transition into TO was reported for that socket.
event_seen() {
    jq -se --arg l "$1" --arg p "$2" --arg t "$3" \
        'any(.[]; .local == $l and .peer == $p and .to == $t)' "$TMP/events.json" >/dev/null
}

# batch_rows [ARGS...]: "STATE LOCAL PEER" of every row of `tcpdwell -b -c 1 ARGS`, sorted.
batch_rows() {
    timeout 20 "$TCPDWELL" -b -c 1 -d 0.1 "$@" >"$TMP/batch.out" 2>"$TMP/batch.err" ||
        fail "tcpdwell -b -c 1 $* failed: $(cat "$TMP/batch.err")"
    awk 'NF >= 8 && $1 ~ /^[A-Z][A-Z0-9_]+$/ && $1 != "STATE" && $3 ~ /:/ { print $1, $3, $4 }' \
        "$TMP/batch.out" | sort
}

# ss_rows [FILTER...]: the same from ss, state names spelled as tcpdwell spells
# them. With `state NAME` of one state, ss leaves the state column out: put it back.
ss_rows() {
    local one=
    if [ "$1" = state ]; then
        case $2 in
        listening) one=LISTEN ;;
        all | connected | synchronized | bucket | big) ;;
        *) one=$(tr 'a-z-' 'A-Z_' <<<"$2") ;;
        esac
    fi
    ss -tanH "$@" | awk -v one="$one" '{
        if (one != "") { print one, $3, $4; next }
        st = $1
        if (st == "ESTAB") st = "ESTABLISHED"
        else if (st == "UNCONN") st = "CLOSED"
        gsub("-", "_", st)
        print st, $4, $5 }' | sort
}
