#!/bin/bash
# Proves: the fast lane keeps to its share of a core (--fast-budget). With a
# budget no poll can fit (a millionth of a core: 50 ns in 50 ms) it
# stretches its interval and the summary line of the batch tables says so,
# "(slowed: budget)"; with a whole core, which a poll of a quiet namespace
# cannot fill, it never slows for its budget (it may slow for quiet:
# tests/integ_quiet.sh). How long a poll
# takes on this machine is the benchmark's to measure (make bench), not a
# test's: neither case depends on it.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
[ -x "$TCPDWELL" ] || fail "no tcpdwell binary at $TCPDWELL"

# last_summary ARGS...: the summary line of the second table of `tcpdwell -b -c 2 ARGS`.
last_summary() {
    timeout 30 "$TCPDWELL" -b -c 2 --source poll "$@" >"$TMP/out" 2>"$TMP/err" ||
        fail "tcpdwell -b -c 2 $* failed: $(cat "$TMP/err")"
    grep '^tcpdwell ' "$TMP/out" | tail -1
}

s=$(last_summary -d 1 --fast-budget 0.0001)
[[ $s == *"(slowed: budget)"* ]] ||
    fail "the fast lane did not slow down for a budget no poll fits: $s"

s=$(last_summary -d 1 --fast-budget 100)
[[ $s == *"fast "* ]] || fail "no fast lane in: $s"
[[ $s != *"slowed: budget"* ]] || fail "slowed for its budget with a whole core: $s"
pass "the fast lane stretched itself for a budget no poll fits and said so; not for a whole core"
