#!/bin/bash
# Proves: scenario faults end with a clear report and the documented status.
# A bad script is refused with file:line before anything forks (status 2); a
# state never reached fails its wait with what was seen instead (status 1); an
# expected error that does not come fails (1); an action failing unexpectedly,
# a hanging action and a crashed actor stop the scenario (2), actors reaped.
. "$TOP_SRCDIR/tests/lib.sh"
[ -x "$TCPDWELL" ] || fail "no binary at $TCPDWELL"

# run NAME: the script $TMP/NAME.tcps in batch mode; sets rc, output in $TMP/NAME.out.
run() {
    rc=0
    timeout -k 5 60 "$TCPDWELL" --scenario "$TMP/$1.tcps" -b >"$TMP/$1.out" 2>&1 || rc=$?
    cat "$TMP/$1.out"
}
expect_line() { grep -qF -- "$2" "$TMP/$1.out" || fail "$1: no line with: $2"; }

# A script broken on its last line: refused whole, nothing started.
cat >"$TMP/bad.tcps" <<'S'
scenario bad
actor server client
server listen
client connect
client teleport
S
run bad
[ "$rc" = 2 ] || fail "bad script: status $rc, want 2"
expect_line bad "tcpdwell: $TMP/bad.tcps:5: unknown action 'teleport' for client"
if grep -q "actor server: pid" "$TMP/bad.out"; then fail "actors started for a bad script"; fi
[ "$(wc -l <"$TMP/bad.out")" = 1 ] || fail "bad script: more than the error was printed"
pass "bad script refused with file:line"

# A state never reached: the wait times out, says what was seen, and stops.
cat >"$TMP/never.tcps" <<'S'
scenario never
actor server client
server listen
client connect
server accept
wait client CLOSE_WAIT 1
say not reached
S
run never
[ "$rc" = 1 ] || fail "never: status $rc, want 1"
# As root the exact source also saw SYN_SENT; a poll may not have.
grep -Eq -- "FAIL line 6: wait client CLOSE_WAIT 1: client not seen in CLOSE_WAIT within 1.0 s \(seen: (SYN_SENT )?ESTABLISHED; now: ESTABLISHED for" "$TMP/never.out" ||
    fail "never: no FAIL line saying what was seen"
if grep -q "say: not reached" "$TMP/never.out"; then fail "never: went on after a failed wait"; fi
pass "unmet wait reported with what was seen"

# An expected error that does not come, and an expect that fails: counted, the run goes on.
cat >"$TMP/wrong.tcps" <<'S'
scenario wrong
actor server client
server listen
client connect
server accept
client close fails EPIPE
expect server TIME_WAIT within 0.5
say still running
S
run wrong
[ "$rc" = 1 ] || fail "wrong: status $rc, want 1"
expect_line wrong "FAIL line 6: client close fails EPIPE: expected EPIPE"
expect_line wrong "FAIL line 7: expect server TIME_WAIT within 0.5: server not seen in TIME_WAIT within 0.5 s"
expect_line wrong "say: still running"
expect_line wrong "done: 2 expectations, 0 met, 2 failed"
pass "failed expectations counted, run completed"

# An action failing unexpectedly: a second listener on the same port.
cat >"$TMP/inuse.tcps" <<'S'
scenario inuse
actor server
server listen
server bind-again
say not reached
S
run inuse
[ "$rc" = 2 ] || fail "inuse: status $rc, want 2"
expect_line inuse "ERROR line 4: server failed unexpectedly: restart: bind(127.0.0.1:"
expect_line inuse "-1 EADDRINUSE (Address already in use)"
if grep -q "say: not reached" "$TMP/inuse.out"; then fail "inuse: went on after an error"; fi
pass "unexpected failure stops the scenario"

# A hanging action: accept with nobody connecting ends by the actor's timeout.
cat >"$TMP/hang.tcps" <<'S'
scenario hang
actor server
server listen
server accept
S
run hang
[ "$rc" = 2 ] || fail "hang: status $rc, want 2"
expect_line hang "server: accept() nothing to accept after 5 s: -1 ETIMEDOUT"
pass "hanging accept ended by a timeout"

# A crashed actor: killed from outside while the script sleeps.
cat >"$TMP/crash.tcps" <<'S'
scenario crash
actor server client
server listen
client connect
sleep 30
S
"$TCPDWELL" --scenario "$TMP/crash.tcps" -b >"$TMP/crash.out" 2>&1 &
tpid=$!
wait_until 10 grep -q "line 5: sleep 30" "$TMP/crash.out" || fail "crash: never reached the sleep"
cpid=$(sed -n 's/.*actor client: pid \([0-9]*\).*/\1/p' "$TMP/crash.out")
spid=$(sed -n 's/.*actor server: pid \([0-9]*\).*/\1/p' "$TMP/crash.out")
kill -KILL "$cpid"
wait_until 10 grep -q "ERROR" "$TMP/crash.out" || fail "crash: not reported"
rc=0
wait "$tpid" || rc=$?
cat "$TMP/crash.out"
[ "$rc" = 2 ] || fail "crash: status $rc, want 2"
expect_line crash "ERROR client died: killed by signal 9 (Killed)"
if kill -0 "$spid" 2>/dev/null; then fail "crash: the server actor survived"; fi
pass "crashed actor reported, the other one stopped"

# An actor told to exit is no crash: the kernel closes its socket (a FIN).
cat >"$TMP/exit.tcps" <<'S'
scenario exit
actor server client
server listen
client connect
server accept
client exit
wait server CLOSE_WAIT
S
run exit
[ "$rc" = 0 ] || fail "exit: status $rc, want 0"
expect_line exit "client: exit(0)"
expect_line exit "PASS line 7: wait server CLOSE_WAIT: seen"
pass "an actor's exit closes its sockets and is no error"

# Nobody reading the output any more ends the run quietly and stops the actors.
rc=0
timeout -k 5 30 "$TCPDWELL" --scenario "$TMP/exit.tcps" -b 2>"$TMP/pipe.err" | head -n 2 >/dev/null ||
    rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] || fail "output closed: status $rc"
[ ! -s "$TMP/pipe.err" ] || { cat "$TMP/pipe.err"; fail "output closed: messages on stderr"; }
pass "closed output ends the run quietly"
