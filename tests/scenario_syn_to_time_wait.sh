#!/bin/bash
# Proves: the bundled scenario syn-to-time-wait meets its expectations: a
# client connecting again from the port of a connection the server holds in
# TIME_WAIT is accepted, and that TIME_WAIT socket goes at once.
. "$TOP_SRCDIR/tests/scenario_net_common.sh"
run_scenario syn-to-time-wait
out="$TMP/syn-to-time-wait.out"
port=$(sed -n 's/.*client: connect(127.0.0.1:[0-9]*) = 0, local port \([0-9]*\)$/\1/p' "$out" | head -1)
[ -n "$port" ] || fail "syn-to-time-wait: no first connect"
out_has syn-to-time-wait "bind(127.0.0.1:$port, SO_REUSEADDR) = 0, connect("
grep -q "server .*:$port *TIME_WAIT -> gone" "$out" || fail "syn-to-time-wait: TIME_WAIT did not give way"
