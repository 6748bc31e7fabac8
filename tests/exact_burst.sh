#!/bin/bash
# exact_burst.sh - proves that `tcpdwell -e --source exact` reports every
# state change the kernel made to the test's full sockets during a burst of
# 1,000 short loopback connections: the same changes, in the same order per
# socket, at the kernel's own times, and no change the kernel did not make.
# The one change the kernel does not time, an orphan's TIME_WAIT that begins
# after its FIN_WAIT_2 mini-socket, must not be marked exact when reported.
# The ground truth is the same tracepoint read independently through a
# private tracefs instance (its own buffer, filter and clock).
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
need_cmd python3

# tracefs: find it, or mount it (we are root here).
TFS=""
for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do
    [ -d "$d/events" ] && { TFS=$d; break; }
done
if [ -z "$TFS" ]; then
    mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || skip "cannot mount tracefs"
    TFS=/sys/kernel/tracing
fi
[ -d "$TFS/events/sock/inet_sock_set_state" ] || skip "kernel has no sock:inet_sock_set_state"

# The tracepoint is global across namespaces: a port and an address of our
# own keep other tests' sockets out of the ground truth.
PORT=$(( 20000 + RANDOM % 20000 ))
PROBE=$(( PORT + 1 ))
ADDR="127.$(( RANDOM % 200 + 20 )).$(( RANDOM % 250 + 1 )).$(( RANDOM % 250 + 1 ))"
N=1000

INST="$TFS/instances/tcpdwell-exact-$$"
mkdir "$INST" 2>/dev/null || skip "cannot create a tracefs instance"
at_exit "echo 0 > '$INST/events/sock/inet_sock_set_state/enable' 2>/dev/null; rmdir '$INST'"
EV="$INST/events/sock/inet_sock_set_state"
echo mono > "$INST/trace_clock" || skip "tracefs has no mono clock"
echo 16384 > "$INST/buffer_size_kb" || fail "cannot size the trace buffer"
echo "sport == $PORT || dport == $PORT" > "$EV/filter" || fail "cannot set the trace filter"
echo 1 > "$EV/enable" || fail "cannot enable the tracepoint"

"$TCPDWELL" -e --source exact --format json >"$TMP/events.json" 2>"$TMP/err" &
TD=$!
at_exit "kill $TD 2>/dev/null"

# A probe connection proves the exact source is live before the burst.
python3 - "$ADDR" "$PROBE" <<'EOF' || fail "probe connection failed"
import socket, sys
s = socket.socket(); s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(1)
c = socket.create_connection((sys.argv[1], int(sys.argv[2]))); a, _ = s.accept()
c.close(); a.close(); s.close()
EOF
# A listener's close: its local address, then (after the peer) LISTEN -> CLOSED.
closed_listener() {
    grep -q "\"local\":\"$ADDR:$1\",[^}]*\"from\":\"LISTEN\",\"to\":\"CLOSED\"" "$TMP/events.json"
}
probe_seen() { closed_listener $PROBE; }
if ! wait_until 10 probe_seen; then
    kill -0 $TD 2>/dev/null || { cat "$TMP/err"; fail "tcpdwell --source exact exited"; }
    cat "$TMP/err"; fail "the probe's exact LISTEN -> CLOSED never appeared"
fi

# The burst, one connection at a time, so that a connect()'s portless
# SYN_SENT in the ground truth belongs to the next connection. Closes vary:
# client first (TIME_WAIT), server first, and abortive (RST, no TIME_WAIT).
python3 - "$ADDR" "$PORT" "$N" <<'EOF' || fail "burst failed"
import socket, struct, sys
addr, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(); s.bind((addr, port)); s.listen(64)
for i in range(n):
    c = socket.create_connection((addr, port)); a, _ = s.accept()
    if i % 10 == 3:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close(); a.close()
    elif i % 10 == 7:
        a.close(); c.recv(1); c.close()
    else:
        c.close(); a.recv(1); a.close()
s.close()
EOF

