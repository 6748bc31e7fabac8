#!/bin/bash
# Proves, on the real binary in tmux and checked with ss: K on a selected
# ESTABLISHED socket asks for a confirmation naming it; n leaves every socket;
# y destroys that socket and leaves the other connection and the listeners
# (its own peer goes too: the kernel resets it, as with ss -K); F9 offers
# SIGTERM first for the owner, and Enter ends that process; without
# CAP_NET_ADMIN and in a replay both keys are refused with their reasons, F9
# when the owner is unknown (tcpdwell as another user); on
# a group's header the prompt says how many, and y destroys them all; a
# socket of another namespace (--netns all) is named with it and destroyed.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/view_lib.sh"
need_cmd ss
need_cmd setpriv

# has TUPLE: ss lists a TCP socket with that local and peer address.
has() { ss -tanH | awk '{ print $4 " " $5 }' | grep -qxF -- "$1"; }
# others: every socket but those of the first connection, as ss lists them.
others() { ss -tanH | awk '{ print $1, $4, $5 }' | grep -vF -- "$C1_LOCAL" | sort; }
# ended PID: the process has exited (a zombie of ours counts).
ended() { [ ! -e "/proc/$1" ] || [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]; }

hold established 5301
C1_LOCAL=$HELD_LOCAL C1_PEER=$HELD_PEER
hold established 5302
C2_LOCAL=$HELD_LOCAL C2_PEER=$HELD_PEER
# Its process, as ss tells it ($! is the last process substitution's here).
C2_PID=$(ss -tanpH | awk -v a="$C2_LOCAL" '$4 == a || $5 == a' | grep -oE 'pid=[0-9]+' | head -n1)
C2_PID=${C2_PID#pid=}
[ -n "$C2_PID" ] || { ss -tanp; fail "no process for the second connection"; }
has "$C1_LOCAL $C1_PEER" || { ss -tan; fail "first connection not held"; }
others >"$TMP/others.before"

# chosen: the "LOCAL PEER" the destroy prompt names.
chosen() { screen | sed -nE 's/^Destroy ESTABLISHED ([^ ]+) > ([^ ]+)\? y\/N.*/\1 \2/p'; }
# select_local ADDR: the search puts the selection on a row of a connection with ADDR.
select_local() {
    keys -l /
    text "$1 "
    keys Enter
    expect_not "search prompt closed" "^Search:"
}

view_start 160 40 -d 0.2
expect "view up" "$C1_LOCAL"
select_local "$C1_LOCAL"
keys K
# Either end of the connection may come first in the table; the prompt says which.
C1="($C1_LOCAL > $C1_PEER|$C1_PEER > $C1_LOCAL)"
expect "confirmation names the socket" "^Destroy ESTABLISHED $C1\? y/N"
keys n
expect "cancelled" "nothing destroyed"
has "$C1_LOCAL $C1_PEER" || fail "n destroyed the socket"
has "$C2_LOCAL $C2_PEER" || fail "n destroyed another socket"

select_local "$C1_LOCAL"
keys K
expect "confirmation again" "^Destroy ESTABLISHED $C1\? y/N"
CHOSEN=$(chosen)
[ -n "$CHOSEN" ] && has "$CHOSEN" || { screen; ss -tan; fail "the prompt names no socket ss lists"; }
keys y
expect "destroyed" "destroyed ESTABLISHED ${CHOSEN/ / > }"
wait_until 10 eval '! has "$CHOSEN"' || { ss -tan; fail "the chosen socket $CHOSEN is still there"; }
others >"$TMP/others.after"
diff "$TMP/others.before" "$TMP/others.after" || fail "destroy touched another socket"

# The signal menu: SIGTERM first, for the owner the OWNER column names.
select_local "$C2_LOCAL"
keys F9
expect "signal menu names the process" "^Send SIGTERM to $C2_PID/holdstate\?"
keys Escape
expect "signal cancelled" "no signal sent"
kill -0 "$C2_PID" 2>/dev/null && ! ended "$C2_PID" || fail "Esc signalled the process"
select_local "$C2_LOCAL"
keys F9
expect "signal menu again" "^Send SIGTERM to $C2_PID/holdstate\?"
keys Enter
expect "sent" "sent SIGTERM to $C2_PID/holdstate"
wait_until 10 ended "$C2_PID" || fail "holdstate $C2_PID did not end on SIGTERM"
keys q
expect "quit" "EXITED=0"
view_stop

# Without CAP_NET_ADMIN the kernel refuses, and the view says why.
hold established 5303
C3_LOCAL=$HELD_LOCAL C3_PEER=$HELD_PEER
cat >"$TMP/nocap" <<EOF
#!/bin/sh
exec setpriv --bounding-set=-net_admin -- $(printf '%q' "$TCPDWELL") "\$@"
EOF
chmod +x "$TMP/nocap"
REAL=$TCPDWELL TCPDWELL=$TMP/nocap
view_start 160 40 -d 0.2
TCPDWELL=$REAL
expect "unprivileged view up" "$C3_LOCAL"
select_local "$C3_LOCAL"
keys K
expect "confirmation" "^Destroy ESTABLISHED ($C3_LOCAL > $C3_PEER|$C3_PEER > $C3_LOCAL)\? y/N"
keys y
expect "refused without the privilege" "not destroyed: permission denied \(needs CAP_NET_ADMIN\)"
has "$C3_LOCAL $C3_PEER" || fail "destroyed without CAP_NET_ADMIN"
view_stop

# Another user's tcpdwell cannot see who owns a root's socket: F9 says so,
# and K is refused as without the privilege.
printf '#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups -- %q "$@"\n' "$TCPDWELL" >"$TMP/nobody"
chmod +x "$TMP/nobody"
TCPDWELL=$TMP/nobody VIEW_ENV="HOME=$TMP"
view_start 160 40 -d 0.2
TCPDWELL=$REAL VIEW_ENV=
expect "view as nobody up" "$C3_LOCAL"
select_local "$C3_LOCAL"
keys F9
expect "unknown owner refused" "no signal sent: the owner of that socket is unknown"
keys K
expect "confirmation as nobody" "^Destroy ESTABLISHED ($C3_LOCAL > $C3_PEER|$C3_PEER > $C3_LOCAL)\? y/N"
keys y
expect "refused as nobody" "not destroyed: permission denied \(needs CAP_NET_ADMIN\)"
has "$C3_LOCAL $C3_PEER" || fail "nobody destroyed a socket"
view_stop

# A group's header: the prompt says how many, y destroys them all.
view_start 160 40 -d 0.2
expect "view up again" "$C3_LOCAL"
keys Home
expect "the group's header selected" "Destroy|▾ ESTABLISHED +2 "
keys K
expect "group confirmation says how many" "^Destroy all 2 ESTABLISHED sockets of this group\? y/N"
keys y
expect "group destroyed" "destroyed [12] sockets \([01] gone meanwhile\)"
wait_until 10 eval '! has "$C3_LOCAL $C3_PEER" && ! has "$C3_PEER $C3_LOCAL"' ||
    { ss -tan; fail "the group's sockets are still there"; }
view_stop

# A socket of another namespace: the prompt names it, and the request goes
# over that namespace's own diag socket.
need_cmd ip
A=tdw-act-$$
at_exit "ip netns del $A 2>/dev/null"
ip netns add "$A" || fail "ip netns add $A"
ip -n "$A" link set lo up || fail "cannot bring loopback up in $A"
ip netns exec "$A" "$HOLDSTATE" established 5304 300 >"$TMP/hold-a" 2>&1 &
wait_until 10 grep -q '^ready' "$TMP/hold-a" || { cat "$TMP/hold-a"; fail "holdstate in $A not ready"; }
read -r _ A_LOCAL A_PEER < <(grep '^ready' "$TMP/hold-a")
has_in_a() { ip netns exec "$A" ss -tanH | awk '{ print $4 " " $5 }' | grep -qxF -- "$1"; }
view_start 160 40 -d 0.2 --netns all
expect "namespaces watched" "$A +$A_LOCAL|$A +$A_PEER"
select_local "$A_LOCAL"
keys K
expect "prompt names the namespace" "^Destroy ESTABLISHED ($A_LOCAL > $A_PEER|$A_PEER > $A_LOCAL) in netns $A\? y/N"
CHOSEN=$(screen | sed -nE 's/^Destroy ESTABLISHED ([^ ]+) > ([^ ]+) in netns .*/\1 \2/p')
has_in_a "$CHOSEN" || { ip netns exec "$A" ss -tan; fail "the prompt names no socket of $A"; }
keys y
expect "destroyed in $A" "destroyed ESTABLISHED ${CHOSEN/ / > }"
wait_until 10 eval '! has_in_a "$CHOSEN"' || { ip netns exec "$A" ss -tan; fail "$CHOSEN still in $A"; }
view_stop

# A replay has no live sockets or processes to act on.
"$TCPDWELL" -b -d 0.2 -c 3 -w "$TMP/rec.tcpd" >/dev/null 2>"$TMP/rec.err" ||
    { cat "$TMP/rec.err"; fail "recording failed"; }
view_start 160 40 -r "$TMP/rec.tcpd"
expect "replay up" "^ REPLAY"
keys K
expect "destroy refused in a replay" "cannot destroy sockets in a replay"
keys F9
expect "signal refused in a replay" "cannot signal processes in a replay"
pass "destroy removes the chosen socket only, signals reach the owner, refusals say why"
