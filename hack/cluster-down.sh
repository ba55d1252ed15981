#!/usr/bin/env bash
# Stops every process cluster-up.sh started (by pid) and removes the cluster's state.
#   --keep-logs   keep .cluster/logs for a post-mortem
set -uo pipefail
LOG_PREFIX=cluster
source "$(dirname "$0")/lib.sh"
RUN=$CLUSTER_DIR/run
keep_logs=false; [ "${1:-}" = --keep-logs ] && keep_logs=true

# The real node first: its teardown still uses the API server, and it undoes host changes.
node_rc=0
bash "$HACK_DIR/real-node-down.sh" "$@" || node_rc=$?
if [ -f "$RUN/pids" ]; then
  # Reverse start order: kwok, scheduler, controller-manager, apiserver, etcd; each only while its
  # pid is still the process started then (same start time).
  tac "$RUN/pids" | while read -r name pid pstart; do stop_process "$name" "$pid" "$pstart"; done
fi
rm -rf "$RUN" "$CLUSTER_DIR/pki" "$CLUSTER_DIR/kubeconfig"
$keep_logs || rm -rf "$CLUSTER_DIR/logs"
[ "$node_rc" -eq 0 ] || die "the control plane is stopped, but the real node's teardown failed (above): the host may not be restored; fix that and run npm run cluster:down again"
log "cluster is down"
