#!/bin/bash
# Proves: the bundled scenario peer-gone-while-sending meets its expectations:
# with the server blackholed, the client's data is retransmitted (captured,
# marked lost) until tcp_retries2 (3, in the scenario's namespace only) drops
# the connection, and the next recv fails with ETIMEDOUT.
. "$TOP_SRCDIR/tests/scenario_net_common.sh"
before=$(cat /proc/sys/net/ipv4/tcp_retries2)
run_scenario peer-gone-while-sending
out_has peer-gone-while-sending "net.ipv4.tcp_retries2 = 3 in the scenario's namespace"
n=$(grep -c "client   > server   PSH,ACK .*len 100 retransmission (lost" "$TMP/peer-gone-while-sending.out")
[ "$n" -ge 2 ] || fail "peer-gone-while-sending: only $n retransmissions captured"
out_has peer-gone-while-sending "ESTABLISHED -> gone"
[ "$(cat /proc/sys/net/ipv4/tcp_retries2)" = "$before" ] ||
    fail "peer-gone-while-sending: the host's tcp_retries2 changed"
