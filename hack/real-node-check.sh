#!/usr/bin/env bash
# Can this host run a real node (hack/real-node-up.sh)? Exits 1 naming everything that is
# missing: a run on such a host must fail with the reason, never skip the real-node tests.
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
[ -d /proc/sys/net/bridge ] || modprobe br_netfilter 2>/dev/null || [ -d /proc/sys/net/bridge ] || missing+=("br_netfilter (/proc/sys/net/bridge)")
[ ${#missing[@]} -eq 0 ] || die "this host cannot run a real node; missing: $(IFS=';'; echo "${missing[*]}")"
