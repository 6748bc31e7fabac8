#!/bin/bash
# Proves: contrib/prometheus/tcpdwell-rules.yml is valid for promtool, its
# unit tests pass (each alert fires on what it is for and not on what looks
# close), and every metric it names is one tcpdwell(1) documents. Skips
# where promtool is missing (Debian: apt-get install prometheus).
. "$TOP_SRCDIR/tests/lib.sh"
. "$TOP_SRCDIR/tests/documented_metrics.sh"
need_cmd promtool
dir="$TOP_SRCDIR/contrib/prometheus"

[ "$(documented_metrics | wc -l)" -ge 10 ] ||
    fail "tcpdwell(1) METRICS documents few families: $(documented_metrics | xargs)"
promtool check rules "$dir/tcpdwell-rules.yml" >"$TMP/check.out" 2>&1 ||
    fail "promtool check rules: $(cat "$TMP/check.out")"
# promtool reads the rule file beside the test file: run it on copies, so
# that a read-only source tree works too.
cp "$dir/tcpdwell-rules.yml" "$dir/tcpdwell-rules.test.yml" "$TMP/"
(cd "$TMP" && promtool test rules tcpdwell-rules.test.yml) >"$TMP/test.out" 2>&1 ||
    fail "promtool test rules: $(cat "$TMP/test.out")"
grep -q SUCCESS "$TMP/test.out" || fail "promtool test rules said: $(cat "$TMP/test.out")"
# Every alert of the rules is exercised by a test.
for a in $(sed -n 's/^ *- alert: *//p' "$dir/tcpdwell-rules.yml"); do
    grep -q "alertname: $a\$" "$dir/tcpdwell-rules.test.yml" || fail "no test of $a"
done
bad=$(undocumented_metrics "$dir/tcpdwell-rules.yml")
[ -z "$bad" ] || fail "the rules name metrics tcpdwell does not document: $bad"
pass "Prometheus rules: checked, unit-tested, only documented metrics"
