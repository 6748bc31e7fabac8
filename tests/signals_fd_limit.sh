#!/bin/bash
# Proves (RELIABILITY.md 33): under a tight limit of open files (ulimit -n
# 4 to 8) tcpdwell -e either runs and ends on SIGTERM, or ends at once
# saying what it could not open; it is never left running with its signals
# blocked and nothing to read them, stoppable only by SIGKILL.
. "$TOP_SRCDIR/tests/lib.sh"

# A sanitizer build's leak check at exit needs descriptors this test withholds.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
for n in 4 5 6 7 8; do
    # exec keeps the limit's count to tcpdwell's own descriptors.
    bash -c "ulimit -n $n && exec \"\$0\" -e -d 0.1" "$TCPDWELL" </dev/null >/dev/null 2>"$TMP/err" &
    pid=$!
    at_exit "kill -KILL $pid 2>/dev/null"
    # Running (its poll socket open) or already gone.
    up() { ! kill -0 "$pid" 2>/dev/null || [ "$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)" -ge 4 ]; }
    wait_until 10 up || fail "ulimit -n $n: tcpdwell neither runs nor ends"
    kill -TERM "$pid" 2>/dev/null
    gone() { ! kill -0 "$pid" 2>/dev/null; }
    wait_until 10 gone || fail "ulimit -n $n: SIGTERM does not end tcpdwell: $(cat "$TMP/err")"
    wait "$pid"
    rc=$?
    case $rc in
    0 | 143) ;; # ended by SIGTERM, cleanly or before it had set anything up
    1) grep -q "^tcpdwell: .*Too many open files" "$TMP/err" ||
           fail "ulimit -n $n: exit status 1 with no reason: $(cat "$TMP/err")" ;;
    *) fail "ulimit -n $n: exit status $rc: $(cat "$TMP/err")" ;;
    esac
done
pass "under ulimit -n 4 to 8, tcpdwell ends on SIGTERM or says what it could not open"
