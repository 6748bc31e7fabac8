#!/bin/bash
# Proves that the column table is the one description of the columns: every
# column tcpdwell knows (as its --columns error lists them) is documented in
# tcpdwell(1)'s COLUMNS section and in --help, and nothing else is; the -b
# table's header follows --columns in order; an unknown or repeated name is a
# usage error (status 2) naming it; the default header is the one scripts
# and the README read.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"

"$TCPDWELL" --columns nosuch -b -c 1 >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" = 2 ] || fail "unknown column: exit $rc, expected 2"
grep -q "unknown column 'nosuch'" "$TMP/err" || { cat "$TMP/err"; fail "error does not name the column"; }
known=$(sed -n "s/.*(known: \(.*\)).*/\1/p" "$TMP/err" | tr -d ' ' | tr ',' '\n')
[ "$(wc -l <<<"$known")" -ge 9 ] || fail "the error lists too few columns: $known"

documented=$(sed -n '/^\.SH COLUMNS/,/^\.SH /p' "$TOP_SRCDIR/man/tcpdwell.1" |
    sed -n 's/^\.B \([a-z][a-z\\-]*\)$/\1/p' | sed 's/\\-/-/g')
[ "$(sort <<<"$known")" = "$(sort <<<"$documented")" ] ||
    fail "tcpdwell(1) COLUMNS lists: $(echo $documented); tcpdwell knows: $(echo $known)"
helpcols=$("$TCPDWELL" --help | sed -n '/--columns/,/COLUMNS in/p' | sed 1d | tr -d ' ' |
    tr ',' '\n' | sed 's/(see.*//; s/^from://' | grep -v '^$')
[ "$(sort <<<"$known")" = "$(sort <<<"$helpcols")" ] ||
    fail "--help lists: $(echo $helpcols); tcpdwell knows: $(echo $known)"

"$TCPDWELL" --columns dwell,dwell -b -c 1 >/dev/null 2>"$TMP/err"
rc=$?
[ "$rc" = 2 ] && grep -q "'dwell' given twice" "$TMP/err" ||
    { cat "$TMP/err"; fail "a repeated column: exit $rc"; }

# A listener, so that the table has a row.
hold() {
    "$HOLDSTATE" listen 5301 300 >"$TMP/hold" 2>&1 &
    wait_until 10 grep -q '^ready' "$TMP/hold" || { cat "$TMP/hold"; fail "holdstate not ready"; }
}
[ -x "$HOLDSTATE" ] || skip "the holdstate helper is not built"
hold

"$TCPDWELL" -b -c 1 >"$TMP/def" || fail "tcpdwell -b failed"
head=$(sed -n 2p "$TMP/def" | tr -s ' ')
[ "$head" = "STATE DWELL LOCAL PEER RECV-Q SEND-Q TIMER OWNER" ] ||
    fail "default header changed: '$head'"
grep -qE '^LISTEN +[^ ]+ +127\.0\.0\.1:5301 +0\.0\.0\.0:\* +0 +[0-9]+ +- +[0-9]+/holdstate$' \
    "$TMP/def" || { cat "$TMP/def"; fail "the listener's row is not as scripts read it"; }

"$TCPDWELL" --columns peer,owner,state -b -c 1 >"$TMP/cols" || fail "tcpdwell --columns failed"
head=$(sed -n 2p "$TMP/cols" | tr -s ' ')
[ "$head" = "PEER OWNER STATE" ] || fail "--columns peer,owner,state gave header '$head'"
grep -qE '^0\.0\.0\.0:\* +[0-9]+/holdstate +LISTEN$' "$TMP/cols" ||
    { cat "$TMP/cols"; fail "--columns rows not in the order asked"; }
pass "columns: one table, documented, chosen and ordered by --columns"
