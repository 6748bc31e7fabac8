#!/bin/bash
# Proves on the real binary in tmux: the table's column widths stay put while
# the rows scroll. A listener on a long IPv6 address widens the address
# columns once it is on screen; scrolling it out of sight again leaves the
# column titles where they were.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/view_lib.sh"
need_cmd python3

LONG=fd00:1234:5678:9abc:def0:1234:5678:9abc
ip -6 addr add "$LONG/128" dev lo nodad 2>/dev/null || skip "cannot add an IPv6 address"
python3 -c "
import socket, time
s = socket.socket(socket.AF_INET6)
s.bind(('$LONG', 6401)); s.listen(); print('ready', flush=True); time.sleep(300)
" >"$TMP/long" 2>&1 &
wait_until 10 grep -q '^ready' "$TMP/long" || { cat "$TMP/long"; fail "the IPv6 listener did not start"; }
# Enough IPv4 rows below it to scroll it off a short screen.
for p in $(seq 6410 6429); do hold listen "$p"; done

view_start 120 16 -d 0.2
col() { screen | grep -m1 'DWELL' | awk '{ print index($0, "PEER") }'; }
# IPv6 sorts after IPv4: the long address is the last row, off screen at first.
expect "the first rows" "127\\.0\\.0\\.1:6410"
keys End
expect "scrolled to the long address (cut in its middle)" "\\[fd00:1234.*:6401 "
wide=$(col)
[ "$wide" -gt 0 ] || { screen; fail "no PEER title"; }
keys Home
expect "back at the top" "127\\.0\\.0\\.1:6410"
lacks "\\[fd00:1234" || { screen; fail "the long address still on screen: nothing scrolled"; }
back=$(col)
[ "$back" = "$wide" ] || { screen; fail "PEER moved from column $wide to $back on scrolling back"; }
pass "widths stay while scrolling"
