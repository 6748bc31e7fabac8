#!/bin/bash
# bench_smoke: the benchmark of issue 6 runs end to end on a tiny population
# (200 sockets, 2 rounds) and prints its whole table: every measured row and
# every ratio with a number in it, the population it built really in the
# dump, the tracker holding it. No timing is asserted: it is a benchmark.
. "$TOP_SRCDIR/tests/lib.sh"
need_root
need_cmd ss
BENCH="$TOP_BUILDDIR/contrib/bench/tcpdwell-bench"
[ -x "$BENCH" ] || skip "no $BENCH (make contrib/bench/tcpdwell-bench)"

# The benchmark makes its own namespace; this run needs no other.
"$BENCH" -r 2 200 >"$TMP/out" 2>"$TMP/err" || { cat "$TMP/err" "$TMP/out"; fail "exit $?"; }
cat "$TMP/out"
# A TIME_WAIT generation the builder had to make again says so (and why, if the kernel knows).
grep -F "vanished" "$TMP/err" || true

num='[0-9]+(\.[0-9]+)?'
# Each measured row has a number for the one size.
for label in '(a)  bare dump' '(b)  full poll' '(c)  ss -tan ' '(d)  ss -tanp' \
	'(e)  fast-lane poll' '(f)  first screen with the table' '(fq) then q answered' \
	'(f2) tcpdwell -b -c 1' '(f1) of which owners' \
	'(g)  memory per tracked socket' 'of which the tracker' '(b) per socket'; do
	line=$(grep -F -- "$label" "$TMP/out") || fail "no row '$label'"
	[[ $line =~ [[:space:]]$num$ ]] || fail "row '$label' has no figure: $line"
done
# Each ratio has a number, and a verdict where the issue sets a goal.
for r in b/a b/c e/b f/b f1/d 'g     bytes'; do
	line=$(grep -E -- "^$r" "$TMP/out") || fail "no ratio '$r'"
	[[ $line =~ [[:space:]]$num\ (met|NOT\ MET)$ ]] || fail "ratio '$r' has no verdict: $line"
done
line=$(grep -E '^f/d' "$TMP/out") || fail "no ratio f/d"
[[ $line =~ [[:space:]]$num$ ]] || fail "f/d has no figure: $line"

# The population was built: 125 ESTABLISHED (124 pairs' ends plus holders' extras) and
# 75 TIME_WAIT asked for; every rare state present.
pop=$(grep '^population:' "$TMP/out") || fail "no population line"
for st in ESTABLISHED TIME_WAIT LISTEN SYN_SENT SYN_RECV FIN_WAIT_1 FIN_WAIT_2 CLOSE_WAIT \
	LAST_ACK CLOSING; do
	[[ $pop =~ " $st "([0-9]+) ]] || fail "no $st in: $pop"
	[ "${BASH_REMATCH[1]}" -gt 0 ] || fail "no $st socket: $pop"
done
[[ $pop =~ " TIME_WAIT "([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -ge 75 ] ||
	fail "TIME_WAIT short of 75: $pop"
[[ $pop =~ " ESTABLISHED "([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -ge 124 ] ||
	fail "ESTABLISHED short of 124: $pop"
# The dump saw the population (200 plus listeners and rare states).
line=$(grep -F 'sockets in the dump' "$TMP/out")
[[ $line =~ ([0-9,]+)$ ]] && [ "${BASH_REMATCH[1]//,/}" -ge 200 ] ||
	fail "dump smaller than the population: $line"
pass "benchmark table complete"
