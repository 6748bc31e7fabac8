#!/bin/bash
# Proves (RELIABILITY.md 18, 34): when the view dies of SIGSEGV, SIGBUS or
# SIGABRT, or is quit with Ctrl-\ (SIGQUIT), the terminal is given back:
# alternate screen off, cursor shown, line editing and echo on; and the
# crash is still reported (tcpdwell dies of that very signal).
. "$TOP_SRCDIR/tests/lib.sh"
. "$TOP_SRCDIR/tests/view_lib.sh"

# crash_view SIGNAL HOW: a view in a pane of its own, ended by SIGNAL, sent
# with kill or (HOW=key) by its key; then the pane's terminal is read back.
crash_view() {
    local sig=$1 how=$2 pid num
    VIEW_N=$((VIEW_N + 1))
    VT="tmux -L tcpdwell-crash-$$-$VIEW_N -f /dev/null"
    at_exit "$VT kill-server 2>/dev/null"
    $VT new-session -d -s v -x 80 -y 24 \
        "env TERM=tmux-256color LC_ALL=C.UTF-8 $(printf '%q' "$TCPDWELL") -d 0.2; \
         echo EXITED=\$?; stty -a | tr '\\n' ' '; echo; sleep 600" || fail "cannot start tmux"
    pid=$($VT display-message -p -t v '#{pane_pid}') && at_exit "kill -KILL -- -$pid 2>/dev/null"
    expect "$sig: view up" "^ tcpdwell "
    [ "$(pane_fmt '#{alternate_on}')" = 1 ] || fail "$sig: the view did not take the alternate screen"
    if [ "$how" = key ]; then
        keys 'C-\'
    else
        pid=$(pgrep -P "$pid" -x tcpdwell) || fail "$sig: no tcpdwell process in the pane"
        kill -"$sig" "$pid"
    fi
    num=$(kill -l "$sig")
    expect "$sig: tcpdwell ended" "EXITED="
    shows "EXITED=$((128 + num))" || { screen; fail "$sig: not reported as a death by $sig"; }
    [ "$(pane_fmt '#{alternate_on}')" = 0 ] || fail "$sig: alternate screen still on"
    [ "$(pane_fmt '#{cursor_flag}')" = 1 ] || fail "$sig: cursor still hidden"
    expect "$sig: stty" "speed"
    shows " icanon " && shows " echo " || { screen; fail "$sig: the terminal was left raw"; }
    $VT kill-server 2>/dev/null
}
crash_view SEGV kill
crash_view BUS kill
crash_view ABRT kill
crash_view QUIT key
pass "SIGSEGV, SIGBUS, SIGABRT and Ctrl-\\ give the terminal back and still report the crash"
