#!/bin/bash
# Proves that tcpdwell(1)'s KEYS section and the help screen come from one
# key table: every line of the help screen, live and in a replay, is an
# entry of KEYS (its keys, then its text), and every KEYS entry not marked
# (scenario) is on one of those two help screens.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/view_lib.sh"

# man_keys: "KEYS<TAB>TEXT" per KEYS entry, roff escapes undone, qualifier kept.
man_keys() {
    sed -n '/^\.SH KEYS/,/^\.SH /p' "$TOP_SRCDIR/man/tcpdwell.1" |
        awk '/^\.TP/ { want = 1; next } want == 1 && /^\.B / { k = substr($0, 4); want = 2; next }
             want == 2 { print k "\t" $0; want = 0 }' | sed 's/\\-/-/g'
}
# help_keys: "KEYS<TAB>TEXT" per line of the help screen on display.
help_keys() {
    screen | awk 'f && /^  [^ ]/ { k = substr($0, 3, 12); t = substr($0, 16);
                                    sub(/ +$/, "", k); sub(/  \((table|table, diagram|setup)\)$/, "", t);
                                    sub(/ +$/, "", t); print k "\t" t }
                  /tcpdwell keys/ { f = 1 } /^$/ && f == 2 { f = 0 } f == 1 && /^  [^ ]/ { f = 2 }' |
        grep -v '^In the table\|^DWELL:\|^\* or a dot\|^highlighted'
}

man_keys >"$TMP/man"
[ "$(wc -l <"$TMP/man")" -ge 20 ] || { cat "$TMP/man"; fail "KEYS section too short"; }

hold listen 5901
view_start 120 60 -d 0.2
expect "view up" "DWELL"
keys F1
expect "help" "tcpdwell keys"
expect "help, whole" "F10 q"
help_keys >"$TMP/live"
view_stop

"$TCPDWELL" -b -d 0.2 -c 3 -w "$TMP/rec.tcpd" >/dev/null 2>"$TMP/rec.err" || { cat "$TMP/rec.err"; fail "recording failed"; }
view_start 120 60 -r "$TMP/rec.tcpd"
expect "replay up" "^ REPLAY"
keys F1
expect "help" "tcpdwell keys"
expect "help, whole" "F10 q"
help_keys >"$TMP/replay"

[ "$(wc -l <"$TMP/live")" -ge 15 ] || { cat "$TMP/live"; fail "too few keys read from the live help"; }
# Every help line is in KEYS (the qualifier aside).
sed -E 's/ \((live|replay|scenario|setup)(, [a-z]+)*\)$//' "$TMP/man" >"$TMP/man.plain"
for f in live replay; do
    while IFS= read -r l; do
        grep -qxF -- "$l" "$TMP/man.plain" || fail "$f help line not in tcpdwell(1) KEYS: '$l'"
    done <"$TMP/$f"
done
# Every KEYS entry but the scenario's is on a help screen.
grep -v '(scenario)$' "$TMP/man" | sed -E 's/ \((live|replay|setup)\)$//' | while IFS= read -r l; do
    grep -qxF -- "$l" "$TMP/live" "$TMP/replay" ||
        fail "tcpdwell(1) KEYS entry on no help screen: '$l'"
done || exit 1
pass "KEYS in tcpdwell(1) is the help screen's table"
