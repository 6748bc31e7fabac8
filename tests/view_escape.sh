#!/bin/bash
# Proves: a process name with control characters (ESC and BEL, set with
# prctl(PR_SET_NAME)) reaches the screen escaped, as \e and \a, and no raw
# control character gets through (the screen keeps its layout).
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/view_lib.sh"
need_cmd python3

python3 - >"$TMP/evil" 2>&1 <<'PY' &
import ctypes, socket, time
ctypes.CDLL(None).prctl(15, b"ev\x1b[2Jil\x07x", 0, 0, 0)
s = socket.socket()
s.bind(("127.0.0.1", 5401))
s.listen()
print("ready", flush=True)
time.sleep(300)
PY
wait_until 10 grep -q ready "$TMP/evil" || { cat "$TMP/evil"; fail "renamed listener not ready"; }
grep -q 'il' "/proc/$!/comm" || fail "prctl(PR_SET_NAME) did not rename the process"

view_start 120 40 -d 0.2
expect "listener row" "127\.0\.0\.1:5401"
expect "escaped name" '/ev\\e\[2Jil\\ax'
# The screen was not cleared by the name: the title and the key bar are still there.
shows "^ tcpdwell " || { screen; fail "title gone"; }
shows "^F1Help" || { screen; fail "key bar gone"; }
pass "control characters in a process name are escaped"
