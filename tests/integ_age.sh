#!/bin/bash
# Proves: a socket found already in CLOSE_WAIT or FIN_WAIT_2 when tcpdwell
# starts shows, from the first screen on, a dwell of at least the time it
# has really been there, read from the kernel's clock of the last ACK
# received (tcp_info) and marked as a lower bound (>=); with the fast lane
# off too, within 0.2 s of the truth on the first table. Without that clock
# it would show the time since tcpdwell began.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/integ_lib.sh"

hold cw close-wait 9821
hold fw fin-wait-2 9822
held_at=$(date +%s.%N)
# Both held for three seconds at least before tcpdwell starts.
older_than_3s() { awk -v a="$held_at" -v n="$(date +%s.%N)" 'BEGIN { exit !(n - a >= 3) }'; }
wait_until 10 older_than_3s || fail "the clock did not move"

# dwell STATE PEER: the DWELL column of that socket's row in $TMP/out.
dwell() { awk -v s="$1" -v p="$2" '$1 == s && $4 == p { print $2 }' "$TMP/out"; }
# close_to D AGE: D is marked as a lower bound, in seconds (at most 59s),
# and no more than 0.2 s below AGE. AGE is measured by this script from just
# after the state was reached to just before tcpdwell started, so it is
# itself below the truth: the check cannot pass on a bound that is not one.
close_to() {
    local d=$1 age=$2
    [[ $d == ">="* ]] || return 1
    d=${d#>=}
    [[ $d == *s && $d != *ms && $d != *us && $d != *m*s ]] || return 1
    awk -v v="${d%s}" -v a="$age" 'BEGIN { exit !(v >= a - 0.2) }'
}

for args in "" "--fast 0"; do
    # The first table: it waits for the dump that brings tcp_info.
    age=$(awk -v a="$held_at" -v n="$(date +%s.%N)" 'BEGIN { printf "%.3f", n - a }')
    LC_ALL=C timeout 20 "$TCPDWELL" -b -c 1 -d 0.3 --source poll $args >"$TMP/out" 2>"$TMP/err" ||
        fail "tcpdwell -b $args failed: $(cat "$TMP/err")"
    # Keep the last table only.
    awk '/^tcpdwell /{ n++ } { t[n] = t[n] $0 "\n" } END { printf "%s", t[n] }' "$TMP/out" >"$TMP/last"
    mv "$TMP/last" "$TMP/out"
    d=$(dwell CLOSE_WAIT "$cw_peer")
    close_to "$d" "$age" || fail "CLOSE_WAIT held ${age}s shows dwell '$d' ($args): $(cat "$TMP/out")"
    d=$(dwell FIN_WAIT_2 "$fw_peer")
    close_to "$d" "$age" || fail "FIN_WAIT_2 held ${age}s shows dwell '$d' ($args): $(cat "$TMP/out")"
done
pass "sockets held before the start show their age from the kernel's clock, as a lower bound"
