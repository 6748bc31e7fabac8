#!/bin/bash
# exact_bpf_cookie.sh - proves that the exact source on eBPF identifies each
# socket by the kernel's own cookie: for a loopback connection in a private
# network namespace, over IPv4 and over IPv6, every change it hands on (the
# connect()'s SYN_SENT without a port, the accepted child, the listener)
# carries the cookie that `ss -tanie` shows for that socket (sk:HEX), each
# socket's changes come in the kernel's order, and `tcpdwell -e --format
# json --source exact` runs on eBPF and prints the kernel's cookie on every
# change of these sockets.
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

# host:port as tcpdwell and the helper print it.
hp() { case $1 in *:*) echo "[$1]:$2" ;; *) echo "$1:$2" ;; esac; }
# A listener's LISTEN -> CLOSED on host $2 port $3 in the helper's and tcpdwell's output.
both_closed() {
    local l
    l=$(hp "$1" "$2")
    grep -qF "\"from\":10,\"to\":7,\"local\":\"$l\"" "$TMP/obs.json" &&
        grep -F "\"local\":\"$l\"," "$TMP/ev.json" | grep -q '"from":"LISTEN","to":"CLOSED"'
}

cat >"$TMP/check.py" <<'EOF'
import json, re, sys
ssf, obsf, evf, L, C = sys.argv[1:6]
port = L.rsplit(":", 1)[1]
def anyport(a):  # the unset port: '*' from tcpdwell and ss, '0' from the helper
    return re.sub(r":0$", ":*", a)
kernel = {}
for line in open(ssf):
    if line[:1].isspace():
        continue  # -i's second line
    f = line.split()
    m = re.search(r"\bsk:([0-9a-f]+)", line)
    if not m:
        sys.exit(f"no sk: in ss line: {line}")
    kernel[(f[3], f[4])] = int(m.group(1), 16)
listener = next((k for k in kernel if k[0] == L and k[1].endswith(":*")), None)
want = {
    "listener": (listener, [(7, 10), (10, 7)]),
    "client": ((C, L), [(7, 2), (2, 1), (1, 4), (4, 5), (5, 7)]),
    "server": ((L, C), [(10, 3), (3, 1), (1, 8), (8, 9), (9, 7)]),
}
cookie = {}
for who, (key, _) in want.items():
    if key not in kernel:
        sys.exit(f"ss did not show the {who} {key}: {kernel}")
    cookie[who] = kernel[key]
if len(set(cookie.values())) != 3:
    sys.exit(f"ss shows shared cookies: {cookie}")

# The source: every change of the test's sockets carries one of their cookies.
by = {}
for line in open(obsf):
    if not line.endswith("\n"):
        break
    o = json.loads(line)
    if L not in (o["local"], o["peer"]):
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
        # connect()'s first change comes before the kernel picks the port:
        # the source waits for the socket's next change and takes its port.
        if any(o["local"] != C for o in got):
            print(f"client's changes not all on {C} (the SYN_SENT takes the port "
                  f"of the next change): {[o['local'] for o in got]}")
            bad += 1
for c, extra in by.items():
    print(f"changes with a cookie ss never showed ({c}): {[(o['from'], o['to']) for o in extra]}")
    bad += 1

# tcpdwell: every change of these sockets carries the kernel's cookie, the
# connect()'s SYN_SENT included (the tracker keys on the cookie).
known = {(L, C): cookie["server"], (C, L): cookie["client"], listener: cookie["listener"]}
n = 0
for line in open(evf):
    if not line.endswith("\n"):
        break
    e = json.loads(line)
    k = (e["local"], anyport(e["peer"]))
    if anyport(e["local"]) == re.sub(r":[0-9]+$", ":*", C) and e["to"] == "SYN_SENT" and \
            anyport(e["peer"]) == L:
        k = (C, L)
    if k in known:
        n += 1
        if e["cookie"] != str(known[k]):
            print(f"tcpdwell printed cookie {e['cookie']} for {k} {e['from']} -> {e['to']}, "
                  f"the kernel's is {known[k]}")
            bad += 1
# The eleven the kernel reports (TIME_WAIT may come at the next poll).
if n < 11:
    print(f"tcpdwell printed {n} changes of the connection, expected 11 or more")
    bad += 1
sys.exit(1 if bad else 0)
EOF

# One connection on host $1: held ESTABLISHED until ss has seen it, then
# closed by the client first (client TIME_WAIT, server LAST_ACK), then the
# listener; then the comparison.
connection() {
    local host=$1 port=$(( 20000 + RANDOM % 20000 )) dir="$TMP/$2"
    mkdir "$dir"
    python3 - "$host" "$port" "$dir" <<'EOF' &
import os, socket, sys, time
host, port, dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam); s.bind((host, port)); s.listen(1)
c = socket.socket(fam); c.connect((host, port)); a, _ = s.accept()
open(dir + "/held.tmp", "w").write(str(c.getsockname()[1]))
os.rename(dir + "/held.tmp", dir + "/held")
end = time.monotonic() + 30
while not os.path.exists(dir + "/go") and time.monotonic() < end:
    time.sleep(0.02)
c.close()
a.recv(1)
a.close()
s.close()
EOF
    local wp=$!
    wait_until 10 test -s "$dir/held" || fail "$host: the connection was not made"
    ss -tanieH "( sport = :$port or dport = :$port )" >"$dir/ss"
    touch "$dir/go"
    wait $wp || fail "$host: the connection's close failed"
    wait_until 10 both_closed "$host" $port ||
        { cat "$TMP/ev.err"; fail "$host: the listener's close never appeared"; }
    # The client's last change (FIN_WAIT_2 -> CLOSED, the hand-over to
    # TIME_WAIT) and the server's come before the listener's close.
    python3 "$TMP/check.py" "$dir/ss" "$TMP/obs.json" "$TMP/ev.json" "$(hp "$host" $port)" \
        "$(hp "$host" "$(cat "$dir/held")")" ||
        { cat "$dir/ss"; fail "$host: the eBPF source's cookies differ from the kernel's"; }
}

# A probe listener proves both are live before the connections that count.
PROBE=$(( 20000 + RANDOM % 20000 ))
python3 -c 'import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); s.close()' $PROBE ||
    fail "probe failed"
if ! wait_until 10 both_closed 127.0.0.1 $PROBE; then
    kill -0 $TD 2>/dev/null || { cat "$TMP/ev.err"; fail "tcpdwell --source exact exited"; }
    cat "$TMP/ev.err" "$TMP/obs.err"; fail "the probe's LISTEN -> CLOSED never appeared"
fi
grep -q "perf_event_open" "$TMP/ev.err" && { cat "$TMP/ev.err"; fail "tcpdwell fell back to perf"; }

connection 127.0.0.1 v4
pass "IPv4: every change of listener, client and server carried the cookie ss shows, in order"
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
    connection ::1 v6
    pass "IPv6: every change of listener, client and server carried the cookie ss shows, in order"
else
    echo "no IPv6 on loopback here: IPv4 only"
fi
