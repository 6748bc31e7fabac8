#!/bin/bash
# Proves on the real binary in tmux: a cycles the grouping from state through
# process, peer, peer-port, local-port and netns back to state; grouped by
# peer, each header gives its key, its count per state and its oldest, and K
# on a peer's header destroys that peer's sockets and nothing else.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/view_lib.sh"

# A connection held in FIN_WAIT_2 (its client has peer 127.0.0.1:5702, its
# server side in CLOSE_WAIT a 127.0.0.1 port) and a listener (peer 0.0.0.0)
# held by another process.
hold fin-wait-2 5702
hold listen 5703
view_start 120 30 -d 0.2
expect "table by state" "FIN_WAIT_2  1"

keys a
expect "grouped by process" "grouped by process"
expect "a process group" "process [0-9]+/holdstate  2 \\(FIN_WAIT_2 1, CLOSE_WAIT 1\\)   oldest "
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
pass "a cycles the grouping; headers count per state and give the oldest; K takes a key group"
