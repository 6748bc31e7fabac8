#!/bin/bash
# Proves: the bundled scenario lost-fin meets its expectations: with the
# client's FINs dropped in the scenario's namespace FIN_WAIT_1 lasts and the
# server stays ESTABLISHED; after heal a retransmitted FIN gets through.
. "$TOP_SRCDIR/tests/scenario_net_common.sh"
run_scenario lost-fin
out_has lost-fin "nftables: dropping fin sent by client"
out_has lost-fin "FIN_WAIT_1 -> FIN_WAIT_2"
