#!/bin/bash
# Proves: --netns NAME shows that namespace's sockets and no other's;
# --netns all shows every namespace's, each row labelled, picks up a
# namespace made after start, and reports the sockets of a deleted one gone
# (a TIME_WAIT that outlives its process, which only our sockets would keep);
# JSON events and the metrics carry "netns"; a recording keeps the labels for its replay; a
# bad name is a usage error; without root, entering fails clearly (one name)
# or is skipped with a note (all).
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/integ_lib.sh"
need_cmd ip

A=tdw-$$-a
B=tdw-$$-b
C=tdw-$$-c
at_exit "ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null; ip netns del $C 2>/dev/null"
for ns in $A $B; do
    ip netns add "$ns" || fail "ip netns add $ns"
    ip -n "$ns" link set lo up || fail "cannot bring loopback up in $ns"
done

# hold_in NS NAME ARGS...: hold (integ_lib.sh) run inside namespace NS.
hold_in() {
    local ns=$1 name=$2 out
    shift 2
    out="$TMP/hold-$name.out"
    ip netns exec "$ns" "$HOLDSTATE" "$@" >"$out" 2>"$TMP/hold-$name.err" &
    eval "${name}_pid=$!"
    wait_until 15 grep -q '^ready ' "$out" ||
        fail "holdstate $* in $ns never got ready: $(cat "$TMP/hold-$name.err")"
    read -r _ "${name}_local" "${name}_peer" < <(grep '^ready ' "$out")
}

# ns_rows FILE: "STATE LOCAL PEER NETNS" of every row of the batch tables in FILE.
ns_rows() {
    awk 'NF >= 9 && $1 ~ /^[A-Z][A-Z0-9_]+$/ && $1 != "STATE" && $3 ~ /:/ { print $1, $3, $4, $NF }' \
        "$1" | sort -u
}

hold own listen 7100
hold_in "$A" la listen 7101
hold_in "$B" eb established 7102

# One namespace by name: its sockets only, no NETNS column.
rows=$(batch_rows --netns "$A")
[ "$rows" = "LISTEN $la_local 0.0.0.0:*" ] || fail "--netns $A shows: $rows"
grep -q "netns $A," "$TMP/batch.out" || fail "no 'netns $A' in the header: $(head -1 "$TMP/batch.out")"
grep -q NETNS "$TMP/batch.out" && fail "a NETNS column with one namespace: $(cat "$TMP/batch.out")"

# All of them: ours (a private namespace, not pid 1's: "self"), A and B, labelled.
timeout 20 "$TCPDWELL" -b -c 1 -d 0.1 --netns all >"$TMP/all.out" 2>"$TMP/all.err" ||
    fail "--netns all failed: $(cat "$TMP/all.err")"
rows=$(ns_rows "$TMP/all.out")
for want in "LISTEN $own_local 0.0.0.0:* self" "LISTEN $la_local 0.0.0.0:* $A" \
    "ESTABLISHED $eb_local $eb_peer $B" "ESTABLISHED $eb_peer $eb_local $B"; do
    grep -qxF "$want" <<<"$rows" || fail "--netns all lacks '$want': $(cat "$TMP/all.out")"
done
grep -q "netns all: [0-9]* namespaces" "$TMP/all.out" || fail "header: $(head -1 "$TMP/all.out")"
# The filter keyword picks one namespace by its label.
timeout 20 "$TCPDWELL" -b -c 1 -d 0.1 --netns all netns "$B" >"$TMP/f.out" 2>&1 ||
    fail "netns filter: $(cat "$TMP/f.out")"
rows=$(ns_rows "$TMP/f.out" | awk '{ print $4 }' | sort -u)
[ "$rows" = "$B" ] || fail "filter 'netns $B' shows: $(cat "$TMP/f.out")"

# Metrics: every series of sockets says its namespace; counts are per namespace.
"$TCPDWELL" -e -d 0.2 --netns all --metrics "$TMP/ns.prom" >/dev/null 2>"$TMP/prom.err" &
prom_pid=$!
has_series() { grep -qxF "$1" "$TMP/ns.prom" 2>/dev/null; }
for want in "tcpdwell_sockets{netns=\"$A\",state=\"LISTEN\"} 1" \
    "tcpdwell_sockets{netns=\"$B\",state=\"ESTABLISHED\"} 2" \
    "tcpdwell_sockets{netns=\"$B\",state=\"LISTEN\"} 0" \
    "tcpdwell_sockets{netns=\"self\",state=\"LISTEN\"} 1"; do
    wait_until 10 has_series "$want" ||
        fail "metrics lack '$want': $(cat "$TMP/ns.prom" "$TMP/prom.err" 2>&1)"
done
# The families of sockets, that is; the exporter's own figures are the process's.
grep -E '^tcpdwell_(sockets|oldest_seconds|leaking_|transitions_|appeared_|unseen_|dwell_)' \
    "$TMP/ns.prom" | grep -v '{netns="' &&
    fail "a series without its namespace: $(cat "$TMP/ns.prom")"
kill "$prom_pid"
wait "$prom_pid"