wait_until 60 closed_listener $PORT || fail "the listener's close never appeared in the event stream"
echo 0 > "$EV/enable"
cat "$INST/trace" > "$TMP/trace"
grep -h overrun "$INST"/per_cpu/cpu*/stats | grep -qv 'overrun: 0' &&
    fail "the ground truth overflowed its buffer"

cat >"$TMP/check.py" <<'EOF'
import json, re, sys
trace, events, addr, port, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
quiet = sys.argv[6:] == ["-q"]
name = {"TCP_CLOSE": "CLOSED", "TCP_FIN_WAIT1": "FIN_WAIT_1", "TCP_FIN_WAIT2": "FIN_WAIT_2"}
def st(s):
    return name.get(s, s[4:])

# The kernel: per socket (local, peer), its changes with their times.
line_re = re.compile(r"\s(\d+\.\d+): inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP "
                     r"sport=(\d+) dport=(\d+) saddr=(\S+) daddr=(\S+) .* "
                     r"oldstate=(\S+) newstate=(\S+)")
kernel, portless = {}, []
for line in open(trace):
    m = line_re.search(line)
    if not m:
        continue
    t, sport, dport, saddr, daddr, old, new = m.groups()
    if f"{addr}:{port}" not in (f"{saddr}:{sport}", f"{daddr}:{dport}"):
        continue
    key = (f"{saddr}:{sport}", f"{daddr}:{dport}")
    ev = (st(old), st(new), float(t))
    if sport == "0" and new == "TCP_SYN_SENT":
        portless.append(ev)  # its port comes with its next change
        continue
    if old == "TCP_SYN_SENT" and portless:
        kernel.setdefault(key, []).append(portless.pop(0))
    kernel.setdefault(key, []).append(ev)
if portless:
    sys.exit(f"FAIL: {len(portless)} SYN_SENT without a later change in the ground truth")
# Births, not 4-tuples: a client port may come back for a later connection
# (an abortive close leaves no TIME_WAIT), and then one 4-tuple holds two lives.
births = sum(1 for ks in kernel.values() for k in ks
             if (k[0] == "CLOSED" and k[1] in ("SYN_SENT", "LISTEN")) or
             (k[0] == "LISTEN" and k[1] == "SYN_RECV"))
if births < 2 * n + 1:
    sys.exit(f"FAIL: ground truth holds {births} sockets, expected {2 * n + 1}")

# tcpdwell: the same sockets' events, in the order printed. The eBPF source
# gives a connect()'s SYN_SENT as the kernel does, before the port is picked:
# like the ground truth's, it belongs to the next connection's next change.
seen, portless_ev = {}, []
for line in open(events):
    if not line.endswith("\n"):
        break  # still being written
    e = json.loads(line)
    for side in ("local", "peer"):  # an unset port prints as '*'
        if e[side].endswith(":*"):
            e[side] = e[side][:-1] + "0"
    if f"{addr}:{port}" not in (e["local"], e["peer"]):
        continue
    if e["local"].endswith(":0") and e["to"] == "SYN_SENT":
        portless_ev.append(e)
        continue
    if e["from"] == "SYN_SENT" and portless_ev:
        seen.setdefault((e["local"], e["peer"]), []).append(portless_ev.pop(0))
    seen.setdefault((e["local"], e["peer"]), []).append(e)

# Two spellings of one change: an accepted socket is cloned from its listener
# (the kernel says LISTEN -> SYN_RECV, its birth is CLOSED -> SYN_RECV), and
# the kernel's X -> CLOSE as a socket becomes TIME_WAIT is X -> TIME_WAIT.
def same(k, e):
    return (e["from"] == k[0] or (k[0] == "LISTEN" and e["from"] == "CLOSED")) and \
        (e["to"] == k[1] or (k[1] == "CLOSED" and e["to"] == "TIME_WAIT"))

