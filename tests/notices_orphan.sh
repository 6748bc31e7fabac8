#!/bin/bash
# notices_orphan.sh - proves that a server closing first, while its peer
# still reads, has each connection told once by the poller: its socket
# hands over to an orphaned FIN_WAIT_2 mini-socket at close() (the destroy
# notice comes then) and becomes TIME_WAIT when the peer's FIN comes 50 ms
# later, with its timer started again. The notice and the TIME_WAIT are
# one life: no connection of the server may be told both as a TIME_WAIT
# and as a life never seen. The clients' sockets, which end without a
# TIME_WAIT, are told by their notices. It asserts nothing about time.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
need_cmd python3

N=8
PORT=$(( 20000 + RANDOM % 20000 ))
"$TCPDWELL" -e --format json --source poll -d 1 --metrics "$TMP/m.prom" >"$TMP/ev" 2>"$TMP/err" &
td=$!
wait_until 10 test -s "$TMP/m.prom" || fail "tcpdwell never wrote its metrics: $(cat "$TMP/err")"

python3 - "$PORT" "$N" <<'PY' || fail "the connections failed"
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen()
for _ in range(n):
    c = socket.create_connection(("127.0.0.1", port))
    a, _ = srv.accept()
    a.close()          # the server's FIN: its socket is orphaned in FIN_WAIT_2
    time.sleep(0.05)   # the client reads on
    c.close()          # the client's FIN: the mini-socket turns TIME_WAIT
    time.sleep(0.3)
srv.close()
PY

listener_closed() { grep "\"local\":\"127.0.0.1:$PORT\",\"peer\":\"0.0.0.0:\*\".*\"to\":\"CLOSED\"" "$TMP/ev" >/dev/null; }
wait_until 20 listener_closed || fail "the listener's end never came: $(tail -n 3 "$TMP/ev")"
# A TIME_WAIT lives on after the listener: one more full poll tells the last.
tw_all() { [ "$(grep -c "\"local\":\"127.0.0.1:$PORT\",.*\"to\":\"TIME_WAIT\"" "$TMP/ev")" -ge "$N" ]; }
wait_until 10 tw_all || fail "not every server connection was told in TIME_WAIT: $(grep -c TIME_WAIT "$TMP/ev")"
kill -TERM $td
wait $td || fail "tcpdwell exited with $? on SIGTERM"

# Per server connection (its local address is the listener's): how many
# times its life was begun (an appearance from CLOSED, or a notice of a
# socket never seen, from UNSEEN).
python3 - "$TMP/ev" "$PORT" "$N" <<'PY' || fail "a server connection was told twice or not at all"
import json, sys
path, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
lives = {}
for line in open(path):
    e = json.loads(line)
    if e["local"] != "127.0.0.1:" + port or e["peer"] == "0.0.0.0:*":
        continue
    if e["from"] in ("CLOSED", "UNSEEN"):
        lives.setdefault(e["peer"], []).append(e["from"] + "->" + e["to"])
bad = {p: v for p, v in lives.items() if len(v) != 1}
print(f"{len(lives)} server connections, told: " + ", ".join(sorted({v[0] for v in lives.values()})))
if len(lives) != n or bad:
    print("told other than once:", bad)
    sys.exit(1)
PY
