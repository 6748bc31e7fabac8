# lib.sh - sourced by the shell tests: skipping, failing, waiting with a
# deadline, a private network namespace, cleanup of what a test started.
# Automake's harness reads the exit status: 0 pass, 77 skip, else fail.

: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
: "${TCPDWELL:=$TOP_BUILDDIR/src/tcpdwell}"
HOLDSTATE="$TOP_BUILDDIR/tests/helpers/holdstate"
export LC_ALL=C.UTF-8

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "PASS: $*"; }
need_root() { [ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"; }
need_cmd() { command -v "$1" >/dev/null 2>&1 || skip "needs $1"; }

# A scratch directory removed at exit, and background jobs killed at exit.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tcpdwell-test.XXXXXX")
_cleanup_cmds=""
at_exit() { _cleanup_cmds="$*; $_cleanup_cmds"; }
_cleanup() {
    eval "$_cleanup_cmds"
    jobs -p | xargs -r kill 2>/dev/null
    wait 2>/dev/null
    rm -rf "$TMP"
}
trap _cleanup EXIT

# now_ms: monotonic enough for deadlines.
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# wait_until SECONDS COMMAND...: run COMMAND every 50 ms until it succeeds;
# return 1 when the deadline passes first.
wait_until() {
    local limit_ms end
    limit_ms=$(awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }')
    shift
    end=$(( $(now_ms) + limit_ms ))
    until "$@"; do
        [ "$(now_ms)" -lt "$end" ] || return 1
        sleep 0.05
    done
}

# in_netns "$@": re-run this test as root inside a private network namespace
# with loopback up, so that its sockets are the only ones there.
in_netns() {
    if [ -z "${TCPDWELL_IN_NETNS:-}" ]; then
        need_root
        need_cmd unshare
        need_cmd ip
        TCPDWELL_IN_NETNS=1 exec unshare -n -- /bin/bash "$0" "$@"
    fi
    ip link set lo up || fail "cannot bring loopback up in the namespace"
}

# ss_states: "STATE local peer" lines from ss for comparison, sorted.
ss_states() {
    ss -tanH "$@" | awk '{ print $1, $4, $5 }' | sort
}
