#!/bin/bash
# Proves: without root and without a user namespace (TCPDWELL_SCENARIO_USERNS=0,
# as where unprivileged user namespaces are off) a scenario runs on the host's loopback, on free ports
# the kernel picked (no namespace), only its own sockets counted, and still
# meets its expectations. Run as root, the test drops to nobody to get there;
# run without root it is that case already.
. "$TOP_SRCDIR/tests/lib.sh"
[ -x "$TCPDWELL" ] || fail "no binary at $TCPDWELL"

as_user() { "$@"; }
if [ "$(id -u)" = 0 ]; then
    need_cmd setpriv
    as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
    as_user test -x "$TCPDWELL" || skip "nobody cannot run $TCPDWELL"
    as_user test -r "$TCPDWELL_SCENARIO_DIR/normal-close.tcps" || skip "nobody cannot read scenarios"
fi

for name in normal-close write-after-close syn-recv; do
    rc=0
    as_user env TCPDWELL_SCENARIO_USERNS=0 timeout -k 5 60 "$TCPDWELL" --scenario "$name" -b \
        >"$TMP/$name.out" 2>&1 || rc=$?
    cat "$TMP/$name.out"
    [ "$rc" = 0 ] || fail "$name without root: status $rc"
    grep -q "running on the host's loopback (not root, and TCPDWELL_SCENARIO_USERNS=0: no namespace of its own)" \
        "$TMP/$name.out" ||
        fail "$name: did not run on the host's loopback"
    port=$(sed -n 's/.*listening ports: server \([0-9]*\).*/\1/p' "$TMP/$name.out")
    [ -n "$port" ] && [ "$port" != 8000 ] || fail "$name: expected a kernel-picked port, got '$port'"
    # Every transition printed is of a socket on the scenario's port.
    if grep -E '^\[.*\]   [a-z?]+ +127\.' "$TMP/$name.out" | grep -v ":$port " ; then
        fail "$name: a socket that is not the scenario's was reported"
    fi
    grep -Eq "done: ([0-9]+) expectations, \1 met, 0 failed" "$TMP/$name.out" ||
        fail "$name: expectations not all met"
    pass "$name without root on port $port"
done
