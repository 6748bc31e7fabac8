#!/bin/bash
# Proves on the real binary in tmux: a cycles the grouping from state through
# process, peer, peer-port, local-port and netns back to state; grouped by
# peer, each header gives its key, its count per state and its oldest, and K
# on a peer's header destroys that peer's sockets and nothing else; while
# the groups do not fit they fold, and F5 opens the selected one alone.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/view_lib.sh"

# A connection held in FIN_WAIT_2 (its client has peer 127.0.0.1:5702, its
# server side in CLOSE_WAIT a 127.0.0.1 port) and a listener (peer 0.0.0.0)
# held by another process.
hold fin-wait-2 5702
hold listen 5703
view_start 120 30 -d 0.2 --leak 1
expect "table by state" "FIN_WAIT_2  1"

keys a
expect "grouped by process" "grouped by process"
expect "a process group" "process [0-9]+/holdstate  2 \\(FIN_WAIT_2 1, CLOSE_WAIT 1\\)   oldest "
expect "its leaks (--leak 1)" "process [0-9]+/holdstate  2 \\(FIN_WAIT_2 1, CLOSE_WAIT 1\\)   oldest [^ ]+   2 likely leaks"
expect "the listener's process" "process [0-9]+/holdstate  1 \\(LISTEN 1\\)   oldest "

keys a
expect "grouped by peer" "grouped by peer"
expect "the loopback peer" "peer 127\\.0\\.0\\.1  2 \\(FIN_WAIT_2 1, CLOSE_WAIT 1\\)   oldest "
expect "the listener's peer" "peer 0\\.0\\.0\\.0  1 \\(LISTEN 1\\)   oldest "
# Largest first: 127.0.0.1 above 0.0.0.0.
order=$(screen | grep -oE 'peer (127\.0\.0\.1|0\.0\.0\.0) ' | tr -d '\n')
[ "$order" = "peer 127.0.0.1 peer 0.0.0.0 " ] || { screen; fail "groups out of order: $order"; }
# Under a header, its sockets: the FIN_WAIT_2 client's peer is 127.0.0.1:5702.
expect "a row under its group" "127\\.0\\.0\\.1:5702"

# K on a peer's header: the prompt counts that group's sockets, of two
# states, and y destroys them and nothing else (checked with ss).
keys Home
keys K
expect "a key group's destroy prompt" "Destroy all 2 sockets of peer 127\\.0\\.0\\.1\\? y/N"
keys y
wait_until 10 eval '[ "$(ss -tanH | wc -l)" = 1 ]' || fail "left after the destroy: $(ss -tanH)"
ss -tanH | grep -q '^LISTEN .*:5703 ' || fail "the listener went too: $(ss -tanH)"
hold fin-wait-2 5702

keys a
expect "grouped by peer-port" "peer-port 127\\.0\\.0\\.1:5702  1 \\(FIN_WAIT_2 1\\)"
keys a
expect "grouped by local port" "local-port 5702  1 \\(CLOSE_WAIT 1\\)"
expect "the listener's port" "local-port 5703  1 \\(LISTEN 1\\)"
keys a
expect "grouped by namespace" "grouped by netns"
expect "one namespace group" "netns -  3 \\(LISTEN 1, FIN_WAIT_2 1, CLOSE_WAIT 1\\)"
keys a
expect "back to states" "grouped by state"
expect "state groups again" "FIN_WAIT_2  1"

keys q
expect "quits" "EXITED=0"
view_stop

# More sockets than the screen has rows: the groups fold, and F5 opens the
# selected one alone. 12 connections to 127.0.0.2 and 3 to 127.0.0.3.
need_cmd python3
python3 - >"$TMP/pop.out" 2>&1 <<'PY' &
import socket, time
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", 7000))
l.listen(64)
held = []
for to, n in (("127.0.0.2", 12), ("127.0.0.3", 3)):
    for _ in range(n):
        held.append(socket.create_connection((to, 7000)))
        held.append(l.accept()[0])
print("ready", flush=True)
time.sleep(300)
PY
at_exit "kill $! 2>/dev/null"
wait_until 15 grep -qx ready "$TMP/pop.out" || fail "population not built: $(cat "$TMP/pop.out")"
view_start 120 24 -d 0.2 --group-by peer
expect "folded groups" "peer 127\\.0\\.0\\.2  12 \\(ESTABLISHED 12\\)   oldest .*\\(F5 opens\\)"
expect "the server sides, and the held pair" "peer 127\\.0\\.0\\.1  17 \\(ESTABLISHED 15, FIN_WAIT_2 1, CLOSE_WAIT 1\\)"
lacks "127\\.0\\.0\\.1:[0-9]+ +127\\.0\\.0\\.3:7000" || { screen; fail "a folded group shows rows"; }
# Largest first: 127.0.0.1 (17) is the first header; the second is 127.0.0.2.
keys Home Down F5
expect "the opened group's rows" "127\\.0\\.0\\.1:[0-9]+ +127\\.0\\.0\\.2:7000"
lacks "127\\.0\\.0\\.1:[0-9]+ +127\\.0\\.0\\.3:7000" || { screen; fail "another group opened too"; }
keys q
expect "quits" "EXITED=0"
pass "a cycles the grouping; headers count per state and give the oldest; K takes a key group"
