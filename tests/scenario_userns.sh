#!/bin/bash
# Proves: without root, a scenario runs in a user namespace of its own with a
# network namespace (where unprivileged user namespaces are on): faults,
# sysctls and the capture work, the actors keep no capability, and the
# host's settings are left. Run as root, the test drops to nobody first.
. "$TOP_SRCDIR/tests/lib.sh"
[ -x "$TCPDWELL" ] || fail "no binary at $TCPDWELL"
[ -x /usr/sbin/nft ] || [ -x /sbin/nft ] || [ -x /usr/local/sbin/nft ] || [ -x /usr/bin/nft ] ||
    skip "needs nft (Debian's package nftables)"

as_user() { "$@"; }
if [ "$(id -u)" = 0 ]; then
    need_cmd setpriv
    as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
    as_user test -x "$TCPDWELL" || skip "nobody cannot run $TCPDWELL"
    as_user test -r "$TCPDWELL_SCENARIO_DIR/lost-last-ack.tcps" || skip "nobody cannot read scenarios"
fi
as_user unshare -Urn true 2>/dev/null || skip "unprivileged user namespaces are off here"

before=$(cat /proc/sys/net/ipv4/ip_local_port_range /proc/sys/net/ipv4/tcp_tw_reuse)
for name in lost-last-ack time-wait-reuse; do
    rc=0
    as_user timeout -k 5 60 "$TCPDWELL" --scenario "$name" -b >"$TMP/$name.out" 2>&1 || rc=$?
    cat "$TMP/$name.out"
    [ "$rc" = 0 ] || fail "$name without root: status $rc"
    grep -q "running in its own user and network namespace" "$TMP/$name.out" ||
        fail "$name: not in a user namespace of its own"
    grep -q "actor client: pid [0-9]*, without capabilities" "$TMP/$name.out" ||
        fail "$name: the actors kept their capabilities"
    grep -Eq "done: ([0-9]+) expectations, \1 met, 0 failed" "$TMP/$name.out" ||
        fail "$name: expectations not all met"
    pass "$name without root, in a user namespace"
done
grep -q "server *> client *FIN,ACK .* retransmission" "$TMP/lost-last-ack.out" ||
    fail "no segments captured without root"
[ "$(cat /proc/sys/net/ipv4/ip_local_port_range /proc/sys/net/ipv4/tcp_tw_reuse)" = "$before" ] ||
    fail "the host's settings changed"
