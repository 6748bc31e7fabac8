#!/bin/bash
# Proves: the bundled scenario fin-wait-2-timeout meets its expectations: with
# tcp_fin_timeout 2 in the scenario's namespace the orphaned FIN_WAIT_2 goes
# while the server holds CLOSE_WAIT, and the server's late FIN gets no
# TIME_WAIT anywhere; the host's tcp_fin_timeout is left as it was.
. "$TOP_SRCDIR/tests/scenario_net_common.sh"
before=$(cat /proc/sys/net/ipv4/tcp_fin_timeout)
run_scenario fin-wait-2-timeout
out_has fin-wait-2-timeout "net.ipv4.tcp_fin_timeout = 2 in the scenario's namespace"
out_has fin-wait-2-timeout "FIN_WAIT_2 -> gone"
[ "$(cat /proc/sys/net/ipv4/tcp_fin_timeout)" = "$before" ] ||
    fail "fin-wait-2-timeout: the host's tcp_fin_timeout changed"
