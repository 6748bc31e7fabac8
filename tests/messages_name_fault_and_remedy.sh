#!/bin/bash
# Proves: each error says what was wrong, once, with the status that
# tcpdwell(1) and tcpdwell-scenario(5) give it: output to a full device,
# a full disk under --metrics (as root), the exact source's fallback note
# (said once), a filter past its word limit (the word named whole), -d past
# its maximum (the range named), a libmicrohttpd that cannot be loaded for
# lack of descriptors (no advice to install it), a scenario that cannot
# start (2, not the 1 of a failed expectation), an actor named after a
# verb, -b with -e, unknown options and missing values ("tcpdwell:" first,
# not a path); and tcpdwell-scenario(5) names no option that does not exist.
. "$TOP_SRCDIR/tests/lib.sh"

# run ARGS...: tcpdwell's status in $rc, its stderr in $TMP/err.
run() { timeout 30 "$TCPDWELL" "$@" </dev/null >/dev/null 2>"$TMP/err"; rc=$?; }
said() { grep -q -- "$1" "$TMP/err" || fail "$2: $(cat "$TMP/err")"; }

for m in -b "-e --format csv"; do
    timeout 30 "$TCPDWELL" $m -c 1 -d 0.1 </dev/null >/dev/full 2>"$TMP/err"
    rc=$?
    [ "$rc" = 1 ] || fail "$m to /dev/full: exit status $rc"
    said "^tcpdwell: cannot write the output: No space left on device$" "$m to /dev/full"
done

if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
    d="$TMP/full"
    mkdir "$d"
    unshare -m -- bash -c 'mount -t tmpfs -o size=64k none "$1" &&
        { dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null; true; } &&
        exec timeout 30 "$2" -b -c 2 -d 0.1 --metrics "$1/x.prom"' _ "$d" "$TCPDWELL" \
        >/dev/null 2>"$TMP/err"
    said "tcpdwell: metrics: cannot write '$d/x.prom': No space left on device" "metrics on a full disk"
fi

# The exact source unavailable (no capabilities): the note, once.
if [ "$(id -u)" = 0 ]; then
    command -v setpriv >/dev/null || skip "needs setpriv"
    timeout 30 setpriv --bounding-set=-all -- "$TCPDWELL" -b -c 1 -d 0.1 --source auto \
        </dev/null >/dev/null 2>"$TMP/err"
else
    run -b -c 1 -d 0.1 --source auto
fi
[ "$(grep -c 'exact source unavailable' "$TMP/err")" = 1 ] || fail "the fallback note: $(cat "$TMP/err")"

run -b "$(for i in $(seq 300); do printf 'sport = :%d or ' "$i"; done) sport = :1"
[ "$rc" = 2 ] || fail "a filter of too many words: exit status $rc"
said "unexpected 'sport' at column [0-9]*: expression longer than 1024 words" "a filter of too many words"

run -b -d 1e10
[ "$rc" = 2 ] || fail "-d 1e10: exit status $rc"
said "^tcpdwell: invalid interval '1e10': expected seconds, 0.01 to 1000000000$" "-d 1e10"

# Out of descriptors while loading libmicrohttpd: no advice to install it.
found=0
for n in 6 7 8 9 10; do
    bash -c "ulimit -n $n && exec \"\$0\" -b -c 1 -d 0.1 --metrics-listen 127.0.0.1:1" "$TCPDWELL" \
        </dev/null >/dev/null 2>"$TMP/err"
    grep -q "cannot load libmicrohttpd" "$TMP/err" || continue
    found=1
    grep -q "apt-get" "$TMP/err" && fail "ulimit -n $n: advised to install: $(cat "$TMP/err")"
done
[ "$found" = 1 ] || grep -q "built without libmicrohttpd" "$TMP/err" ||
    echo "note: no limit of descriptors made libmicrohttpd fail to load"

# A scenario that cannot start (out of descriptors for its actors) is 2.
found=0
for n in $(seq 8 24); do
    bash -c "ulimit -n $n && exec \"\$0\" -b --scenario normal-close" "$TCPDWELL" \
        </dev/null >/dev/null 2>"$TMP/err"
    rc=$?
    grep -q "^tcpdwell: scenario: " "$TMP/err" || continue
    found=1
    [ "$rc" = 2 ] || fail "ulimit -n $n: a scenario that cannot start: exit status $rc, $(cat "$TMP/err")"
done
[ "$found" = 1 ] || fail "no limit of descriptors made the scenario fail to start"

printf 'scenario t\nactor listen\n' >"$TMP/t.tcps"
run -b --scenario "$TMP/t.tcps"
[ "$rc" = 2 ] || fail "actor listen: exit status $rc"
said "^tcpdwell: $TMP/t.tcps:2: actor: 'listen' is a verb of the language$" "actor listen"

run -b -e
[ "$rc" = 2 ] || fail "-b -e: exit status $rc"
said "^tcpdwell: -b and -e do not go together" "-b -e"

for bad in -x --bogus -d --delay; do
    run "$bad"
    [ "$rc" = 2 ] || fail "$bad: exit status $rc"
    head -1 "$TMP/err" | grep -q "^tcpdwell: .*'$bad'" || fail "$bad: $(cat "$TMP/err")"
done

grep -qE '^\.B \\-i$' "$TOP_SRCDIR/man/tcpdwell-scenario.5" &&
    fail "tcpdwell-scenario(5) names -i, which does not exist"
pass "every message names the fault and the remedy, once, with its documented status"
