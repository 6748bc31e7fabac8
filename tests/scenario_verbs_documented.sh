#!/bin/bash
# Proves that the verb table is the one description of the script language:
# the verbs tcpdwell knows (as its errors for an unknown verb and an unknown
# action list them) are exactly those tcpdwell-scenario(5) documents under
# THE LANGUAGE, the actions under "Actor actions" and the launcher's verbs
# under the other subsections; and every verb the errors list is read as one.
. "$TOP_SRCDIR/tests/lib.sh"
[ -x "$TCPDWELL" ] || fail "no binary at $TCPDWELL"

# listed SCRIPT: the names in the "(expected ...)" of the error SCRIPT draws, one a line.
listed() {
    printf '%s\n' "$1" >"$TMP/s.tcps"
    "$TCPDWELL" --scenario "$TMP/s.tcps" -b >"$TMP/out" 2>&1
    [ $? = 2 ] || { cat "$TMP/out"; fail "a bad script was not a usage error"; }
    sed -n 's/.*(expected \(.*\))$/\1/p' "$TMP/out" | sed "s/, or an actor's name$//" |
        sed 's/ or /, /' | tr ',' '\n' | tr -d ' '
}
# documented WHICH: the verbs of THE LANGUAGE's .TP entries, in "Actor actions" (actions)
# or in its other subsections (launcher).
documented() {
    sed -n '/^\.SH THE LANGUAGE/,/^\.SH /p' "$TOP_SRCDIR/man/tcpdwell-scenario.5" |
        awk -v which="$1" '/^\.SS/ { act = ($0 ~ /^\.SS Actor actions/) }
            /^\.TP/ { tp = 1; next }
            tp { tp = 0; if ((which == "actions") == act) print $2 }' |
        sed 's/\\-/-/g' | sort -u
}

verbs=$(listed "dance")
actions=$(listed "scenario s
actor a
a jump")
[ "$(wc -l <<<"$verbs")" -ge 12 ] || fail "the unknown-verb error lists too few verbs: $verbs"
[ "$(wc -l <<<"$actions")" -ge 13 ] || fail "the unknown-action error lists too few: $actions"

[ "$(sort <<<"$verbs")" = "$(documented launcher)" ] ||
    fail "tcpdwell-scenario(5) documents: $(documented launcher | xargs); tcpdwell knows: $(echo $verbs)"
[ "$(sort <<<"$actions")" = "$(documented actions)" ] ||
    fail "tcpdwell-scenario(5) documents the actions: $(documented actions | xargs); tcpdwell knows: $(echo $actions)"

# Each listed verb is a verb: a line of it is never an unknown verb or action (no
# `scenario` line: the script is refused at its end, never run).
for v in $verbs; do
    printf 'actor a\n%s\n' "$v" >"$TMP/v.tcps"
    "$TCPDWELL" --scenario "$TMP/v.tcps" -b >"$TMP/out" 2>&1
    grep -q "unknown verb" "$TMP/out" && fail "'$v' is listed, but not read as a verb"
done
for v in $actions; do
    printf 'actor a\na %s\n' "$v" >"$TMP/v.tcps"
    "$TCPDWELL" --scenario "$TMP/v.tcps" -b >"$TMP/out" 2>&1
    grep -q "unknown action" "$TMP/out" && fail "'$v' is listed, but not read as an action"
done
pass "tcpdwell-scenario(5) documents exactly the verbs of the table"
