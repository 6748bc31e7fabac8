#!/bin/bash
# Proves (RELIABILITY.md 30): -w to a recording with one damaged byte in
# the middle refuses to append, exit status 2, naming the damage and the
# offset of the valid records after it, and leaves the file byte for byte
# as it was; a recording whose only damage is a cut last record is
# appended to, cut back to its last good record and no further, and the
# cut is said.
. "$TOP_SRCDIR/tests/lib.sh"
rec="$TOP_SRCDIR/tests/corpus/record/normal-close.tcpd"
size=$(stat -c %s "$rec")

# The record boundaries, from the length fields (after the 16-byte file header).
bounds=$(od -An -v -tu1 -w1 "$rec" | awk '{ b[NR-1] = $1 } END {
    p = 16; while (p + 4 <= NR) { print p; p += b[p] + 256 * b[p+1] + 65536 * b[p+2]; } print p }')
n=$(echo "$bounds" | wc -l)
[ "$n" -ge 6 ] || fail "the corpus recording has too few records: $n"
# A byte inside a record about halfway through: several whole records follow it.
mid=$(echo "$bounds" | sed -n "$((n / 2))p")
next=$(echo "$bounds" | sed -n "$((n / 2 + 1))p")
flip=$(( (mid + next) / 2 ))

cp "$rec" "$TMP/flip.tcpd"
byte=$(od -An -tu1 -j "$flip" -N1 "$rec" | tr -d ' ')
printf "$(printf '\\%03o' $(( byte ^ 0x55 )))" |
    dd of="$TMP/flip.tcpd" bs=1 seek="$flip" conv=notrunc status=none
cmp -s "$rec" "$TMP/flip.tcpd" && fail "the byte was not changed"
cp "$TMP/flip.tcpd" "$TMP/flip.orig"
timeout 30 "$TCPDWELL" -b -c 1 -d 0.1 -w "$TMP/flip.tcpd" >/dev/null 2>"$TMP/err"
rc=$?
[ "$rc" = 2 ] || fail "appending after damage: exit status $rc, $(cat "$TMP/err")"
grep -q "cannot record to '$TMP/flip.tcpd': it is damaged (.*offset $mid.*) but valid records follow at offset [0-9]" \
    "$TMP/err" || fail "appending after damage: $(cat "$TMP/err")"
cmp -s "$TMP/flip.orig" "$TMP/flip.tcpd" ||
    fail "the damaged recording was changed: $(stat -c %s "$TMP/flip.tcpd") bytes of $size"

# A cut last record is a damaged tail: cut back to the last good record, then appended to.
last=$(echo "$bounds" | sed -n "$((n - 1))p")
head -c $(( last + 10 )) "$rec" >"$TMP/cut.tcpd"
timeout 30 "$TCPDWELL" -b -c 1 -d 0.1 -w "$TMP/cut.tcpd" >/dev/null 2>"$TMP/err" ||
    fail "appending to a cut recording: $(cat "$TMP/err")"
grep -q "^tcpdwell: recording '$TMP/cut.tcpd': cut 10 bytes of a damaged tail at offset $last (.*) before appending$" \
    "$TMP/err" || fail "the cut was not said: $(cat "$TMP/err")"
cmp -s -n "$last" "$rec" "$TMP/cut.tcpd" || fail "the good records before the cut were changed"
[ "$(stat -c %s "$TMP/cut.tcpd")" -gt "$last" ] || fail "nothing was appended"
timeout 30 "$TCPDWELL" -r "$TMP/cut.tcpd" -b >/dev/null 2>"$TMP/err" ||
    fail "the appended recording does not replay: $(cat "$TMP/err")"
[ -s "$TMP/err" ] && fail "the appended recording: $(cat "$TMP/err")"
pass "damage with records after it refused and left alone; a cut tail cut back and appended to"
