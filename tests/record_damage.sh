#!/bin/bash
# Proves (RELIABILITY.md 20, 21) through the real binary, on a real recording
# of the normal-close scenario: a recording cut anywhere (every record
# boundary, one byte either side, and offsets spread over the file) or with
# a flipped bit replays exactly a prefix of what the whole file replays, and
# says where it stopped, or is refused with the file and the offset named;
# never a crash, a sanitizer report or garbage output. Files that are not
# recordings (wrong magic, newer version, empty, a directory, /dev/zero, a
# pipe, random bytes, trailing garbage) get one clear error.
. "$TOP_SRCDIR/tests/lib.sh"
[ -x "$TCPDWELL" ] || fail "no tcpdwell binary at $TCPDWELL"
rec="$TOP_SRCDIR/tests/corpus/record/normal-close.tcpd"
size=$(stat -c %s "$rec")

timeout 30 "$TCPDWELL" -r "$rec" -b >"$TMP/full.out" 2>"$TMP/full.err" ||
    fail "the whole recording does not replay: $(cat "$TMP/full.err")"
[ -s "$TMP/full.err" ] && fail "the whole recording: $(cat "$TMP/full.err")"
grep -q '^TIME_WAIT' "$TMP/full.out" || fail "the whole recording shows no TIME_WAIT"

# check FILE WHAT: replays a prefix and names the damage, or is refused naming the file.
check() {
    local rc
    timeout 30 "$TCPDWELL" -r "$1" -b >"$TMP/out" 2>"$TMP/err"
    rc=$?
    grep -q -e 'Sanitizer' -e 'runtime error' "$TMP/err" && fail "$2: $(cat "$TMP/err")"
    case $rc in
    0)
        cmp -s "$TMP/out" <(head -c "$(stat -c %s "$TMP/out")" "$TMP/full.out") ||
            fail "$2: output is not a prefix of the whole replay"
        if [ -s "$TMP/err" ]; then
            grep -q "recording '$1'.*offset [0-9]" "$TMP/err" || fail "$2: unclear: $(cat "$TMP/err")"
            [ "$(wc -l <"$TMP/err")" = 1 ] || fail "$2: more than one line: $(cat "$TMP/err")"
        fi ;;
    2)
        [ -s "$TMP/out" ] && fail "$2: refused but printed"
        grep -q "tcpdwell: cannot open recording '$1': .*offset [0-9]" "$TMP/err" ||
            fail "$2: unclear refusal: $(cat "$TMP/err")"
        ;;
    *) fail "$2: exit status $rc: $(cat "$TMP/err")" ;;
    esac
    return $rc
}

# The record boundaries, from the length fields.
bounds=$(od -An -v -tu1 -w1 "$rec" | awk '{ b[NR-1] = $1 } END {
    p = 16; while (p + 4 <= NR) { print p; p += b[p] + 256 * b[p+1] + 65536 * b[p+2]; } print p }')
[ "$(echo "$bounds" | tail -1)" = "$size" ] || fail "record lengths do not add up to the file size"
offsets=$( (echo "$bounds" | awk '{ print $1 - 1; print $1; print $1 + 1 }'
            seq 0 97 "$size"; seq 0 15) | awk -v s="$size" '$1 >= 0 && $1 < s' | sort -nu)
stopped=0 refused=0
for off in $offsets; do
    head -c "$off" "$rec" >"$TMP/cut.tcpd"
    check "$TMP/cut.tcpd" "cut at $off"
    case $? in 0) [ -s "$TMP/err" ] && stopped=$((stopped + 1)) ;; 2) refused=$((refused + 1)) ;; esac
done
[ "$stopped" -gt 10 ] && [ "$refused" -gt 10 ] || fail "cuts: $stopped stopped, $refused refused"
# A cut at a record boundary is a clean, shorter recording.
mid=$(echo "$bounds" | sed -n 20p)
head -c "$mid" "$rec" >"$TMP/cut.tcpd"
check "$TMP/cut.tcpd" "cut at boundary $mid"
[ -s "$TMP/err" ] && fail "a cut at a boundary is reported as damage: $(cat "$TMP/err")"

# Flipped bits.
for off in $(seq 3 131 "$((size - 1))"); do
    cp "$rec" "$TMP/flip.tcpd"
    byte=$(od -An -tu1 -j "$off" -N1 "$rec" | tr -d ' ')
    printf "\\$(printf %03o $((byte ^ (1 << (off % 8)))))" |
        dd of="$TMP/flip.tcpd" bs=1 seek="$off" conv=notrunc status=none
    check "$TMP/flip.tcpd" "bit flipped at $off"
    [ $? = 0 ] && { [ -s "$TMP/err" ] || fail "flip at $off went unnoticed"; }
done

# Not recordings at all.
refuse() {
    timeout 10 "$TCPDWELL" -r "$1" -b >"$TMP/out" 2>"$TMP/err" </dev/null
    local rc=$?
    [ $rc = 2 ] || fail "$1: exit status $rc, want 2: $(cat "$TMP/err")"
    grep -q "tcpdwell: cannot open recording '$1': $2" "$TMP/err" ||
        fail "$1: want '$2', got: $(cat "$TMP/err")"
}
: >"$TMP/empty.tcpd"
refuse "$TMP/empty.tcpd" "empty file (offset 0)"
printf 'hello\n' >"$TMP/text.tcpd"
refuse "$TMP/text.tcpd" "not a tcpdwell recording (bad magic at offset 0)"
head -c 4096 /dev/urandom >"$TMP/random.tcpd"
refuse "$TMP/random.tcpd" "not a tcpdwell recording (bad magic at offset 0)"
head -c 4096 /dev/zero >"$TMP/zeros.tcpd"
refuse "$TMP/zeros.tcpd" "not a tcpdwell recording (bad magic at offset 0)"
head -c 10 "$rec" >"$TMP/short.tcpd"
refuse "$TMP/short.tcpd" "truncated header at offset 10"
refuse "$TMP" "is a directory (offset 0)"
refuse /dev/zero "not a regular file (a device) at offset 0"
mkfifo "$TMP/fifo"
refuse "$TMP/fifo" "not a regular file (a pipe) at offset 0"
# A newer version, its header checksum correct (CRC-32 of the first 12 bytes).
{ head -c 8 "$rec"; printf '\002\000'; tail -c +11 "$rec" | head -c 2; } >"$TMP/hdr"
crc=$(gzip -c <"$TMP/hdr" | tail -c 8 | head -c 4 | od -An -tx1 | tr -d ' \n')
{ cat "$TMP/hdr"; printf "\\x${crc:0:2}\\x${crc:2:2}\\x${crc:4:2}\\x${crc:6:2}"; tail -c +17 "$rec"; } \
    >"$TMP/newer.tcpd"
refuse "$TMP/newer.tcpd" "format version 2 at offset 8 is newer than this tcpdwell reads (1)"

# Trailing garbage: everything replays, and where the garbage starts is said.
{ cat "$rec"; head -c 100 /dev/urandom; } >"$TMP/trail.tcpd"
check "$TMP/trail.tcpd" "trailing garbage"
cmp -s "$TMP/out" "$TMP/full.out" || fail "trailing garbage: not everything replayed"
grep -q "offset $size" "$TMP/err" || fail "trailing garbage: offset not named: $(cat "$TMP/err")"
pass "damaged and foreign files replay what is good or are refused clearly"
