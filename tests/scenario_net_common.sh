# scenario_net_common.sh - sourced by the tests of scenarios that drop,
# capture or check segments, or set TCP sysctls. Those run only in a network
# namespace of their own (never on the host's rules or settings): as root, or
# without root in a user namespace; they also need nft. The tests skip
# where they cannot have both.
. "$TOP_SRCDIR/tests/scenario_common.sh"
need_cmd unshare
if [ "$(id -u)" = 0 ]; then
    unshare -n true 2>/dev/null || skip "cannot make a network namespace here"
else
    unshare -Urn true 2>/dev/null || skip "no root, and unprivileged user namespaces are off"
fi
[ -x /usr/sbin/nft ] || [ -x /sbin/nft ] || [ -x /usr/local/sbin/nft ] || [ -x /usr/bin/nft ] ||
    skip "needs nft (Debian's package nftables)"

# out_has NAME TEXT: the run's output holds TEXT (a fixed string).
out_has() { grep -qF -- "$2" "$TMP/$1.out" || fail "$1: no line with: $2"; }
