#!/bin/bash
# Proves: --metrics FILE replaces only a regular file that tcpdwell wrote:
# a FIFO, a symbolic link, someone's 0600 file and (as root) a device node
# are refused at start with exit status 2 and left as they were; a file
# put in place of the metrics file while tcpdwell runs is not replaced,
# and the refusal is said. A file from an earlier run is replaced.
. "$TOP_SRCDIR/tests/lib.sh"

d="$TMP/d"
mkdir "$d"
# refused NAME: tcpdwell refuses $d/NAME at start, saying why, and leaves it.
refused() {
    local before after rc
    before=$(stat -c '%F %a %s %N' "$d/$1")
    timeout 20 "$TCPDWELL" -b -c 1 -d 0.1 --metrics "$d/$1" >/dev/null 2>"$TMP/err" </dev/null
    rc=$?
    after=$(stat -c '%F %a %s %N' "$d/$1")
    [ "$rc" = 2 ] || fail "$1: exit status $rc, $(cat "$TMP/err")"
    grep -q "refusing to write metrics to '$d/$1': it .*; remove it or name another file" \
        "$TMP/err" || fail "$1: $(cat "$TMP/err")"
    [ "$before" = "$after" ] || fail "$1 was changed: $before -> $after"
}
mkfifo "$d/fifo"
refused fifo
echo 'not yours' >"$d/victim"
ln -s victim "$d/link"
refused link
grep -qx 'not yours' "$d/victim" || fail "the symbolic link's target was changed"
echo 'my notes' >"$d/notes"
chmod 600 "$d/notes"
refused notes
if [ "$(id -u)" = 0 ]; then
    mknod "$d/null" c 1 3
    refused null
fi
ls "$d" | grep -q '\.tmp$' && fail "a temporary file was left: $(ls "$d")"

# An earlier run's file is replaced; one put in its place meanwhile is not.
prom="$d/tcp.prom"
timeout 20 "$TCPDWELL" -b -c 1 -d 0.1 --metrics "$prom" >/dev/null 2>"$TMP/err" ||
    fail "a new file: $(cat "$TMP/err")"
timeout 20 "$TCPDWELL" -b -c 1 -d 0.1 --metrics "$prom" >/dev/null 2>"$TMP/err" ||
    fail "an earlier run's file: $(cat "$TMP/err")"
"$TCPDWELL" -b -d 0.1 --metrics "$prom" >/dev/null 2>"$TMP/run.err" &
pid=$!
newer() { [ "$prom" -nt "$TMP/mark" ]; }
# One date for both: the file is newer only once tcpdwell has written it.
touch -d '1 hour ago' "$TMP/mark" "$prom"
wait_until 10 newer || fail "the metrics file is not written: $(cat "$TMP/run.err")"
# Put in place at once (rename): tcpdwell writes every second and must not win a gap.
mkfifo "$TMP/fifo"
mv -f "$TMP/fifo" "$prom"
wait_until 10 grep -q "metrics: cannot write '$prom': it is a FIFO" "$TMP/run.err" ||
    fail "a FIFO put in place: $(cat "$TMP/run.err")"
kill "$pid"
wait "$pid"
[ -p "$prom" ] || fail "the FIFO put in place was replaced"
pass "a FIFO, a symbolic link, someone's file, a device node refused; an earlier run's file replaced"
