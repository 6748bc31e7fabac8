#!/bin/bash
# Proves: the fast lane keeps to its share of a core (--fast-budget). With a
# budget its 50 ms polls would exceed, it stretches its interval and the
# summary line of the batch tables says so: "fast N (slowed: budget)" with N
# over 55 ms, or "fast idle (slowed: budget)" once it is stretched past the
# full poll. With the default budget in a quiet namespace it does not say it
# slowed for its budget (it may slow for quiet: tests/integ_quiet.sh).
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
[ -x "$TCPDWELL" ] || fail "no tcpdwell binary at $TCPDWELL"

# last_summary ARGS...: the summary line of the second table of `tcpdwell -b -c 2 ARGS`.
last_summary() {
    timeout 30 "$TCPDWELL" -b -c 2 --source poll "$@" >"$TMP/out" 2>"$TMP/err" ||
        fail "tcpdwell -b -c 2 $* failed: $(cat "$TMP/err")"
    grep '^tcpdwell ' "$TMP/out" | tail -1
}

# 0.05% of a core: a fast poll (the kernel walks its whole socket table, some
# hundreds of microseconds) fits that only every second or so.
s=$(last_summary -d 3 --fast-budget 0.05)
case $s in
*"fast idle (slowed: budget)"*) ;;
*"(slowed: budget)"*)
    [[ $s =~ fast\ ([0-9.]+)(us|ms|s)\ \(slowed ]] || fail "no interval in: $s"
    ms=$(awk -v n="${BASH_REMATCH[1]}" -v u="${BASH_REMATCH[2]}" \
        'BEGIN { print (u == "s" ? n * 1000 : u == "us" ? n / 1000 : n) }')
    awk -v m="$ms" 'BEGIN { exit !(m > 55) }' || fail "stretched only to $ms ms: $s"
    ;;
*) fail "the fast lane did not slow down for a budget of 0.05%: $s" ;;
esac

s=$(last_summary -d 1)
XX
pass "the fast lane stretched itself for a small budget and said so; not for the default"
