#!/bin/bash
# Proves: `tcpdwell --leaks` reports, per process, the CLOSE_WAIT and
# FIN_WAIT_2 sockets older than --leak, with ages and peers, in text and
# JSON, and exits 0 when there are none, 1 when there are some; on a
# recording, at its end, with the recorded owners.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/integ_lib.sh"

leaks() { timeout 20 "$TCPDWELL" --leaks "$@" >"$TMP/leaks.out" 2>"$TMP/leaks.err"; }

# Nothing held: exit 0, and it says so.
leaks --leak 0.2
rc=$?
[ "$rc" = 0 ] || fail "--leaks with no leak exited $rc: $(cat "$TMP/leaks.out" "$TMP/leaks.err")"
grep -q '^tcpdwell leaks .*: no socket in CLOSE_WAIT or FIN_WAIT_2' "$TMP/leaks.out" ||
    fail "no 'no socket' line: $(cat "$TMP/leaks.out")"

# A CLOSE_WAIT (and its peer's FIN_WAIT_2) held past a short --leak: exit 1.
hold cw close-wait 8201 60
# Both began with the same segments, but the kernel's clock counts ticks:
# one may pass --leak a tick before the other. Wait for both.
leaked() {
    leaks --leak 0.5
    [ $? = 1 ] && grep -q "^$cw_pid/holdstate: 1 CLOSE_WAIT, 1 FIN_WAIT_2, oldest " "$TMP/leaks.out"
}
wait_until 15 leaked ||
    fail "--leaks never reported the held CLOSE_WAIT and its FIN_WAIT_2 on the owner's line: $(cat "$TMP/leaks.out" "$TMP/leaks.err")"
grep -q "^  CLOSE_WAIT .* $cw_local -> $cw_peer\$" "$TMP/leaks.out" ||
    fail "no CLOSE_WAIT line with its peer: $(cat "$TMP/leaks.out")"
grep -q "^  FIN_WAIT_2 .* $cw_peer -> $cw_local\$" "$TMP/leaks.out" ||
    fail "no FIN_WAIT_2 line with its peer: $(cat "$TMP/leaks.out")"

leaks --leak 0.5 --format json
rc=$?
[ "$rc" = 1 ] || fail "--leaks --format json exited $rc"
jq -e --argjson p "$cw_pid" --arg l "$cw_local" --arg r "$cw_peer" '
    .count == 2 and .leak == 0.5 and (.owners | length) == 1 and .owners[0].pid == $p
    and .owners[0].comm == "holdstate"
    and any(.owners[0].sockets[]; .state == "CLOSE_WAIT" and .local == $l and .peer == $r
                                  and .age >= 0.5)
    and any(.owners[0].sockets[]; .state == "FIN_WAIT_2" and .local == $r and .peer == $l)' \
    "$TMP/leaks.out" >/dev/null || fail "JSON report wrong: $(cat "$TMP/leaks.out")"

# A recording: the report is on its end, with the recorded owner. Eight
# polls 0.2 s apart span 1.4 s at least; a replay dates the held sockets
# from its start, so they pass --leak 1 by its end and not by 0.5 s.
timeout 30 "$TCPDWELL" -b -c 8 -d 0.2 -w "$TMP/rec.tcpd" >/dev/null 2>"$TMP/rec.err" ||
    fail "recording failed: $(cat "$TMP/rec.err")"
leaks -r "$TMP/rec.tcpd" --leak 1
rc=$?
[ "$rc" = 1 ] || fail "--leaks on a recording exited $rc: $(cat "$TMP/leaks.out" "$TMP/leaks.err")"
grep -q "^$cw_pid/holdstate: 1 CLOSE_WAIT, 1 FIN_WAIT_2, oldest " "$TMP/leaks.out" ||
    fail "the replayed report lacks the recorded owner: $(cat "$TMP/leaks.out")"
leaks -r "$TMP/rec.tcpd" --leak 1 --end 0.5
rc=$?
[ "$rc" = 0 ] || fail "--leaks on a recording's first 0.5 s exited $rc: $(cat "$TMP/leaks.out")"

# A threshold they have not reached: none, exit 0.
leaks --leak 1h
rc=$?
[ "$rc" = 0 ] || fail "--leaks --leak 1h exited $rc: $(cat "$TMP/leaks.out")"
pass "--leaks reports held leaks by process in text and JSON, 0 with none and 1 with some"
