#!/usr/bin/env bash
# npm run test:real (and the last part of npm test): the end-to-end tests on a real node
# (test/real/), on a control plane of their own with one real node, started and torn down here:
#   snapshot the host (hack/host-state.sh) -> cluster:up --real-node -> mocha test/real
#   -> cluster:down -> test/host checks that the host is exactly as before.
# A host that cannot run a node fails the run with what is missing (real-node-up.sh).
#   GAFFER_REAL_CLUSTER_DIR   state directory (default .cluster-real)
#   GAFFER_REAL_PORT_OFFSET   port offset of that control plane (default 30000, beside the KWOK one)
#   GAFFER_KEEP_CLUSTER=1     leave it running (then the host check is not run: it cannot pass)
set -euo pipefail
cd "$(dirname "$0")/.."
LOG_PREFIX=test-real
export GAFFER_CLUSTER_DIR=${GAFFER_REAL_CLUSTER_DIR:-$PWD/.cluster-real}
export GAFFER_PORT_OFFSET=${GAFFER_REAL_PORT_OFFSET:-30000}
export GAFFER_REAL_NODE=1
source hack/lib.sh
ensure_node_deps

api=https://127.0.0.1:$((6443 + GAFFER_PORT_OFFSET))
started=false
if ! { [ -f "$CLUSTER_DIR/run/pids" ] && curl -fsS --max-time 2 --cacert "$CLUSTER_DIR/pki/ca.crt" "$api/readyz" >/dev/null 2>&1; }; then
  started=true
fi
host_before=$(mktemp)
$started && bash hack/host-state.sh > "$host_before"

rc=0
start=$SECONDS
if bash hack/cluster-up.sh --real-node; then
  log "real node up in $((SECONDS - start))s; end-to-end tests (test/real)"
  mocha --import=tsx --extension ts --recursive --timeout 600000 --slow 30000 test/real || rc=$?
else
  log "error: the real node did not start (above): the end-to-end tests cannot run"
  rc=1
fi
if $started && [ "${GAFFER_KEEP_CLUSTER:-}" != 1 ]; then
  bash hack/cluster-down.sh
  log "host check (test/host): the host must be as before the real node"
  GAFFER_HOST_BEFORE=$host_before mocha --import=tsx --extension ts --timeout 60000 test/host || rc=$?
fi
rm -f "$host_before"
log "real-node tests took $((SECONDS - start))s"
exit "$rc"
