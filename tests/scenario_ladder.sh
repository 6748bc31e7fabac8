#!/bin/bash
# Proves: the scenario's segments are captured in its own namespace and
# printed in order: normal-close is SYN, SYN/ACK, ACK, FIN, ACK, FIN, ACK
# between client and server with sequence and acknowledgement numbers
# relative to each side's first, nothing else, no retransmission.
. "$TOP_SRCDIR/tests/scenario_net_common.sh"
run_scenario normal-close
got=$(grep -E '^\[.*\]   (client|server) +> ' "$TMP/normal-close.out" |
    sed 's/^\[[^]]*\] *//' | awk '{ print $1, $4, $6, $8, $10, $11 }')
want="client SYN 0 0 0 
server SYN,ACK 0 1 0 
client ACK 1 1 0 
client FIN,ACK 1 1 0 
server ACK 1 2 0 
server FIN,ACK 1 2 0 
client ACK 2 2 0 "
[ "$got" = "$want" ] || fail "normal-close ladder:
$got
want:
$want"
pass "normal-close's seven segments in order"
