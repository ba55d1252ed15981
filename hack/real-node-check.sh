#!/usr/bin/env bash
# Can this host run a real node (hack/real-node-up.sh)? Exits 1 naming everything that is
# missing: a run on such a host must fail with the reason, never skip the real-node tests.
# Then refuses to start, naming each one and how to remove it, when anything the node would create
# or take over already exists (so the teardown removes only what this node made), or when
# another proxy's state exists that kube-proxy would wipe at start-up (its iptables/IPVS clean-up).
#   GAFFER_CGROUP_ROOT   where cgroups are mounted (default /sys/fs/cgroup; tests override it)
set -uo pipefail
LOG_PREFIX=real-node
source "$(dirname "$0")/lib.sh"
CG=${GAFFER_CGROUP_ROOT:-/sys/fs/cgroup}
missing=()
[ "$(id -u)" = 0 ] || missing+=("root (kubelet, containerd and the bridge need it)")
if [ -f "$CG/cgroup.controllers" ]; then
  for c in cpu memory pids; do grep -qw "$c" "$CG/cgroup.controllers" || missing+=("cgroup v2 controller $c"); done
else
  for c in cpu cpuacct memory pids devices freezer cpuset; do
    [ -d "$CG/$c" ] || missing+=("cgroup v1 hierarchy $CG/$c")
  done
fi
grep -qw overlay /proc/filesystems || missing+=("overlayfs (containerd's snapshotter)")
if ip link add gaffer-probe0 type bridge 2>/dev/null; then
  ip link del gaffer-probe0
else
  missing+=("Linux bridges (ip link add type bridge failed)")
fi
nft list tables >/dev/null 2>&1 || missing+=("nftables (nft list tables failed; kube-proxy runs in nftables mode)")
# Loaded by real-node-up.sh (and unloaded by the teardown if it loaded it); here only whether it can be.
[ -d /proc/sys/net/bridge ] || modprobe -n br_netfilter 2>/dev/null || missing+=("br_netfilter (/proc/sys/net/bridge)")
[ ${#missing[@]} -eq 0 ] || die "this host cannot run a real node; missing: $(IFS=';'; echo "${missing[*]}")"

in_use=()
ip link show "$NODE_BRIDGE" >/dev/null 2>&1 && in_use+=("the bridge $NODE_BRIDGE (ip link del $NODE_BRIDGE)")
dev=$(ip -o -4 addr show 2>/dev/null | awk -v a="$NODE_IP" 'index($4, a "/") == 1 {print $2}' | head -1)
[ -z "$dev" ] || in_use+=("the address $NODE_IP on $dev (ip addr del $NODE_IP dev $dev)")
for t in "ip kube-proxy" "ip6 kube-proxy" "inet $NODE_NFT_TABLE"; do
  # shellcheck disable=SC2086 # family and name
  nft list table $t >/dev/null 2>&1 && in_use+=("the nftables table $t (nft delete table $t)")
done
for d in $NODE_HOST_DIRS; do
  [ -e "$d" ] && in_use+=("$d (rm -rf $d, if nothing else uses it)")
done
# kube-proxy (nftables mode) runs the iptables and IPVS proxiers' clean-up at start-up: it would
# delete another kube-proxy's or kubelet's KUBE-* chains and every IPVS virtual service.
for cmd in iptables ip6tables; do
  chains=$("$cmd-save" 2>/dev/null | awk '/^\*/{t=substr($1, 2)} /^:KUBE-/{printf "%s %s/%s, ", c, t, substr($1, 2)}' c="$cmd")
  [ -z "$chains" ] || in_use+=("KUBE-* chains of another proxy or kubelet: ${chains%, } (stop their owner; or $cmd -t <table> -F/-X <chain>)")
done
if [ -r /proc/net/ip_vs ]; then
  services=$(awk '$1 ~ /^(TCP|UDP|SCTP|FWM)$/ {printf "%s %s, ", $1, $2}' /proc/net/ip_vs)
  [ -z "$services" ] || in_use+=("IPVS virtual services: ${services%, } (stop their owner; or ipvsadm -C)")
fi
[ ${#in_use[@]} -eq 0 ] || die "refusing to start a real node: these exist already, and a real node would take them over or wipe them: $(printf '%s; ' "${in_use[@]}")"
