# view_lib.sh - sourced by the view tests after lib.sh: tcpdwell in a private
# tmux server, keys sent to it, its screen read back, held sockets.

need_cmd tmux
[ -x "$HOLDSTATE" ] || skip "the holdstate helper is not built"

# view_start WIDTH HEIGHT ARGS...: tcpdwell ARGS in a pane of that size; when
# it ends the pane shows EXITED=status and stays. Each view has a tmux server
# of its own: a server told to exit goes asynchronously, and a new session
# asked of it in that moment fails with "server exited unexpectedly".
VIEW_N=0
view_start() {
    local w=$1 h=$2 cmd
    shift 2
    VIEW_N=$((VIEW_N + 1))
    VT="tmux -L tcpdwell-view-$$-$VIEW_N -f /dev/null"
    at_exit "$VT kill-server 2>/dev/null"
    cmd="env TERM=tmux-256color LC_ALL=C.UTF-8 ${VIEW_ENV:-} $(printf '%q ' "$TCPDWELL" "$@")"
    $VT new-session -d -s v -x "$w" -y "$h" "$cmd; echo EXITED=\$?; sleep 600" ||
        fail "cannot start tmux"
    # Whatever still runs in the pane when the test ends goes with it, at once:
    # a sanitizer build's exit-time leak check, hung up by kill-server, can
    # otherwise spin on a core for the rest of the suite.
    local pid
    pid=$($VT display-message -p -t v '#{pane_pid}') && at_exit "kill -KILL -- -$pid 2>/dev/null"
}
# view_stop: the current view and its tmux server go.
view_stop() { $VT kill-server 2>/dev/null; }
screen() { $VT capture-pane -p -t v; }
screen_e() { $VT capture-pane -e -p -t v; }
shows() { screen | grep -qE -- "$1"; }
lacks() { ! screen | grep -qE -- "$1"; }
keys() { $VT send-keys -t v "$@"; }
text() { $VT send-keys -t v -l -- "$1"; }
pane_fmt() { $VT display-message -p -t v "$1"; }

# expect WHAT PATTERN / expect_not WHAT PATTERN: wait for the screen, or fail showing it.
expect() {
    wait_until 10 shows "$2" || { screen; fail "$1: /$2/ not on screen"; }
}
expect_not() {
    wait_until 10 lacks "$2" || { screen; fail "$1: /$2/ still on screen"; }
}

# hold RECIPE PORT: a socket held in a state; sets HELD_LOCAL and HELD_PEER.
hold() {
    local out="$TMP/hold-$1-$2"
    "$HOLDSTATE" "$1" "$2" 300 >"$out" 2>&1 &
    wait_until 10 grep -q '^ready' "$out" || { cat "$out"; fail "holdstate $1 not ready"; }
    read -r _ HELD_LOCAL HELD_PEER < <(grep '^ready' "$out")
}

# ss_count STATE: how many sockets ss sees in a state (ss spells them ESTAB, FIN-WAIT-1...).
ss_count() {
    local s
    case $1 in
    ESTABLISHED) s=ESTAB ;;
    *) s=${1//_/-} ;;
    esac
    ss -tanH | awk -v s="$s" '$1 == s' | wc -l
}
