#!/bin/bash
# exact_bpf_cookie.sh - proves that the exact source on eBPF identifies each
# socket by the kernel's own cookie: for a loopback connection in a private
# network namespace, every change it hands on (the connect()'s SYN_SENT
# without a port, the accepted child, the listener) carries the cookie that
# `ss -tnie` shows for that socket (sk:HEX), each socket's changes come in
# the kernel's order, and `tcpdwell -e --format json --source exact` runs on
# eBPF and never prints a cookie other than the kernel's for these sockets.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
need_cmd python3
need_cmd ss
OBS="$TOP_BUILDDIR/tests/helpers/exactobs"
[ -x "$OBS" ] || fail "no helper at $OBS"

# What the source hands on, before any tracker.
"$OBS" >"$TMP/obs.json" 2>"$TMP/obs.err" &
OP=$!
at_exit "kill $OP 2>/dev/null"
obs_ready() { grep -q "exactobs: ready" "$TMP/obs.err" || ! kill -0 $OP 2>/dev/null; }
wait_until 20 obs_ready || fail "the helper neither loaded the eBPF source nor gave up"
if ! kill -0 $OP 2>/dev/null; then
    wait $OP
    rc=$?
    [ $rc = 77 ] && skip "the eBPF exact source cannot load here: $(cat "$TMP/obs.err")"
    cat "$TMP/obs.err"; fail "the helper exited with $rc"
fi

"$TCPDWELL" -e --format json --source exact -d 0.1 >"$TMP/ev.json" 2>"$TMP/ev.err" &
TD=$!
at_exit "kill $TD 2>/dev/null"

PORT=$(( 20000 + RANDOM % 20000 ))
PROBE=$(( PORT + 1 ))
# A listener's LISTEN -> CLOSED on port $2 in file $1 (the helper prints states as numbers).
obs_closed() { grep -q "\"from\":10,\"to\":7,\"local\":\"127.0.0.1:$2\"" "$1"; }
ev_closed() { grep -q "\"local\":\"127.0.0.1:$2\",[^}]*\"from\":\"LISTEN\",\"to\":\"CLOSED\"" "$1"; }
both_closed() { obs_closed "$TMP/obs.json" "$1" && ev_closed "$TMP/ev.json" "$1"; }

# A probe listener proves both are live before the connection that counts.
python3 - "$PROBE" <<'EOF' || fail "probe failed"
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); s.close()
EOF
if ! wait_until 10 both_closed $PROBE; then
    kill -0 $TD 2>/dev/null || { cat "$TMP/ev.err"; fail "tcpdwell --source exact exited"; }
    cat "$TMP/ev.err" "$TMP/obs.err"; fail "the probe's LISTEN -> CLOSED never appeared"
fi
grep -q "perf_event_open" "$TMP/ev.err" && { cat "$TMP/ev.err"; fail "tcpdwell fell back to perf"; }

# The connection: held ESTABLISHED until ss has seen it, then closed by the
# client first (client TIME_WAIT, server LAST_ACK), then the listener.
python3 - "$PORT" "$TMP" <<'EOF' &
import os, socket, sys, time
port, tmp = int(sys.argv[1]), sys.argv[2]
s = socket.socket(); s.bind(("127.0.0.1", port)); s.listen(1)
c = socket.create_connection(("127.0.0.1", port)); a, _ = s.accept()
open(tmp + "/held.tmp", "w").write(str(c.getsockname()[1]))
os.rename(tmp + "/held.tmp", tmp + "/held")
end = time.monotonic() + 30
while not os.path.exists(tmp + "/go") and time.monotonic() < end:
    time.sleep(0.02)
c.close()
a.recv(1)
a.close()
s.close()
EOF
WP=$!
wait_until 10 test -s "$TMP/held" || fail "the connection was not made"
ss -tanieH "( sport = :$PORT or dport = :$PORT )" >"$TMP/ss"
touch "$TMP/go"
wait $WP || fail "the connection's close failed"
wait_until 10 both_closed $PORT || { cat "$TMP/ev.err"; fail "the listener's close never appeared"; }
# The client's last change, FIN_WAIT_2 -> CLOSED at the hand-over to TIME_WAIT, comes before that.

