#!/bin/bash
# Proves: --svg draws, at the scenario's end, a well-formed self-contained
# SVG that rsvg-convert renders, holding lost-last-ack's story: the server's
# LAST_ACK, its retransmitted FIN, the lost ACKs and the client's TIME_WAIT,
# and a bar per socket; a FIFO where the picture should go is refused.
. "$TOP_SRCDIR/tests/scenario_net_common.sh"
need_cmd xmllint
need_cmd rsvg-convert


svg="$TMP/lost-last-ack.svg"
rc=0
timeout -k 5 60 "$TCPDWELL" --scenario lost-last-ack -b --svg "$svg" >"$TMP/run.out" 2>&1 || rc=$?
cat "$TMP/run.out"
[ "$rc" = 0 ] || fail "lost-last-ack --svg: status $rc"
grep -q "ladder and timeline drawn in $svg" "$TMP/run.out" || fail "no word of the SVG"
xmllint --noout "$svg" || fail "the SVG is not well-formed XML"
if grep -Eq '(href|src)="(https?:|//)' "$svg"; then fail "the SVG fetches something"; fi
rsvg-convert -o "$TMP/x.png" "$svg" || fail "rsvg-convert cannot render the SVG"
[ -s "$TMP/x.png" ] || fail "rsvg-convert rendered nothing"
for want in '>LAST_ACK<' '>TIME_WAIT<' 'FIN,ACK 1:2 retransmission<' 'ACK 2:2 lost<' \
    '>ACK 2:2<' 'class="actor"[^>]*>server<' 'class="actor"[^>]*>client<' '<rect [^>]*><title>LAST_ACK from'; do
    grep -Eq -- "$want" "$svg" || fail "the SVG lacks /$want/"
done
# The story in order: LAST_ACK, then a retransmitted FIN, then the ACK that got through.
order=$(grep -oE '>(LAST_ACK|FIN,ACK 1:2 retransmission|ACK 2:2)<' "$svg" | uniq | tr -d '<>' | tr '\n' '|')
case $order in
LAST_ACK\|*"FIN,ACK 1:2 retransmission|ACK 2:2|"*) ;;
*) fail "the ladder's order: $order" ;;
esac
pass "lost-last-ack drawn as SVG"

# A FIFO where the picture should go is refused, never opened (nor hung on).
mkfifo "$TMP/fifo.svg"
rc=0
timeout -k 5 60 "$TCPDWELL" --scenario normal-close -b --svg "$TMP/fifo.svg" >"$TMP/fifo.out" 2>&1 || rc=$?
[ "$rc" = 2 ] || { cat "$TMP/fifo.out"; fail "--svg onto a FIFO: status $rc, want 2"; }
grep -q "cannot write SVG '$TMP/fifo.svg': not a regular file" "$TMP/fifo.out" ||
    fail "--svg onto a FIFO: no reason given"
[ -p "$TMP/fifo.svg" ] || fail "the FIFO was replaced"
ls "$TMP"/fifo.svg.* 2>/dev/null && fail "a temporary file was left beside it"
pass "a FIFO in the way is refused"
