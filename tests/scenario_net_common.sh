# scenario_net_common.sh - sourced by the tests of scenarios that drop
# segments or set TCP sysctls. Those run only in a network namespace of their
# own (never on the host's rules or settings), so they need root and nft; the
# tests skip without.
. "$TOP_SRCDIR/tests/scenario_common.sh"
need_root
need_cmd unshare
unshare -n true 2>/dev/null || skip "cannot make a network namespace here"
[ -x /usr/sbin/nft ] || [ -x /sbin/nft ] || [ -x /usr/local/sbin/nft ] || [ -x /usr/bin/nft ] ||
    skip "needs nft (Debian's package nftables)"

# out_has NAME TEXT: the run's output holds TEXT (a fixed string).
out_has() { grep -qF -- "$2" "$TMP/$1.out" || fail "$1: no line with: $2"; }
