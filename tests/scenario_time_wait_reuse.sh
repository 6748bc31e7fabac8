#!/bin/bash
# Proves: the bundled scenario time-wait-reuse meets its expectations: with one
# ephemeral port a TIME_WAIT makes connect() fail with EADDRNOTAVAIL, and with
# tcp_tw_reuse on the same port is taken over; the host's settings are left.
. "$TOP_SRCDIR/tests/scenario_net_common.sh"
before=$(cat /proc/sys/net/ipv4/ip_local_port_range /proc/sys/net/ipv4/tcp_tw_reuse)
run_scenario time-wait-reuse
out_has time-wait-reuse "-1 EADDRNOTAVAIL"
out_has time-wait-reuse "client: connect(127.0.0.1:"
grep -q "client   127.0.0.1:20000 .*TIME_WAIT -> gone" "$TMP/time-wait-reuse.out" ||
    fail "time-wait-reuse: the TIME_WAIT on port 20000 was not taken over"
[ "$(cat /proc/sys/net/ipv4/ip_local_port_range /proc/sys/net/ipv4/tcp_tw_reuse)" = "$before" ] ||
    fail "time-wait-reuse: the host's settings changed"
