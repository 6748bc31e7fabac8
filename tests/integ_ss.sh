#!/bin/bash
# Proves: in a quiet namespace holding sockets in eleven states over IPv4 and
# IPv6, one `tcpdwell -b -c 1` table lists exactly the sockets, in exactly
# the states, that `ss -tan` lists beside it.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/integ_lib.sh"

port=8100
for recipe in listen established syn-sent syn-recv fin-wait-1 fin-wait-2 last-ack closing \
    time-wait; do
    port=$((port + 1))
    hold "h$port" "$recipe" "$port" 120
done
hold v6a -6 established 8201 120
hold v6b -6 close-wait 8202 120

before=$(ss_rows)
got=$(batch_rows)
after=$(ss_rows)
[ "$before" = "$after" ] || fail "the namespace was not quiet: $(diff <(echo "$before") <(echo "$after"))"
[ "$got" = "$before" ] ||
    fail "tcpdwell and ss disagree (< tcpdwell, > ss): $(diff <(echo "$got") <(echo "$before"))"

states=$(awk '{ print $1 }' <<<"$got" | sort -u | tr '\n' ' ')
[ "$states" = "CLOSE_WAIT CLOSING ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 LAST_ACK LISTEN SYN_RECV SYN_SENT TIME_WAIT " ] ||
    fail "states held: $states"
grep -q '^ESTABLISHED \[::1\]:' <<<"$got" || fail "no IPv6 row: $got"
pass "$(wc -l <<<"$got") sockets agree with ss: $states"
