#!/bin/bash
# Proves that the event fields are described once: the CSV header, the keys
# of a JSON event (in order) and the fields tcpdwell(1) lists under EVENT
# FIELDS are the same names in the same order (netns aside: it comes only
# with --netns, last).
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
[ -x "$HOLDSTATE" ] || skip "the holdstate helper is not built"
need_cmd jq

# first_event FORMAT: tcpdwell -e -c 1 in FORMAT, new listeners opened until it
# has reported an event (any: it need not be theirs).
has_event() { [ "$(wc -l <"$2")" -ge "$([ "$1" = csv ] && echo 2 || echo 1)" ]; }
first_event() {
    local out="$TMP/ev.$1" p seen=
    "$TCPDWELL" -e --format "$1" -d 0.1 -c 1 >"$out" 2>"$out.err" &
    local pid=$!
    for p in $(seq 6001 6010); do
        "$HOLDSTATE" listen "$p" 300 >"$TMP/hold-$1-$p" 2>&1 &
        wait_until 1 has_event "$1" "$out" && { seen=1; break; }
    done
    [ -n "$seen" ] || { cat "$out" "$out.err"; fail "$1: no event"; }
    wait_until 10 sh -c "! kill -0 $pid 2>/dev/null" || fail "$1: -c 1 did not end"
}

man=$(sed -n '/^\.SH EVENT FIELDS/,/^\.SH /p' "$TOP_SRCDIR/man/tcpdwell.1" |
    awk '/^\.TP/ { t = 1; next } t && /^\.BR? / { print; } { t = 0 }' |
    sed -E 's/^\.BR? //; s/"?, "? ?/ /g; s/"//g' | tr ' ' '\n' | grep -v '^$' | grep -vx netns)
[ "$(wc -l <<<"$man")" -ge 12 ] || fail "EVENT FIELDS lists too few: $man"

first_event csv
csv=$(head -1 "$TMP/ev.csv" | tr ',' '\n')
[ "$csv" = "$man" ] || fail "CSV header '$(echo $csv)' is not EVENT FIELDS '$(echo $man)'"

first_event json
json=$(head -1 "$TMP/ev.json" | jq -r 'keys_unsorted[]')
[ "$json" = "$man" ] || fail "JSON keys '$(echo $json)' are not EVENT FIELDS '$(echo $man)'"
pass "CSV header, JSON keys and tcpdwell(1) EVENT FIELDS agree"
