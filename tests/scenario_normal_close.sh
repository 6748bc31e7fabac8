#!/bin/bash
# Proves: the bundled scenario normal-close meets every expectation it states, run in
# batch mode against what tcpdwell's tracker really observed.
. "$TOP_SRCDIR/tests/scenario_common.sh"
run_scenario normal-close
