# scenario_common.sh - sourced by the per-scenario tests: run one bundled
# scenario in batch mode and require every expectation it states to be met.
#
# tcpdwell gives the scenario its own network namespace: as root, or without
# root in a user namespace; where it can make neither, the scenario runs on
# the host's loopback with free ports. The actors need no privilege either
# way (loopback, unprivileged ports), so these tests run, and do not skip,
# without root: the namespace only buys isolation from the host's traffic.
. "$TOP_SRCDIR/tests/lib.sh"

run_scenario() {
    local name=$1 out="$TMP/$1.out" rc=0 n
    [ -x "$TCPDWELL" ] || fail "no binary at $TCPDWELL"
    timeout -k 5 120 "$TCPDWELL" --scenario "$name" -b >"$out" 2>&1 || rc=$?
    cat "$out"
    [ "$rc" = 0 ] || fail "$name: exit status $rc"
    if grep -q '^\[.*\] FAIL ' "$out"; then fail "$name: an expectation failed"; fi
    grep -Eq "done: ([0-9]+) expectations, \1 met, 0 failed" "$out" ||
        fail "$name: no summary line with every expectation met"
    n=$(grep -c '\] PASS line' "$out")
    [ "$n" -ge 3 ] || fail "$name: only $n verdicts"
    pass "$name: $n expectations met"
}
