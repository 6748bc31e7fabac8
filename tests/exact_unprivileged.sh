#!/bin/bash
# exact_unprivileged.sh - proves that the exact source says what is missing
# and how to provide it: without privilege (run as nobody) `--source exact`
# fails naming root or CAP_PERFMON, and `--source auto` notes why and falls
# back to polling, exit status 0; that CAP_BPF and CAP_PERFMON alone run the
# eBPF source; and that root without tracefs (unmounted
# in a private mount namespace) still gets the exact source: the perf
# fallback mounts tracefs itself, the eBPF source does not need it.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
need_cmd setpriv

as_nobody() {
    setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all "$@"
}
as_nobody test -x "$TCPDWELL" || skip "nobody cannot run $TCPDWELL (build directory not reachable)"

# tracefs mounted, so that what is missing for nobody is the privilege alone.
if [ ! -d /sys/kernel/tracing/events ] && [ ! -d /sys/kernel/debug/tracing/events ]; then
    mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || skip "cannot mount tracefs"
fi

as_nobody "$TCPDWELL" -e --source exact --format json -c 1 >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc = 1 ] || { cat "$TMP/err"; fail "--source exact as nobody: exit $rc, expected 1"; }
grep -q "needs root (or CAP_PERFMON" "$TMP/err" ||
    { cat "$TMP/err"; fail "--source exact as nobody does not name the missing privilege"; }
[ -s "$TMP/out" ] && fail "--source exact as nobody printed events"

as_nobody "$TCPDWELL" -b -c 1 --source auto >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc = 0 ] || { cat "$TMP/err"; fail "--source auto as nobody: exit $rc, expected 0"; }
grep -q "exact source unavailable, polling: .*needs root (or CAP_PERFMON" "$TMP/err" ||
    { cat "$TMP/err"; fail "--source auto as nobody gave no fallback note"; }
[ -s "$TMP/out" ] || fail "--source auto as nobody printed no table"

# CAP_BPF and CAP_PERFMON without root are enough for the eBPF source
# (where this build and kernel run it at all: root's header says so).
if "$TCPDWELL" -b -c 1 --source exact 2>/dev/null | head -1 | grep -q "exact (eBPF)"; then
    as_nobody_caps() {
        setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all,+bpf,+perfmon \
            --ambient-caps=+bpf,+perfmon "$@"
    }
    if as_nobody_caps true 2>/dev/null; then
        as_nobody_caps "$TCPDWELL" -b -c 1 --source exact >"$TMP/out" 2>"$TMP/err" ||
            { cat "$TMP/err"; fail "--source exact with CAP_BPF and CAP_PERFMON failed"; }
        head -1 "$TMP/out" | grep -q "exact (eBPF)" ||
            { cat "$TMP/out" "$TMP/err"; fail "CAP_BPF and CAP_PERFMON did not run the eBPF source"; }
        pass "CAP_BPF and CAP_PERFMON run the eBPF source without root"
    else
        echo "setpriv cannot grant ambient capabilities here: CAP_BPF case not checked"
    fi
fi

# Root without tracefs (a fresh machine, or `ip netns exec`): unmount it
# where only this test sees it. The perf fallback mounts it as perf does;
# the eBPF source does not need it.
need_cmd unshare
cat >"$TMP/nomount.sh" <<'EOF'
unmount_all() {
    umount -l /sys/kernel/tracing 2>/dev/null
    umount -l /sys/kernel/debug/tracing 2>/dev/null
    umount -l /sys/kernel/debug 2>/dev/null
    [ -d /sys/kernel/tracing/events ] || [ -d /sys/kernel/debug/tracing/events ] && exit 77
}
unmount_all
TCPDWELL_NO_BPF=1 "$TCPDWELL" -b -c 1 --source exact >"$TMP/out1" 2>"$TMP/err1"
echo $? >"$TMP/rc1"
[ -d /sys/kernel/tracing/events ] && echo mounted >"$TMP/mounted1"
unmount_all
"$TCPDWELL" -b -c 1 --source exact >"$TMP/out2" 2>"$TMP/err2"
echo $? >"$TMP/rc2"
EOF
TCPDWELL="$TCPDWELL" TMP="$TMP" unshare -m --propagation private /bin/bash "$TMP/nomount.sh"
rc=$?
[ $rc = 77 ] && skip "tracefs could not be hidden in a private mount namespace"
[ $rc = 0 ] || fail "private mount namespace: exit $rc"
[ "$(cat "$TMP/rc1")" = 0 ] || { cat "$TMP/err1"; fail "the perf exact source without tracefs failed"; }
head -1 "$TMP/out1" | grep -q "exact (perf)" ||
    { cat "$TMP/out1" "$TMP/err1"; fail "the perf exact source without tracefs is not what ran"; }
[ -f "$TMP/mounted1" ] || fail "the perf exact source did not mount tracefs at /sys/kernel/tracing"
grep -q "note: exact source on perf_event_open" "$TMP/err1" ||
    { cat "$TMP/err1"; fail "the perf fallback is not noted"; }
[ "$(cat "$TMP/rc2")" = 0 ] || { cat "$TMP/err2"; fail "--source exact without tracefs failed"; }
head -1 "$TMP/out2" | grep -Eq "exact \((eBPF|perf)\)" ||
    { cat "$TMP/out2" "$TMP/err2"; fail "--source exact without tracefs: no exact source named"; }
# The host's tracefs is untouched.
[ -d /sys/kernel/tracing/events ] || [ -d /sys/kernel/debug/tracing/events ] ||
    fail "the test unmounted the host's tracefs"

pass "missing privilege named, auto falls back to polling; without tracefs, root mounts it"
