#!/usr/bin/env bash
# Stops every process cluster-up.sh started (by pid) and removes the cluster's state.
#   --keep-logs   keep .cluster/logs for a post-mortem
set -uo pipefail
LOG_PREFIX=cluster
source "$(dirname "$0")/lib.sh"
RUN=$CLUSTER_DIR/run
keep_logs=false; [ "${1:-}" = --keep-logs ] && keep_logs=true

# The real node first: its teardown still uses the API server, and it undoes host changes.
bash "$HACK_DIR/real-node-down.sh" "$@"
if [ -f "$RUN/pids" ]; then
  # Reverse start order: kwok, scheduler, controller-manager, apiserver, etcd.
  tac "$RUN/pids" | while read -r name pid; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
      log "stopped $name (pid $pid)"
    fi
  done
fi
rm -rf "$RUN" "$CLUSTER_DIR/pki" "$CLUSTER_DIR/kubeconfig"
$keep_logs || rm -rf "$CLUSTER_DIR/logs"
log "cluster is down"
