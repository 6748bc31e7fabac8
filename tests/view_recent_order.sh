#!/bin/bash
# view_recent_order.sh - proves, on the real binary in tmux at 120x40, that
# under a light churn (15 connections a second in each namespace, so that
# the seven lines of the pane span more than one dump) the pane of recent
# transitions lists them in time order (newest first: each line's time at
# or before the one above) and, with --netns all and with --netns NAME,
# names each one's namespace. Every screen read while the churn runs is
# checked, not only one. A dump tells late what it found and a destroy
# notice of a socket never seen is told at the next dump: without the
# ordering a TIME_WAIT the dump found sat above the older ends it told.
. "$TOP_SRCDIR/tests/lib.sh"
in_netns "$@"
. "$TOP_SRCDIR/tests/view_lib.sh"
need_cmd ip
CHURN="$TOP_BUILDDIR/tests/helpers/churn"
[ -x "$CHURN" ] || fail "helper $CHURN not built"

B=tdw-order-$$
at_exit "ip netns del $B 2>/dev/null"
ip netns add "$B" || fail "ip netns add $B"
ip -n "$B" link set lo up || fail "cannot bring loopback up in $B"
VIEW_ENV="TZ=UTC"

# pane: the pane's lines of transitions, as on screen now.
pane() { screen | sed -n '/Recent transitions/,$p' | grep -E '^ [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} '; }

# check_pane PORT=NS...: one screen read; fails on a line out of order, or
# on a line of a churn's PORT that does not name its namespace NS right
# after the time (--netns all sees other namespaces on the box too: their
# lines count for the order only); true when it has five lines or more,
# among them one of each PORT.
check_pane() {
    local p spec
    p=$(pane)
    [ -n "$p" ] || return 1
    if ! awk '{ print $1 }' <<<"$p" | LC_ALL=C sort -c -r 2>/dev/null; then
        echo "$p"
        fail "the pane lists a transition above one that came later"
    fi
    for spec in "$@"; do
        if awk -v port="${spec%%=*}" -v ns="${spec#*=}" \
            '$0 ~ ":" port "( |$)" && $2 != ns { bad = 1 } END { exit !bad }' <<<"$p"; then
            echo "$p"
            fail "a line of port ${spec%%=*} does not name its namespace ${spec#*=}"
        fi
    done
    [ "$(wc -l <<<"$p")" -ge 5 ] || return 1
    for spec in "$@"; do
        grep -qE ":${spec%%=*}( |$)" <<<"$p" || return 1
    done
}

# churn_under NAME PORT SPEC...: a churn in namespace NAME on PORT, the pane
# checked (check_pane SPEC...) at every read while it runs, then until it is
# full.
churn_under() {
    local ns=$1 port=$2 cpid
    shift 2
    ip netns exec "$ns" "$CHURN" 127.0.0.1 "$port" 60 4 >/dev/null &
    cpid=$!
    full=""
    while kill -0 $cpid 2>/dev/null; do
        check_pane "$@" && full=1
        sleep 0.1
    done
    wait $cpid || fail "the churn in $ns failed"
    [ -n "$full" ] || wait_until 10 check_pane "$@" ||
        { screen; fail "the pane never showed five transitions of $*"; }
}

view_start 120 40 -d 0.2 --netns all
expect "header" "netns all: [0-9]+ namespaces"
# Both namespaces at once: their transitions interleave in the pane.
"$CHURN" 127.0.0.1 7101 60 4 >/dev/null &
churn_under "$B" 7102 7101=self 7102="$B"
view_stop

view_start 120 40 -d 0.2 --netns "$B"
expect "header with one" "netns $B "
churn_under "$B" 7103 7103="$B"
pass "the pane lists transitions in time order, each with its namespace"
