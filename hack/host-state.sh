#!/usr/bin/env bash
# Prints what a real node may change on this host, one fact per line, for a before/after
# comparison (test/host/): network links, nftables tables, iptables and ip6tables chains and rules,
# mounts, top-level cgroups, the sysctls the node sets, br_netfilter, the host directories it may
# create (/var/log/containers among them), and
# processes that refer to the node's state directory.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
ip -o link show | awk -F': ' '{sub(/@.*/, "", $2); print "link", $2}'
nft list tables 2>/dev/null | sed 's/^/nft /'
for cmd in iptables-save ip6tables-save; do
  "$cmd" 2>/dev/null | grep -E '^(\*|:|-A)' | sed -e 's/ \[[0-9]*:[0-9]*\]$//' -e "s/^/$cmd /"
done
findmnt -rn -o TARGET | sort | sed 's/^/mount /'
for h in /sys/fs/cgroup/*/; do
  find "$h" -mindepth 1 -maxdepth 1 -type d | sort | sed 's/^/cgroup /'
done
for s in $NODE_SYSCTLS; do echo "sysctl $s=$(sysctl -n "$s" 2>/dev/null)"; done
[ -d /proc/sys/net/bridge ] && echo "module br_netfilter"
for d in $NODE_HOST_DIRS; do [ -e "$d" ] && echo "path $d"; done
for p in /proc/[0-9]*; do
  { tr '\0' ' ' < "$p/cmdline"; } 2>/dev/null | grep -q -- "$NODE_DIR" && echo "process $({ tr '\0' ' ' < "$p/cmdline"; } 2>/dev/null)"
done
exit 0
