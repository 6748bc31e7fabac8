#!/bin/bash
# Proves: the bundled scenario lost-last-ack meets its expectations: with the
# client's last ACK lost the server holds LAST_ACK (retransmitting its FIN),
# and after heal it goes while the client is still in TIME_WAIT: the
# TIME_WAIT socket answered the retransmitted FIN.
. "$TOP_SRCDIR/tests/scenario_net_common.sh"
run_scenario lost-last-ack
out_has lost-last-ack "nftables: dropping ack sent by client"
out_has lost-last-ack "LAST_ACK -> gone"
# The ladder: the server's FIN retransmitted, and the TIME_WAIT side's ACK
# again after it, the last one not lost.
segs=$(grep -E '^\[.*\]   (client|server) +> ' "$TMP/lost-last-ack.out" | sed 's/^\[[^]]*\] *//')
grep -q "^server *> client *FIN,ACK .* retransmission" <<<"$segs" ||
    fail "lost-last-ack: no retransmitted FIN captured"
tail -2 <<<"$segs" | head -1 | grep -q "^server *> client *FIN,ACK .* retransmission" ||
    fail "lost-last-ack: the last FIN before the end is no retransmission"
tail -1 <<<"$segs" | grep -q "^client *> server *ACK .*len 0$" ||
    fail "lost-last-ack: the TIME_WAIT side's last ACK is missing or lost"
[ "$(grep -c "^client *> server *ACK .*(lost" <<<"$segs")" -ge 1 ] ||
    fail "lost-last-ack: no ACK was shown lost"
if grep -q "client .*TIME_WAIT -> gone" "$TMP/lost-last-ack.out"; then
    fail "lost-last-ack: the client's TIME_WAIT went before the end"
fi
