#!/bin/bash
# Proves: `tcpdwell -b -c 1 --group-by peer` counts a known population
# exactly, per group and per state, largest group first, with a header that
# gives the oldest; --format json says the same; bad keys are refused.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/integ_lib.sh"
need_cmd python3

# The population, in a namespace of its own: a listener on 0.0.0.0:7000;
# 2 connections to 127.0.0.2 held ESTABLISHED (their server sides have peer
# 127.0.0.1), 3 to 127.0.0.2 and 4 to 127.0.0.3 closed client first (the
# clients in TIME_WAIT, the servers closed after them and gone).
python3 - >"$TMP/pop.out" 2>"$TMP/pop.err" <<'PY' &
import socket, sys, time
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", 7000))
l.listen(64)
held = []
def connect(to):
    c = socket.create_connection((to, 7000))
    s, _ = l.accept()
    return c, s
for _ in range(2):
    held += connect("127.0.0.2")
for to, n in (("127.0.0.2", 3), ("127.0.0.3", 4)):
    for _ in range(n):
        c, s = connect(to)
        c.close()
        s.recv(1)  # the client's FIN
        s.close()
print("ready", flush=True)
time.sleep(120)
PY
pop_pid=$!
at_exit "kill $pop_pid 2>/dev/null"
wait_until 15 grep -qx ready "$TMP/pop.out" || fail "population not built: $(cat "$TMP/pop.err")"
# The servers' last ACKs: wait until only the expected states are left.
settled() {
    [ "$(ss -tanH | awk '{ print $1 }' | sort | uniq -c | tr -s ' ' | tr '\n' ';')" = \
        " 4 ESTAB; 1 LISTEN; 7 TIME-WAIT;" ]
}
wait_until 10 settled || fail "population did not settle: $(ss -tanH)"

timeout 20 "$TCPDWELL" -b -c 1 -d 0.1 --group-by peer >"$TMP/g.out" 2>"$TMP/g.err" ||
    fail "tcpdwell -b --group-by peer failed: $(cat "$TMP/g.err")"
heads=$(grep '^peer ' "$TMP/g.out" | sed 's/; oldest .*//')
want="peer 127.0.0.2 5: ESTABLISHED 2, TIME_WAIT 3
peer 127.0.0.3 4: TIME_WAIT 4
peer 127.0.0.1 2: ESTABLISHED 2
peer 0.0.0.0 1: LISTEN 1"
[ "$heads" = "$want" ] || fail "group headers:
$heads
want:
$want
in: $(cat "$TMP/g.out")"
grep '^peer ' "$TMP/g.out" | grep -qv '; oldest ' && fail "a group without its oldest: $(cat "$TMP/g.out")"
# Each group's rows follow its header, and they are its sockets.
rows=$(awk '/^peer / { g = $2; next } g != "" && NF >= 8 && $1 != "STATE" {
    p = $4; sub(/:[^:]*$/, "", p); print g, (g == p) ? "ok" : "wrong" }' "$TMP/g.out" |
    sort | uniq -c | tr -s ' ')
want_rows=" 1 0.0.0.0 ok
 2 127.0.0.1 ok
 5 127.0.0.2 ok
 4 127.0.0.3 ok"
[ "$rows" = "$want_rows" ] || fail "rows per group:
$rows
in: $(cat "$TMP/g.out")"

# By age: the TIME_WAIT of 127.0.0.3 are younger than the held ESTABLISHED.
timeout 20 "$TCPDWELL" -b -c 1 -d 0.1 --group-by peer,age >"$TMP/a.out" 2>"$TMP/a.err" ||
    fail "--group-by peer,age failed: $(cat "$TMP/a.err")"
grep -q '^peer ' "$TMP/a.out" || fail "no groups by age: $(cat "$TMP/a.out")"

# The same in JSON: one line per table.
timeout 20 "$TCPDWELL" -b -c 1 -d 0.1 --group-by peer --format json >"$TMP/g.json" 2>"$TMP/j.err" ||
    fail "--format json failed: $(cat "$TMP/j.err")"
got=$(jq -rc '.group_by as $b | .groups[] | "\($b) \(.key) \(.count) \(.states) \(.oldest != null)"' \
    "$TMP/g.json") || fail "not JSON: $(cat "$TMP/g.json")"
want='peer 127.0.0.2 5 {"ESTABLISHED":2,"TIME_WAIT":3} true
peer 127.0.0.3 4 {"TIME_WAIT":4} true
peer 127.0.0.1 2 {"ESTABLISHED":2} true
peer 0.0.0.0 1 {"LISTEN":1} true'
[ "$got" = "$want" ] || fail "JSON groups:
$got
want:
$want"

# Without --group-by, JSON groups by state.
timeout 20 "$TCPDWELL" -b -c 1 -d 0.1 --format json >"$TMP/s.json" 2>&1 ||
    fail "-b --format json failed: $(cat "$TMP/s.json")"
got=$(jq -rc '.group_by as $b | .groups[] | "\($b) \(.key) \(.count)"' "$TMP/s.json")
want='state TIME_WAIT 7
state ESTABLISHED 4
state LISTEN 1'
[ "$got" = "$want" ] || fail "JSON by state:
$got
want:
$want"

# peer-port and local-port: the listener's port gathers the server sides.
timeout 20 "$TCPDWELL" -b -c 1 -d 0.1 --group-by local-port --format json >"$TMP/l.json" 2>&1 ||
    fail "--group-by local-port failed: $(cat "$TMP/l.json")"
n=$(jq -r '.groups[] | select(.key == "7000") | .count' "$TMP/l.json")
[ "$n" = 3 ] || fail "local port 7000 counted $n, want 3: $(cat "$TMP/l.json")"

"$TCPDWELL" -b -c 1 --group-by nosuch >/dev/null 2>"$TMP/bad.err" && fail "a bad key was accepted"
grep -q "invalid --group-by 'nosuch'" "$TMP/bad.err" || fail "bad key message: $(cat "$TMP/bad.err")"
"$TCPDWELL" -e --group-by peer >/dev/null 2>"$TMP/e.err" && fail "--group-by was accepted with -e"
grep -q -- "--group-by does not go with -e" "$TMP/e.err" || fail "-e message: $(cat "$TMP/e.err")"
pass "grouping by peer counts the population exactly"
