#!/bin/bash
# exact_bpf_netns.sh - proves that the exact source on eBPF labels every
# change with its own network namespace: two namespaces each run a server
# and a client on the same 4-tuple (127.0.0.1, same ports), and a third
# appears while tcpdwell runs and connects at once, before the poller has
# found it. With `--netns all` each namespace's connection is reported
# once, complete, labelled with that namespace (the third's changes wait for
# its label); with `--netns NAME` only that namespace's changes appear. And
# that the perf fallback, which cannot label, refuses --netns.
. "$TOP_SRCDIR/tests/lib.sh"
need_root
need_cmd ip
need_cmd python3

A=tdw-bpf-$$-a B=tdw-bpf-$$-b C=tdw-bpf-$$-c
at_exit "ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null; ip netns del $C 2>/dev/null"
for n in $A $B; do
    ip netns add $n || skip "cannot add network namespace $n"
    ip -n $n link set lo up || fail "cannot bring loopback up in $n"
done

# The perf fallback cannot tell namespaces apart: --source exact is refused
# with --netns, saying why, and auto polls with a note.
TCPDWELL_NO_BPF=1 "$TCPDWELL" -b -c 1 --source exact --netns $A >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc = 1 ] || { cat "$TMP/err"; fail "--netns with the perf fallback: exit $rc, expected 1"; }
grep -q "netns needs the exact source on eBPF (the perf_event_open fallback cannot tell" \
    "$TMP/err" || { cat "$TMP/err"; fail "--netns with the perf fallback: no reason given"; }
TCPDWELL_NO_BPF=1 "$TCPDWELL" -b -c 1 --source auto --netns $A >"$TMP/out" 2>"$TMP/err" ||
    { cat "$TMP/err"; fail "--source auto --netns with the perf fallback failed"; }
head -1 "$TMP/out" | grep -q "poll" && grep -q "note: exact source unavailable, polling" "$TMP/err" ||
    { cat "$TMP/out" "$TMP/err"; fail "--source auto --netns did not poll with a note"; }
pass "the perf fallback refuses --netns with a reason; auto polls instead"

# From here the eBPF source must run: only it can tell namespaces apart.
"$TCPDWELL" -b -c 1 --source exact --netns $A >"$TMP/probe" 2>&1 ||
    skip "the eBPF exact source cannot run here: $(tail -1 "$TMP/probe")"

"$TCPDWELL" -e --format json --source exact --netns all >"$TMP/all.json" 2>"$TMP/all.err" &
T1=$!
"$TCPDWELL" -e --format json --source exact --netns $A >"$TMP/a.json" 2>"$TMP/a.err" &
T2=$!
at_exit "kill $T1 $T2 2>/dev/null"

PORT=$(( 20000 + RANDOM % 20000 ))
CPORT=$(( PORT + 1 ))
PROBE=$(( PORT + 2 ))
# A listener's LISTEN -> CLOSED on port $3 in namespace $2, in file $1.
closed() {
    grep "\"local\":\"127.0.0.1:$3\",[^}]*\"from\":\"LISTEN\",\"to\":\"CLOSED\"" "$1" |
        grep -q "\"netns\":\"$2\""
}
# listen $NS $PORT: a listener opened and closed; connect $NS: the connection that counts.
listen() {
    ip netns exec "$1" python3 -c 'import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); s.close()' "$2"
}
connect() {
    ip netns exec "$1" python3 - "$PORT" "$CPORT" <<'EOF'
import socket, sys
port, cport = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(); s.bind(("127.0.0.1", port)); s.listen(1)
c = socket.socket(); c.bind(("127.0.0.1", cport)); c.connect(("127.0.0.1", port))
a, _ = s.accept()
c.close(); a.recv(1); a.close(); s.close()
EOF
}

# Both are live and have labelled namespace A before the connections.
listen $A $PROBE || fail "probe listener failed"
ready() { closed "$TMP/all.json" $A $PROBE && closed "$TMP/a.json" $A $PROBE; }
if ! wait_until 15 ready; then
    cat "$TMP/all.err" "$TMP/a.err"; fail "the probe's LISTEN -> CLOSED in $A never appeared"
fi

connect $A & P1=$!
connect $B & P2=$!
wait $P1 || fail "the connection in $A failed"
wait $P2 || fail "the connection in $B failed"
# A namespace born now: its changes come before the poller has looked for it.
ip netns add $C || fail "cannot add network namespace $C"
ip -n $C link set lo up || fail "cannot bring loopback up in $C"
connect $C || fail "the connection in $C failed"

all_done() { closed "$TMP/all.json" $A $PORT && closed "$TMP/all.json" $B $PORT &&
             closed "$TMP/all.json" $C $PORT && closed "$TMP/a.json" $A $PORT; }
wait_until 30 all_done || { cat "$TMP/all.err" "$TMP/a.err"; fail "a listener's close never appeared"; }

cat >"$TMP/check.py" <<'EOF'
import json, sys
path, port, cport, want_ns = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
L, C, ANY = f"127.0.0.1:{port}", f"127.0.0.1:{cport}", "0.0.0.0:*"
# Every change the kernel makes to these three sockets, as tcpdwell names them.
core = [(L, ANY, "CLOSED", "LISTEN"), (L, ANY, "LISTEN", "CLOSED"),
        (C, L, "CLOSED", "SYN_SENT"), (C, L, "SYN_SENT", "ESTABLISHED"),
        (C, L, "ESTABLISHED", "FIN_WAIT_1"), (C, L, "FIN_WAIT_1", "FIN_WAIT_2"),
        (L, C, "CLOSED", "SYN_RECV"), (L, C, "SYN_RECV", "ESTABLISHED"),
        (L, C, "ESTABLISHED", "CLOSE_WAIT"), (L, C, "CLOSE_WAIT", "LAST_ACK"),
        (L, C, "LAST_ACK", "CLOSED")]
count, bad = {}, 0
for line in open(path):
    if not line.endswith("\n"):
        break
    e = json.loads(line)
    if (e["local"], e["peer"]) not in ((L, ANY), (L, C), (C, L)):
        continue
    ns = e.get("netns")
    if ns not in want_ns:
        print(f"{path}: a change labelled {ns!r}, watched {want_ns}: {line.strip()}")
        bad += 1
        continue
    k = (ns, e["local"], e["peer"], e["from"], e["to"])
    count[k] = count.get(k, 0) + 1
for ns in want_ns:
    for c in core:
        n = count.get((ns,) + c, 0)
        if n != 1:
            print(f"{path}: {ns}: {c[0]} {c[1]} {c[2]} -> {c[3]} reported {n} times, not once")
            bad += 1
sys.exit(1 if bad else 0)
EOF
python3 "$TMP/check.py" "$TMP/all.json" $PORT $CPORT $A $B $C ||
    { cat "$TMP/all.err"; fail "--netns all: changes missing, repeated or labelled wrong"; }
pass "--netns all: each of three namespaces' identical connections reported once, with its own label"
python3 "$TMP/check.py" "$TMP/a.json" $PORT $CPORT $A ||
    { cat "$TMP/a.err"; fail "--netns $A: changes missing, repeated, or from another namespace"; }
pass "--netns $A: its own connection alone"
