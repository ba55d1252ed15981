#!/usr/bin/env bash
# Removes the real node (hack/real-node-up.sh) and undoes every host change it made, by name:
# its processes (by pid and start time) and containers, mounts under its state directory and the host
# directories it created, the nftables tables it recorded, the iptables chains, the bridge, cgroups,
# sysctls, br_netfilter if it loaded it, and the host directories it created. Exits 1 if a change
# could not be undone. Called by
# cluster-down.sh; safe to run twice.
#   --keep-logs   keep the logs (they live in the control plane's logs directory)
set -uo pipefail
LOG_PREFIX=real-node
source "$(dirname "$0")/lib.sh"
RUN=$NODE_DIR/run HOST=$NODE_DIR/host
SOCK=$NODE_DIR/containerd/containerd.sock
[ -d "$NODE_DIR" ] || exit 0

entry_of() { awk -v n="$1" '$1==n{print $2, $3}' "$RUN/pids" 2>/dev/null | tail -1; } # pid start-time
rc=0

# 1. kubelet first (it would restart containers), then the host-side services.
# Each by its recorded pid, only while that pid is still the process started (lib.sh is_ours).
for name in kubelet kube-proxy coredns api-forwarder; do
  read -r pid pstart <<< "$(entry_of "$name")"
  [ -z "$pid" ] || stop_process "$name" "$pid" "$pstart"
done

# Our shims, found through the bundle directories under our containerd's state directory, read now
# (deleting a task removes its bundle): a bundle's shim.pid if the shim wrote one (newer
# containerd), else the parent of the task's process (init.pid; Debian's containerd 1.6/1.7 write
# no shim.pid). Kept, with its start time, only if it is a shim of our socket.
shims=()
for b in "$NODE_DIR"/containerd/state/io.containerd.runtime.v2.task/*/*/; do
  pid=$(cat "$b/shim.pid" 2>/dev/null) \
    || pid=$(awk '/^PPid:/{print $2}' "/proc/$(cat "$b/init.pid" 2>/dev/null)/status" 2>/dev/null) || continue
  [ -n "$pid" ] || continue
  if { tr '\0' ' ' < "/proc/$pid/cmdline"; } 2>/dev/null | grep -q -- "-address $SOCK "; then
    shims+=("$pid $(proc_start "$pid")")
  fi
done

# 2. Every container and sandbox, through containerd while it still runs: kill, delete.
read -r ctd_pid ctd_start <<< "$(entry_of containerd)"
if [ -n "$ctd_pid" ] && is_ours "$ctd_pid" "$ctd_start"; then
  ctr() { command ctr -a "$SOCK" -n k8s.io "$@"; }
  for id in $(ctr tasks ls -q 2>/dev/null); do ctr tasks kill -s SIGKILL "$id" >/dev/null 2>&1; done
  for id in $(ctr tasks ls -q 2>/dev/null); do
    for _ in $(seq 50); do ctr tasks delete "$id" >/dev/null 2>&1 && break; sleep 0.1; done
  done
  for id in $(ctr containers ls -q 2>/dev/null); do ctr containers rm "$id" >/dev/null 2>&1; done
  stop_process containerd "$ctd_pid" "$ctd_start"
fi
# A shim outlives containerd by design: those still running (read before, above) are stopped.
for entry in "${shims[@]}"; do
  # shellcheck disable=SC2086 # pid start-time
  stop_process containerd-shim $entry
done

# 3. Mounts: kubelet's bind mount of its root dir, volumes, container rootfs, netns files.
# Deepest first; -l because a netns file may still be held by a dying process.
# Only under our state directory and the host directories this node created (recorded by up).
created=$(cat "$HOST/dirs-created" 2>/dev/null)
mine="$NODE_DIR${created:+|$(echo "$created" | paste -sd'|')}"
for m in $(findmnt -rn -o TARGET | { grep -E "^($mine)(/|$)" || true; } | sort -r); do
  umount -l "$m" && log "unmounted $m"
done

# 4. Netfilter: kube-proxy's nftables tables, then the iptables chains that were not there before.
# Only the tables up recorded (real-node-check.sh refused to start if one of them existed).
while read -r fam table; do
  [ -n "$table" ] || continue
  nft list table "$fam" "$table" >/dev/null 2>&1 && nft delete table "$fam" "$table" && log "deleted nft table $fam $table"
done < <(cat "$HOST/nft-tables" 2>/dev/null)
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
# the shims' sockets and runc's state, kubelet's /var/log/containers links).
# Only those up recorded as absent before (real-node-check.sh refused to start if one existed).
while read -r d; do
  [ -n "$d" ] && [ -e "$d" ] && rm -rf "$d" && log "removed $d"
done < <(cat "$HOST/dirs-created" 2>/dev/null)

# 9. br_netfilter, if up loaded it (after the sysctls: its own go with it).
if grep -qx br_netfilter "$HOST/modules" 2>/dev/null && [ -d /proc/sys/net/bridge ]; then
  modprobe -r br_netfilter && log "unloaded br_netfilter" || { log "error: could not unload br_netfilter (modprobe -r br_netfilter)"; rc=1; }
fi

if findmnt -rn -o TARGET | grep -q "^$NODE_DIR/"; then
  die "mounts remain under $NODE_DIR; not removing it (findmnt | grep $NODE_DIR)"
fi
rm -rf "$NODE_DIR"
[ "${1:-}" = --keep-logs ] || rm -f "$CLUSTER_DIR"/logs/{containerd,kubelet,kube-proxy,coredns,api-forwarder}.log
[ "$rc" -eq 0 ] || die "real node removed, but not every host change was undone (above)"
log "real node removed; host restored"