# Running: events, and tables while recording.
"$TCPDWELL" -e --format json -d 0.2 --netns all >"$TMP/events.json" 2>"$TMP/events.err" &
events_pid=$!
"$TCPDWELL" -b -d 0.2 --netns all -w "$TMP/rec.tcpd" >"$TMP/tables.out" 2>"$TMP/tables.err" &
tables_pid=$!
wait_until 10 grep -q "netns all" "$TMP/tables.out" ||
    fail "no table: $(cat "$TMP/tables.err")"

# A namespace made now is found by a rescan; its TIME_WAIT shows, labelled.
ip netns add "$C" || fail "ip netns add $C"
ip -n "$C" link set lo up || fail "cannot bring loopback up in $C"
hold_in "$C" tw time-wait 7103
wait_until 20 grep -qE "^TIME_WAIT .* $C\$" "$TMP/tables.out" ||
    fail "namespace $C never picked up: $(tail -20 "$TMP/tables.out")"

# Deleted, with nothing left in it but that TIME_WAIT: the socket is gone.
kill "$tw_pid"
wait "$tw_pid" 2>/dev/null
ip netns del "$C" || fail "ip netns del $C"
tw_gone() {
    jq -se --arg ns "$C" --arg l "$tw_local" \
        'any(.[]; .netns == $ns and .local == $l and .from == "TIME_WAIT" and .to == "CLOSED")' \
        "$TMP/events.json" >/dev/null
}
wait_until 20 tw_gone || fail "the TIME_WAIT of deleted $C is not reported gone: $(cat "$TMP/events.json")"
# A socket closing in B is an event labelled B.
kill "$eb_pid"
wait_until 10 jq -se --arg ns "$B" 'any(.[]; .netns == $ns and .to == "CLOSED")' \
    "$TMP/events.json" >/dev/null || fail "no event labelled $B: $(cat "$TMP/events.json")"
kill "$events_pid" "$tables_pid"
wait "$tables_pid" 2>/dev/null

# The replay of the recording shows the same labels.
"$TCPDWELL" -r "$TMP/rec.tcpd" -b >"$TMP/replay.out" 2>"$TMP/replay.err" ||
    fail "replay failed: $(cat "$TMP/replay.err")"
rows=$(ns_rows "$TMP/replay.out")
for want in "LISTEN $la_local 0.0.0.0:* $A" "ESTABLISHED $eb_local $eb_peer $B"; do
    grep -qxF "$want" <<<"$rows" || fail "the replay lacks '$want': $(head -20 "$TMP/replay.out")"
done
grep -qE "^TIME_WAIT .* $C\$" "$TMP/replay.out" || fail "the replay lacks $C's TIME_WAIT"
"$TCPDWELL" -r "$TMP/rec.tcpd" -e --format csv >"$TMP/replay.csv" ||
    fail "replay to csv failed"
head -1 "$TMP/replay.csv" | grep -q ',comm,netns$' || fail "csv header: $(head -1 "$TMP/replay.csv")"
"$TCPDWELL" -r "$TMP/rec.tcpd" -e >"$TMP/replay.txt" || fail "replay to text failed"
grep -q "^.* -> CLOSED.* netns $C\$" "$TMP/replay.txt" ||
    fail "no text event ending 'netns $C': $(cat "$TMP/replay.txt")"

# A name that is not there: a usage error that says where names come from.
out=$("$TCPDWELL" -b -c 1 --netns nosuch-$$ 2>&1)
status=$?
[ "$status" = 2 ] || fail "--netns nosuch: status $status, want 2"
[ "$out" = "tcpdwell: cannot open network namespace 'nosuch-$$': no such file (ip netns list shows the named ones)" ] ||
    fail "--netns nosuch says: $out"

# Without root: one namespace cannot be entered (runtime failure), all skips it with a note.
if command -v setpriv >/dev/null 2>&1 &&
    setpriv --reuid=nobody --regid=nogroup --clear-groups "$TCPDWELL" --version >/dev/null 2>&1; then
    out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$TCPDWELL" -b -c 1 --netns "$A" 2>&1)
    status=$?
    [ "$status" = 1 ] || fail "unprivileged --netns $A: status $status, want 1 ($out)"
    grep -q "cannot enter network namespace '$A'.*run as root" <<<"$out" ||
        fail "unprivileged --netns $A says: $out"
    setpriv --reuid=nobody --regid=nogroup --clear-groups "$TCPDWELL" -b -c 1 -d 0.1 --netns all \
        >"$TMP/np.out" 2>"$TMP/np.err" || fail "unprivileged --netns all failed: $(cat "$TMP/np.err")"
    grep -q "network namespaces\? skipped: cannot enter.*run as root" "$TMP/np.err" ||
        fail "unprivileged --netns all gave no note: $(cat "$TMP/np.err")"
    [ "$(grep -c skipped "$TMP/np.err")" = 1 ] || fail "more than one note: $(cat "$TMP/np.err")"
    grep -q "LISTEN .*$own_local .* self\$" "$TMP/np.out" ||
        fail "unprivileged --netns all lacks our own listener: $(cat "$TMP/np.out")"
else
    echo "note: setpriv or an unprivileged run unavailable; privilege checks not run"
fi
pass "namespaces chosen, labelled, found, vanished, recorded and refused"
