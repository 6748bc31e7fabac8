#!/bin/bash
# Proves: a socket found already in CLOSE_WAIT or FIN_WAIT_2 when tcpdwell
# starts shows, from the first screen on, a dwell of at least the time it
# has really been there, read from the kernel's clock of the last ACK
# received (tcp_info) and marked as a lower bound (>=); with the fast lane
# off too. Without that clock it would show the time since tcpdwell began.
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
# at_least_2s D: D is marked as a lower bound and is 2 s or more.
at_least_2s() {
    local d=$1
    [[ $d == ">="* ]] || return 1
    d=${d#>=}
    case $d in
    *m[0-9][0-9]s | *h[0-9][0-9]m | *d[0-9][0-9]h) return 0 ;;
    *ms | *us) return 1 ;;
    *s) awk -v v="${d%s}" 'BEGIN { exit !(v >= 2) }' ;;
    *) return 1 ;;
    esac
}

for args in "" "--fast 0"; do
    # The first table: it waits for the dump that brings tcp_info.
    LC_ALL=C timeout 20 "$TCPDWELL" -b -c 1 -d 0.3 --source poll $args >"$TMP/out" 2>"$TMP/err" ||
        fail "tcpdwell -b $args failed: $(cat "$TMP/err")"
    # Keep the last table only.
    awk '/^tcpdwell /{ n++ } { t[n] = t[n] $0 "\n" } END { printf "%s", t[n] }' "$TMP/out" >"$TMP/last"
    mv "$TMP/last" "$TMP/out"
    d=$(dwell CLOSE_WAIT "$cw_peer")
    at_least_2s "$d" || fail "CLOSE_WAIT held 3 s shows dwell '$d' ($args): $(cat "$TMP/out")"
    d=$(dwell FIN_WAIT_2 "$fw_peer")
    at_least_2s "$d" || fail "FIN_WAIT_2 held 3 s shows dwell '$d' ($args): $(cat "$TMP/out")"
done
pass "sockets held before the start show their age from the kernel's clock, as a lower bound"
