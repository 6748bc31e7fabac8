#!/bin/bash
# Proves, on the real binary in tmux at 80x24, that the tour waits for its
# audience: every `say` of tour.tcps is on screen whole (wrapped, its quoted
# time filled in) long enough to be read back; the script's progress
# ("[8/40] sleep 1.5") shows only with -v; with --step the welcome stays until
# n and the prompt names n; Space holds the script itself, not only the screen.
# Runs with or without root (without, on the host's loopback).
. "$TOP_SRCDIR/tests/lib.sh"
. "$TOP_SRCDIR/tests/view_lib.sh"
TOUR="$TCPDWELL_SCENARIO_DIR/tour.tcps"
[ -r "$TOUR" ] || fail "no tour at $TOUR"

# narration: the screen's narration pane (after the "tour: " status line, up
# to the key bar) as one line, wrapped lines joined.
narration() {
    screen | awk '/^tour: / { on = 1; next } on { print }' | sed '$d' |
        sed 's/^ *//' | tr '\n' ' ' | tr -s ' '
    echo
}
# progress_shown: the status line shows the script's own step index.
progress_shown() { shows '^tour: \[[0-9]+/[0-9]+\]'; }

# 1. A whole tour at 20 words a second: every narration is read back.
view_start 80 24 --scenario tour --reading-speed 20
seen="$TMP/seen"
: >"$seen"
end=$(($(now_ms) + 120000))
until shows '^tour: done: '; do
    [ "$(now_ms)" -lt "$end" ] || { screen; fail "the tour did not end within 120 s"; }
    narration >>"$seen"
    if progress_shown; then screen; fail "the script's progress shown without -v"; fi
    sleep 0.05
done
n=0
while IFS= read -r say; do
    # A quoted time ({client FIN_WAIT_1}) is filled in: check the text around it.
    IFS=$'\x01' read -r -a parts <<<"$(sed 's/{[^}]*}/\x01/g' <<<"$say")"
    for part in "${parts[@]}"; do
        part=$(tr -s ' ' <<<"$part" | sed 's/^ //; s/ $//')
        [ -z "$part" ] && continue
        grep -qF -- "$part" "$seen" || fail "narration never on screen whole: '$part'"
    done
    n=$((n + 1))
done < <(sed -n 's/^say //p' "$TOUR")
[ "$n" -ge 8 ] || fail "only $n narrations in the tour"
if grep -q '[{}]' "$seen"; then fail "a quoted time was shown unexpanded"; fi
grep -Eq "FIN_WAIT_1 lasted ([0-9.]+(us|ms|s)|too briefly to be seen)\." "$seen" ||
    fail "the quoted FIN_WAIT_1 time is not a duration"
pass "all $n narrations of the tour read back at 80x24"
view_stop

# 2. --step: the welcome waits for n, and the prompt says so; -v shows progress.
view_start 80 24 --scenario tour --step -v --reading-speed 20
expect "welcome" "Welcome\. Every row is a TCP socket"
expect "step prompt" "waiting: press n for the next step"
expect "progress with -v" '^tour: \[[0-9]+/[0-9]+\]'
shows "Welcome\. Every row" || { screen; fail "the welcome was replaced before n"; }
keys n
expect "after n" "First, a normal close"
pass "--step holds the welcome until n; -v shows the progress"
view_stop

# 3. Space holds the script: its step index does not move until Space again.
view_start 80 24 --scenario tour -v --reading-speed 20
expect "running" '^tour: \[[0-9]+/'
wait_until 20 shows "The client closes first" || { screen; fail "the tour did not get going"; }
keys Space
expect "paused" "^tour: paused: Space goes on"
before=$(narration)
moved() { [ "$(narration)" != "$before" ]; }
# Unpaused, the next narration comes within about a second here: 2 s would see it.
if wait_until 2 moved; then screen; fail "the script ran on while paused"; fi
keys Space
expect_not "resumed" "^tour: paused"
wait_until 30 moved || { screen; fail "the script did not go on after Space"; }
pass "Space holds the script and lets it go on"