python3 - "$TMP/ss" "$TMP/obs.json" "$TMP/ev.json" "$PORT" "$(cat "$TMP/held")" <<'EOF' ||
import json, re, sys
ssf, obsf, evf, port, cport = sys.argv[1:6]
L, C = f"127.0.0.1:{port}", f"127.0.0.1:{cport}"
kernel = {}
for line in open(ssf):
    if line[:1].isspace():
        continue  # -i's second line
    f = line.split()
    m = re.search(r"\bsk:([0-9a-f]+)", line)
    if not m:
        sys.exit(f"no sk: in ss line: {line}")
    kernel[(f[3], f[4])] = int(m.group(1), 16)
want = {
    "listener": ((L, "0.0.0.0:*"), [(7, 10), (10, 7)]),
    "client": ((C, L), [(7, 2), (2, 1), (1, 4), (4, 5), (5, 7)]),
    "server": ((L, C), [(10, 3), (3, 1), (1, 8), (8, 9), (9, 7)]),
}
cookie = {}
for who, (key, _) in want.items():
    k = key if key in kernel else (key[0], key[1].replace("*", "0"))
    if k not in kernel and who == "listener":
        k = next((x for x in kernel if x[0] == L and x[1].startswith(("0.0.0.0", "*"))), None)
    if k not in kernel:
        sys.exit(f"ss did not show the {who} {key}: {kernel}")
    cookie[who] = kernel[k]
if len(set(cookie.values())) != 3:
    sys.exit(f"ss shows shared cookies: {cookie}")

# The source: every change of the test's sockets carries one of their cookies.
by = {}
for line in open(obsf):
    if not line.endswith("\n"):
        break
    o = json.loads(line)
    if not (o["local"].endswith(f":{port}") or o["peer"].endswith(f":{port}")):
        continue
    by.setdefault(o["cookie"], []).append(o)
bad = 0
for who, (key, path) in want.items():
    got = by.pop(cookie[who], [])
    seq = [(o["from"], o["to"]) for o in got]
    if seq != path:
        print(f"{who} (cookie {cookie[who]}): changes {seq}, the kernel's path is {path}")
        bad += 1
    if any(o["netns"] != 0 for o in got):
        print(f"{who}: a change not labelled with namespace index 0")
        bad += 1
    if [o["mono"] for o in got] != sorted(o["mono"] for o in got):
        print(f"{who}: changes out of time order")
        bad += 1
    if who == "client" and got:
        # connect()'s first change: the kernel has not picked the port yet.
        if not (got[0]["local"].endswith(":*") or got[0]["local"].endswith(":0")):
            print(f"client's SYN_SENT record has local {got[0]['local']}, expected port 0")
            bad += 1
        if any(o["local"] != C for o in got[1:4]):
            print(f"client's changes after SYN_SENT not on {C}: {[o['local'] for o in got]}")
            bad += 1
for c, extra in by.items():
    print(f"changes with a cookie ss never showed ({c}): {[(o['from'], o['to']) for o in extra]}")
    bad += 1

# tcpdwell: a cookie it prints for these sockets is the kernel's (0: not known to it yet).
known = {(L, C): cookie["server"], (C, L): cookie["client"], (L, "0.0.0.0:*"): cookie["listener"]}
n = 0
for line in open(evf):
    if not line.endswith("\n"):
        break
    e = json.loads(line)
    k = (e["local"], e["peer"])
    if k in known:
        n += 1
        if e["cookie"] not in ("0", str(known[k])):
            print(f"tcpdwell printed cookie {e['cookie']} for {k}, the kernel's is {known[k]}")
            bad += 1
if n < 10:
    print(f"tcpdwell printed {n} changes of the connection, expected 10 or more")
    bad += 1
sys.exit(1 if bad else 0)
EOF
{ cat "$TMP/ss" "$TMP/obs.json"; fail "the eBPF source's cookies differ from the kernel's"; }
kill $TD $OP
pass "every change of listener, client and server carried the cookie ss shows, in the kernel's order"