# When the peer sent its FIN: its first change into FIN_WAIT_1 or LAST_ACK
# since this socket's own FIN (ks[:i] is this socket's history so far).
def peer_fin(key, ks, i):
    ours = [k[2] for k in ks[:i] if k[1] == "FIN_WAIT_1"]
    if not ours:
        return None
    fins = [k[2] for k in kernel.get((key[1], key[0]), [])
            if k[1] in ("FIN_WAIT_1", "LAST_ACK") and k[2] >= ours[-1]]
    return min(fins, default=None)

changes = sum(len(v) for v in kernel.values())
missing = invented = badtime = by_poll = 0
for key, ks in kernel.items():
    ts = seen.get(key, [])
    i = 0
    for e in ts:
        if i < len(ks) and same(ks[i], e):
            # A request socket a dump saw is the same connection, born before
            # the child the kernel reports (its SYN came first): no later, then.
            request_first = ks[i][0] == "LISTEN" and e["mono"] <= ks[i][2]
            # An orphan whose peer's FIN had not come when the ACK of its own
            # did goes on as a FIN_WAIT_2 mini-socket: the kernel's
            # FIN_WAIT_2 -> CLOSE ends the full socket, and TIME_WAIT begins
            # with the peer's FIN, which no tracepoint of this socket reports.
            # A dump that sees that mini-socket leaves the TIME_WAIT to the
            # poller: not marked exact, not before the hand-over, and no later
            # than the peer's FIN and the jiffy of the timer it restarted.
            # Every time marked exact is held to 2 ms: the reference and
            # tcpdwell read the tracepoint by two probes, and an interrupt
            # between them on a busy machine has put 0.6 ms there. A time
            # taken from a poll instead would be off by tens of ms or more;
            # the churn benchmark reports the real spread (p99 1 us).
            fin = peer_fin(key, ks, i)
            mini = ks[i][:2] == ("FIN_WAIT_2", "CLOSED") and fin is not None and fin > ks[i][2]
            if e["to"] == "TIME_WAIT" and e["dwell_kind"] != "exact" and mini:
                by_poll += 1
                ok = ks[i][2] - 0.002 <= e["mono"] <= fin + 0.02
            else:
                ok = abs(e["mono"] - ks[i][2]) <= 0.002 or request_first
            if not ok:
                badtime += 1
                if badtime <= 5 and not quiet:
                    print(f"time differs: {key} {e['from']}->{e['to']} "
                          f"tcpdwell {e['mono']} ({e['dwell_kind']}) kernel {ks[i][2]}"
                          f" peer FIN {fin}")
            i += 1
        elif "TIME_WAIT" not in (e["from"], e["to"]):
            # Only the poller's TIME_WAIT (the kernel shows FIN_WAIT_2 -> CLOSE) may add.
            invented += 1
            if invented <= 5 and not quiet:
                print(f"invented or out of order: {key} {e['from']} -> {e['to']}")
    if i < len(ks):
        missing += len(ks) - i
        if missing <= 5 and not quiet:
            print(f"missing: {key} {ks[i][0]} -> {ks[i][1]} (and {len(ks) - i - 1} after)")
for key in seen:
    if key not in kernel and any("TIME_WAIT" not in (e["from"], e["to"]) for e in seen[key]):
        invented += 1
        if not quiet:
            print(f"socket the kernel never reported: {key}")
print(f"{births} sockets on {len(kernel)} 4-tuples, {changes} kernel changes; "
      f"missing {missing}, invented {invented}, time off {badtime}; "
      f"{by_poll} TIME_WAIT after a FIN_WAIT_2 mini-socket timed by the poller")
sys.exit(1 if missing or invented or badtime else 0)
EOF
# The poller reports TIME_WAIT at its next dump: give it a few polls to agree.
check() { python3 "$TMP/check.py" "$TMP/trace" "$TMP/events.json" "$ADDR" "$PORT" "$N" "$@"; }
wait_until 5 check -q >/dev/null
kill $TD; wait $TD 2>/dev/null
# Its own notes say whether it lost samples (a full ring) on the way.
check || { cat "$TMP/err"; fail "tcpdwell's exact events differ from the kernel's"; }
pass "every kernel state change of $((2 * N + 1)) sockets reported, in order, none invented"
