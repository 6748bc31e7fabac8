#!/bin/bash
# Proves: the text event stream follows the locale as the view and -b do.
# A listener older than tcpdwell that closes is reported "after >=..." under
# LC_ALL=C, every byte ASCII; under a UTF-8 locale the same line says "≥"
# (so the check can tell the two apart).
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
[ -x "$HOLDSTATE" ] || skip "the holdstate helper is not built"

# run LOCALE PORT: events of a listener that closes, into $TMP/ev-LOCALE.
run() {
    local loc=$1 port=$2 out="$TMP/ev-$1" hold
    "$HOLDSTATE" listen "$port" 300 >"$TMP/hold-$port" 2>&1 &
    hold=$!
    wait_until 10 grep -q '^ready' "$TMP/hold-$port" || fail "holdstate not ready"
    LC_ALL=$loc "$TCPDWELL" -e -d 0.1 >"$out" 2>"$out.err" &
    local ev=$! sp seen=
    # A listener opened after tcpdwell started is reported once it polls: then
    # the older one is known to it (present at the first poll: no event of its own).
    for sp in $(seq $((port + 10)) $((port + 19))); do
        "$HOLDSTATE" listen "$sp" 300 >"$TMP/hold-$sp" 2>&1 &
        wait_until 1 grep -q "127.0.0.1:$sp .*-> LISTEN" "$out" && { seen=1; break; }
    done
    [ -n "$seen" ] || { cat "$out" "$out.err"; fail "$loc: tcpdwell -e never reported a new listener"; }
    kill "$hold"
    wait_until 10 grep -q "127.0.0.1:$port .*LISTEN -> CLOSED after" "$out" ||
        { cat "$out" "$out.err"; fail "$loc: the listener's end not reported"; }
    kill "$ev"
    wait "$ev" 2>/dev/null
}

run C 5801
line=$(grep "LISTEN -> CLOSED" "$TMP/ev-C")
[[ $line == *"after >="* ]] || fail "LC_ALL=C: no '>=' in: $line"
if LC_ALL=C grep -q $'[\x80-\xff]' "$TMP/ev-C"; then
    LC_ALL=C grep -n $'[\x80-\xff]' "$TMP/ev-C" | cat -v
    fail "LC_ALL=C: -e printed bytes that are not ASCII"
fi

run C.UTF-8 5802
grep "LISTEN -> CLOSED" "$TMP/ev-C.UTF-8" | grep -q "after ≥" ||
    { cat "$TMP/ev-C.UTF-8"; fail "C.UTF-8: no '≥' in the listener's end"; }
pass "-e text is ASCII under LC_ALL=C, UTF-8 under a UTF-8 locale"
