#!/bin/bash
# Proves: the bundled scenario vanished-peer meets its expectations: with the
# server blackholed, the client's orphaned FIN_WAIT_1 goes after
# tcp_orphan_retries (set in the scenario's namespace only) while the server
# stays ESTABLISHED; the host's own setting is left as it was.
. "$TOP_SRCDIR/tests/scenario_net_common.sh"
before=$(cat /proc/sys/net/ipv4/tcp_orphan_retries)
run_scenario vanished-peer
out_has vanished-peer "net.ipv4.tcp_orphan_retries = 2 in the scenario's namespace"
out_has vanished-peer "FIN_WAIT_1 -> gone"
[ "$(cat /proc/sys/net/ipv4/tcp_orphan_retries)" = "$before" ] ||
    fail "vanished-peer: the host's tcp_orphan_retries changed"
