#!/bin/bash
# Proves: `tcpdwell -b | head -1` ends quietly with status 0 (SIGPIPE/EPIPE);
# a bad filter is refused with exit 2 and the message naming the word and
# its column; filters select the same sockets ss selects with the same
# expression.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/integ_lib.sh"

# The reader goes away after one line.
timeout 20 "$TCPDWELL" -b -d 0.1 2>"$TMP/pipe.err" | head -1 >"$TMP/pipe.out"
st=${PIPESTATUS[0]}
[ "$st" = 0 ] || fail "tcpdwell -b | head -1 exited $st: $(cat "$TMP/pipe.err")"
# Notes about the fast lane's pacing may come; nothing about the pipe may.
if grep -v 'fast lane' "$TMP/pipe.err"; then
    fail "tcpdwell -b | head -1 said: $(cat "$TMP/pipe.err")"
fi
grep -q '^tcpdwell ' "$TMP/pipe.out" || fail "first line: $(cat "$TMP/pipe.out")"

# bad FILTER... -> status, exact stderr, empty stdout
bad() {
    local want=$1 st
    shift
    "$TCPDWELL" -b -c 1 "$@" >"$TMP/bad.out" 2>"$TMP/bad.err"
    st=$?
    [ "$st" = 2 ] || fail "filter '$*': exit $st, want 2"
    [ "$(cat "$TMP/bad.err")" = "$want" ] || fail "filter '$*': $(cat "$TMP/bad.err")"
    [ ! -s "$TMP/bad.out" ] || fail "filter '$*' printed: $(cat "$TMP/bad.out")"
}
bad "tcpdwell: filter: unexpected 'frob' at column 13: expected state, sport, dport, src, dst, netns, not or '('" \
    sport = :80 frob
bad "tcpdwell: filter: unknown state 'frob' at column 7: expected a state such as established, fin-wait-1, time-wait, or all, connected, synchronized, bucket, big" \
    'state frob'
bad "tcpdwell: filter: unexpected end of expression at column 27: expected ')' to close '(' at column 1" \
    '(sport = :80 or dport = :1'
bad "tcpdwell: filter: bad address '10.0.0.0/33' at column 5: bad prefix: expected /0 to /32 for IPv4" \
    dst 10.0.0.0/33

# Filters against ss with the same expression, on held sockets.
hold a established 8301 120
hold b fin-wait-1 8302 120
hold c -6 close-wait 8303 120
hold d listen 8304 120
hold e time-wait 8305 120
for expr in "sport = :8301" "dport = :8302" "( sport = :8301 or dport = :8302 )" \
    "not sport = :8301" "dport != :8302" "sport > :8302" "sport <= :8302" \
    "src 127.0.0.1" "dst [::1]" "src 127.0.0.0/8" "dst 127.0.0.1:8305" \
    "not ( src [::1] or dport = :8301 )"; do
    # shellcheck disable=SC2086
    want=$(ss_rows $expr)
    # shellcheck disable=SC2086
    got=$(batch_rows $expr)
    [ -n "$want" ] || fail "ss selected nothing with '$expr'"
    [ "$got" = "$want" ] || fail "'$expr': tcpdwell <, ss >: $(diff <(echo "$got") <(echo "$want"))"
done
for st in fin-wait-1 close-wait time-wait listening connected synchronized bucket big; do
    want=$(ss_rows state "$st")
    got=$(batch_rows state "$st")
    [ "$got" = "$want" ] || fail "'state $st': tcpdwell <, ss >: $(diff <(echo "$got") <(echo "$want"))"
done
pass "pipe, bad filters and ss-equivalent filters"
