#!/bin/bash
# Proves: the temporary file written beside --metrics FILE is never one
# another user planted: with a FIFO and a symbolic link at every name the
# old scheme (FILE.PID.tmp) would have used, tcpdwell keeps writing FILE,
# the planted names are left alone, FILE stays tcpdwell's (mode 644, not
# the planter's), and SIGTERM still ends it.
. "$TOP_SRCDIR/tests/lib.sh"

prom="$TMP/tcp.prom"
echo 'planted' >"$TMP/planted"
chmod 666 "$TMP/planted"
"$TCPDWELL" -b -d 0.1 --metrics "$prom" >/dev/null 2>"$TMP/run.err" &
pid=$!
# A tcpdwell stuck in open() ignores SIGTERM: the cleanup must not wait for it.
at_exit "kill -9 $pid 2>/dev/null"
wait_until 10 test -s "$prom" || fail "no metrics file: $(cat "$TMP/run.err")"
mkfifo "$prom.$pid.tmp"
# Any other name a guesser would try: a link to a file of theirs.
ln -s "$TMP/planted" "$prom.tmp"
touch -d '1 hour ago' "$TMP/mark" "$prom"
newer() { [ "$prom" -nt "$TMP/mark" ]; }
wait_until 10 newer || fail "the metrics file is no longer written (stuck on a planted FIFO?)"
wait_until 10 newer || fail "the metrics file is no longer written"
[ -p "$prom.$pid.tmp" ] || fail "the planted FIFO was replaced"
[ "$(cat "$TMP/planted")" = planted ] || fail "the planted link was followed"
[ "$(stat -c '%a %u' "$prom")" = "644 $(id -u)" ] ||
    fail "the metrics file is $(stat -c 'mode %a uid %u' "$prom")"
kill "$pid"
wait_until 10 eval '! kill -0 $pid 2>/dev/null' || fail "SIGTERM did not end tcpdwell"
pass "planted FIFO and link left alone; the file is still written, tcpdwell's, 644"
