#!/bin/bash
# Proves: the network verbs act only inside the scenario's own namespace.
# `drop ... once` loses the first FIN only (its retransmission passes without
# heal); blackhole and heal in one script; the host keeps no nftables table
# and its sysctls. Without root a script that changes the network is refused
# with file:line and a failure status, before any actor is forked.
. "$TOP_SRCDIR/tests/scenario_net_common.sh"
need_cmd setpriv

cat >"$TMP/once.tcps" <<'S'
scenario once
about One FIN lost, then the retransmission gets through on its own.
actor server client
sysctl tcp_fin_timeout 3
server listen
client connect
server accept
wait server ESTABLISHED
drop client fin once
client close
wait client FIN_WAIT_1
wait server CLOSE_WAIT 5
wait client FIN_WAIT_2
blackhole server
server close
expect server LAST_ACK for 0.3
heal
wait server gone 10
wait client TIME_WAIT
S
before=$(cat /proc/sys/net/ipv4/tcp_fin_timeout)
rc=0
timeout -k 5 60 "$TCPDWELL" --scenario "$TMP/once.tcps" -b >"$TMP/once.out" 2>&1 || rc=$?
cat "$TMP/once.out"
[ "$rc" = 0 ] || fail "once: status $rc"
grep -q "nftables: dropping fin sent by client (tcp sport { [0-9]* }), the first of each only" \
    "$TMP/once.out" || fail "once: the drop was not reported"
grep -q "nftables: every segment to or from server is dropped" "$TMP/once.out" ||
    fail "once: the blackhole was not reported"
grep -Eq "done: ([0-9]+) expectations, \1 met, 0 failed" "$TMP/once.out" ||
    fail "once: expectations not all met"
# The FIN_WAIT_1 ended with no heal between: the retransmitted FIN passed.
sed -n '/line 9: drop/,/line 14: blackhole/p' "$TMP/once.out" | grep -q "heal" &&
    fail "once: a heal came before FIN_WAIT_2"
[ "$(cat /proc/sys/net/ipv4/tcp_fin_timeout)" = "$before" ] || fail "the host's tcp_fin_timeout changed"
if nft list tables 2>/dev/null | grep -q tcpdwell; then fail "a tcpdwell table was left on the host"; fi
pass "drop once, blackhole and heal in the scenario's namespace only"

# Without root or a user namespace: refused before anything forks, naming the
# line that needs a namespace.
if setpriv --reuid=65534 --regid=65534 --clear-groups -- test -x "$TCPDWELL" &&
    setpriv --reuid=65534 --regid=65534 --clear-groups -- test -r "$TCPDWELL_SCENARIO_DIR/lost-fin.tcps"; then
    rc=0
    setpriv --reuid=65534 --regid=65534 --clear-groups -- env TCPDWELL_SCENARIO_USERNS=0 \
        timeout -k 5 30 "$TCPDWELL" --scenario lost-fin -b >"$TMP/nonroot.out" 2>&1 || rc=$?
    cat "$TMP/nonroot.out"
    [ "$rc" != 0 ] || fail "lost-fin without root: status 0, want a failure"
    grep -q "lost-fin.tcps:[0-9]*: this scenario drops segments, .*needs root or unprivileged user namespaces (here: not root, and TCPDWELL_SCENARIO_USERNS=0)" \
        "$TMP/nonroot.out" || fail "lost-fin without root: no file:line and reason"
    if grep -q "actor .*: pid" "$TMP/nonroot.out"; then fail "actors started without a namespace"; fi
    pass "without root: refused with file:line, status $rc, nothing forked"
else
    echo "nobody cannot run $TCPDWELL: the refusal without root is not checked"
fi
