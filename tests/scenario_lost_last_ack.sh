#!/bin/bash
# Proves: the bundled scenario lost-last-ack meets its expectations: with the
# client's last ACK lost the server holds LAST_ACK (retransmitting its FIN),
# and after heal it goes while the client is still in TIME_WAIT: the
# TIME_WAIT socket answered the retransmitted FIN.
. "$TOP_SRCDIR/tests/scenario_net_common.sh"
run_scenario lost-last-ack
out_has lost-last-ack "nftables: dropping ack sent by client"
out_has lost-last-ack "LAST_ACK -> gone"
if grep -q "client .*TIME_WAIT -> gone" "$TMP/lost-last-ack.out"; then
    fail "lost-last-ack: the client's TIME_WAIT went before the end"
fi
