#!/bin/bash
# Proves: a scenario ended midway leaves no actor behind. SIGTERM to tcpdwell
# kills and reaps every actor (none is left to a reaper, none keeps running);
# SIGKILL to tcpdwell, which cannot clean up, still ends them (through
# PR_SET_PDEATHSIG, or their command pipe closing, whichever comes first). The test is the actors' subreaper, so an actor tcpdwell
# failed to reap would be left to us as a zombie and be seen.
. "$TOP_SRCDIR/tests/lib.sh"
need_cmd python3
[ -x "$TCPDWELL" ] || fail "no binary at $TCPDWELL"

cat >"$TMP/reaper.py" <<'PY'
import ctypes, os, re, signal, sys, time
sig, out = int(sys.argv[1]), sys.argv[2]
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(36, 1, 0, 0, 0)                      # PR_SET_CHILD_SUBREAPER
open(out, "w").close()
pid = os.fork()
if pid == 0:
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1); os.dup2(fd, 2)
    os.execv(sys.argv[3], sys.argv[3:])
def text():
    with open(out) as f: return f.read()
end = time.time() + 30
while 'PASS line' not in text() or 'FIN_WAIT_2' not in text():
    if time.time() > end: sys.exit("scenario never got midway:\n" + text())
    time.sleep(0.05)
actors = [int(p) for p in re.findall(r'actor \S+: pid (\d+)', text())]
if len(actors) != 2: sys.exit("expected 2 actors, got %r" % actors)
for a in actors:
    os.kill(a, 0)                                # running midway, or this raises
os.kill(pid, sig)
_, st = os.waitpid(pid, 0)
print("tcpdwell ended:", "signal %d" % os.WTERMSIG(st) if os.WIFSIGNALED(st)
      else "status %d" % os.WEXITSTATUS(st))
# Whatever is left of the actors was reparented to us.
left, end = {}, time.time() + 10
while time.time() < end:
    try:
        p, st = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        break
    if p:
        left[p] = st
    else:
        time.sleep(0.05)
for a in actors:
    try:
        os.kill(a, 0)
        sys.exit("actor %d still running" % a)
    except ProcessLookupError:
        pass
if sig == signal.SIGTERM and left:
    sys.exit("tcpdwell did not reap its actors: %r were left to the reaper" % left)
if sig == signal.SIGKILL:
    if sorted(left) != sorted(actors):
        sys.exit("expected both actors to be left to us, got %r" % left)
    # PDEATHSIG's SIGKILL, or the actor saw its command pipe close first: either
    # way it ended on its own, within the deadline, with nobody to stop it.
    for p, st in left.items():
        print("actor %d:" % p, "signal %d" % os.WTERMSIG(st) if os.WIFSIGNALED(st)
              else "exit %d" % os.WEXITSTATUS(st))
        if os.WIFSIGNALED(st) and os.WTERMSIG(st) != signal.SIGKILL:
            sys.exit("actor %d died of an unexpected signal" % p)
print("actors", actors, "gone; left to the reaper:", sorted(left))
PY

python3 "$TMP/reaper.py" 15 "$TMP/term.out" "$TCPDWELL" --scenario peer-never-closes -b ||
    { cat "$TMP/term.out"; fail "SIGTERM left actors behind"; }
pass "SIGTERM: actors killed and reaped by tcpdwell"
python3 "$TMP/reaper.py" 9 "$TMP/kill.out" "$TCPDWELL" --scenario peer-never-closes -b ||
    { cat "$TMP/kill.out"; fail "SIGKILL left actors behind"; }
pass "SIGKILL: actors ended without tcpdwell"
