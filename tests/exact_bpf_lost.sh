#!/bin/bash
# exact_bpf_lost.sh - proves that when the eBPF ring buffer overflows (the
# reader stopped while a flood of loopback connections changes state far
# more often than the ring holds), the loss is counted in the kernel and
# said once, with its count, and the source goes on reporting afterwards.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
need_cmd python3
OBS="$TOP_BUILDDIR/tests/helpers/exactobs"
[ -x "$OBS" ] || fail "no helper at $OBS"

"$OBS" >"$TMP/obs.json" 2>"$TMP/obs.err" &
OP=$!
at_exit "kill -CONT $OP 2>/dev/null; kill $OP 2>/dev/null"
obs_ready() { grep -q "exactobs: ready" "$TMP/obs.err" || ! kill -0 $OP 2>/dev/null; }
wait_until 20 obs_ready || fail "the helper neither loaded the eBPF source nor gave up"
if ! kill -0 $OP 2>/dev/null; then
    wait $OP
    rc=$?
    [ $rc = 77 ] && skip "the eBPF exact source cannot load here: $(cat "$TMP/obs.err")"
    cat "$TMP/obs.err"; fail "the helper exited with $rc"
fi

PORT=$(( 20000 + RANDOM % 20000 ))
# listener $PORT: a listener opened and closed, seen as LISTEN -> CLOSED.
listener() {
    python3 -c 'import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); s.close()' "$1"
}
closed() { grep -qF "\"from\":10,\"to\":7,\"local\":\"127.0.0.1:$1\"" "$TMP/obs.json"; }
listener $((PORT + 1)) || fail "probe failed"
wait_until 10 closed $((PORT + 1)) || fail "the probe's LISTEN -> CLOSED never appeared"

# 30,000 connections closed by RST: 6 changes each, 180,000 records of 72
# bytes, more than the 8 MiB ring holds while nobody reads it.
kill -STOP $OP
python3 - "$PORT" <<'EOF' || fail "the flood failed"
import socket, struct, sys
port = int(sys.argv[1])
s = socket.socket(); s.bind(("127.0.0.1", port)); s.listen(512)
rst = struct.pack("ii", 1, 0)
for i in range(30000):
    c = socket.socket(); c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, rst)
    c.connect(("127.0.0.1", port)); a, _ = s.accept()
    c.close(); a.close()
s.close()
EOF
kill -CONT $OP

said() { grep -q "exact (eBPF): [0-9]* changes\{0,1\} lost (ring buffer full), resynchronising" "$TMP/obs.err"; }
wait_until 60 said || { cat "$TMP/obs.err"; fail "the loss was never said"; }
n=$(sed -n 's/.*exact (eBPF): \([0-9]*\) changes* lost.*/\1/p' "$TMP/obs.err" | head -1)
[ "$n" -gt 0 ] || fail "the loss was said with no count: $(cat "$TMP/obs.err")"

# Still reporting once the ring is read again.
listener $((PORT + 2)) || fail "the last listener failed"
wait_until 30 closed $((PORT + 2)) || { cat "$TMP/obs.err"; fail "no change reported after the loss"; }
[ "$(grep -c " lost (ring buffer full)" "$TMP/obs.err")" = 1 ] ||
    { cat "$TMP/obs.err"; fail "one overflow said more than once"; }
pass "the overflow of the ring said once, $n changes lost, reporting went on"
