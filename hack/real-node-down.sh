#!/usr/bin/env bash
# Removes the real node (hack/real-node-up.sh) and undoes every host change it made, by name:
# its processes (by pid) and containers, mounts under its state directory, the nftables tables and
# iptables chains, the bridge, cgroups, sysctls and host directories it created. Called by
# cluster-down.sh; safe to run twice.
#   --keep-logs   keep the logs (they live in the control plane's logs directory)
set -uo pipefail
LOG_PREFIX=real-node
source "$(dirname "$0")/lib.sh"
RUN=$NODE_DIR/run HOST=$NODE_DIR/host
SOCK=$NODE_DIR/containerd/containerd.sock
[ -d "$NODE_DIR" ] || exit 0

stop_pid() { # name pid
  kill -0 "$2" 2>/dev/null || return 0
  kill -TERM "$2" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$2" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$2" 2>/dev/null && kill -KILL "$2" 2>/dev/null
  log "stopped $1 (pid $2)"
}
pid_of() { awk -v n="$1" '$1==n{print $2}' "$RUN/pids" 2>/dev/null | tail -1; }

# 1. kubelet first (it would restart containers), then the host-side services.
for name in kubelet kube-proxy coredns api-forwarder; do
  pid=$(pid_of "$name"); [ -z "$pid" ] || stop_pid "$name" "$pid"
done

# 2. Every container and sandbox, through containerd while it still runs: kill, delete.
ctd_pid=$(pid_of containerd)
if [ -n "$ctd_pid" ] && kill -0 "$ctd_pid" 2>/dev/null; then
  ctr() { command ctr -a "$SOCK" -n k8s.io "$@"; }
  for id in $(ctr tasks ls -q 2>/dev/null); do ctr tasks kill -s SIGKILL "$id" >/dev/null 2>&1; done
  for id in $(ctr tasks ls -q 2>/dev/null); do
    for _ in $(seq 50); do ctr tasks delete "$id" >/dev/null 2>&1 && break; sleep 0.1; done
  done
  for id in $(ctr containers ls -q 2>/dev/null); do ctr containers rm "$id" >/dev/null 2>&1; done
  stop_pid containerd "$ctd_pid"
fi
# A shim outlives containerd by design; ours are the ones started with our socket's address.
for p in /proc/[0-9]*; do
  if { tr '\0' ' ' < "$p/cmdline"; } 2>/dev/null | grep -q -- "-address $SOCK "; then stop_pid containerd-shim "${p#/proc/}"; fi
done

# 3. Mounts: kubelet's bind mount of its root dir, volumes, container rootfs, netns files.
# Deepest first; -l because a netns file may still be held by a dying process.
for m in $(findmnt -rn -o TARGET | { grep -E "^($NODE_DIR|/run/containerd|/var/lib/kubelet)(/|$)" || true; } | sort -r); do
  umount -l "$m" && log "unmounted $m"
done

# 4. Netfilter: kube-proxy's nftables tables, then the iptables chains that were not there before.
for fam in ip ip6; do
  nft list table "$fam" kube-proxy >/dev/null 2>&1 && nft delete table "$fam" kube-proxy && log "deleted nft table $fam kube-proxy"
done
if [ -f "$HOST/iptables-chains" ]; then
  for cmd in iptables ip6tables; do
    "$cmd-save" 2>/dev/null | awk '/^\*/{t=substr($1, 2)} /^:/{print t, substr($1, 2)}' | while read -r table chain; do
      grep -qx "\*$table $chain" "$HOST/iptables-chains" && continue
      # Jumps into the chain first (from any chain of the table), then the chain itself.
      "$cmd" -t "$table" -S | { grep -- "-j $chain\( \|$\)" || true; } | sed 's/^-A/-D/' | while read -r rule; do
        # shellcheck disable=SC2086 # a rule is words
        "$cmd" -t "$table" $rule
      done
      "$cmd" -t "$table" -F "$chain" 2>/dev/null
      "$cmd" -t "$table" -X "$chain" 2>/dev/null && log "deleted $cmd chain $table/$chain"
    done
  done
fi

# 5. The bridge (the pods' veths went with their network namespaces).
if [ -f "$HOST/bridge" ] && ip link show "$(cat "$HOST/bridge")" >/dev/null 2>&1; then
  ip link del "$(cat "$HOST/bridge")" && log "deleted bridge $(cat "$HOST/bridge")"
fi

# 6. cgroups kubelet and containerd made (kubepods, k8s.io), leaves first, in every hierarchy.
for h in /sys/fs/cgroup /sys/fs/cgroup/*/; do
  for g in kubepods kubepods.slice k8s.io; do
    [ -d "$h/$g" ] || continue
    grep -qx "${h%/}/$g" "$HOST/cgroups-present" 2>/dev/null && continue
    find "$h/$g" -depth -type d -exec rmdir {} + 2>/dev/null
    [ -d "$h/$g" ] && log "warning: could not remove cgroup ${h%/}/$g" || log "removed cgroup ${h%/}/$g"
  done
done

# 7. Sysctls back to their recorded values.
if [ -f "$HOST/sysctls" ]; then
  while IFS='=' read -r key value; do
    [ "$(sysctl -n "$key" 2>/dev/null)" = "$value" ] || { sysctl -qw "$key=$value" && log "restored $key=$value"; }
  done < "$HOST/sysctls"
fi

# 8. Host directories that were not there before (kubelet's device-plugin socket, libcni's cache,
# the shims' sockets and runc's state).
if [ -f "$HOST/dirs-present" ]; then
  for d in $NODE_HOST_DIRS; do
    [ -e "$d" ] && ! grep -qx "$d" "$HOST/dirs-present" && rm -rf "$d" && log "removed $d"
  done
fi

if findmnt -rn -o TARGET | grep -q "^$NODE_DIR/"; then
  die "mounts remain under $NODE_DIR; not removing it (findmnt | grep $NODE_DIR)"
fi
rm -rf "$NODE_DIR"
[ "${1:-}" = --keep-logs ] || rm -f "$CLUSTER_DIR"/logs/{containerd,kubelet,kube-proxy,coredns,api-forwarder}.log
log "real node removed; host restored"
