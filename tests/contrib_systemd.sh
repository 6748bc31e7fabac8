#!/bin/bash
# Proves: contrib/systemd/tcpdwell.service is a unit systemd accepts without
# a warning (systemd-analyze verify), runs tcpdwell --serve, grants exactly
# the capabilities tcpdwell(1) documents (CAP_DAC_READ_SEARCH and
# CAP_SYS_PTRACE, for the owners of other users' sockets) with the same
# bounding set, and keeps systemd's exposure
# score of it at 3.0 or lower ("OK"). Skips where systemd-analyze is missing.
. "$TOP_SRCDIR/tests/lib.sh"
need_cmd systemd-analyze
[ -x "$TCPDWELL" ] || fail "no binary at $TCPDWELL"

# The unit as `make` writes it, pointing at the binary under test so that
# verify finds the program it runs.
unit="$TMP/tcpdwell.service"
sed "s#@bindir@#$(dirname "$TCPDWELL")#" "$TOP_SRCDIR/contrib/systemd/tcpdwell.service.in" >"$unit"
grep -q '^ExecStart=[^ ]*/tcpdwell --serve --metrics-listen ' "$unit" ||
    fail "ExecStart: $(grep ExecStart "$unit")"
(cd "$TMP" && systemd-analyze verify --man=no ./tcpdwell.service) >"$TMP/verify.out" 2>&1 ||
    fail "systemd-analyze verify: $(cat "$TMP/verify.out")"
# verify says what it ignores without failing: any word about our unit is a defect.
grep -i 'tcpdwell' "$TMP/verify.out" && fail "systemd-analyze verify warned"

caps="CAP_DAC_READ_SEARCH CAP_SYS_PTRACE"
for key in AmbientCapabilities CapabilityBoundingSet; do
    got=$(sed -n "s/^$key=//p" "$unit" | tr ' ' '\n' | sort | xargs)
    [ "$got" = "$caps" ] || fail "$key: '$got', documented: '$caps'"
done
for opt in "NoNewPrivileges=yes" "ProtectSystem=strict" "DynamicUser=yes"; do
    grep -qx "$opt" "$unit" || fail "no $opt"
done
# The man page names the same capabilities.
for c in $caps; do
    grep -q "$c" "$TOP_SRCDIR/man/tcpdwell.1" || fail "tcpdwell(1) does not explain $c"
done
if systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
    (cd "$TMP" && systemd-analyze security --offline=true --threshold=30 ./tcpdwell.service) \
        >"$TMP/security.out" 2>&1 ||
        fail "exposure above 3.0: $(tail -3 "$TMP/security.out")"
fi
pass "systemd unit: verified, the documented capabilities, hardened"
