#!/usr/bin/env bash
# npm run test:real (and the last part of npm test): the end-to-end tests on a real node
# (test/real/), on a control plane of their own with one real node, started and torn down here:
#   snapshot the host (hack/host-state.sh) -> cluster:up --real-node -> mocha test/real
#   -> cluster:down -> test/host checks that the host is exactly as before.
# A host that cannot run a node fails the run with what is missing (real-node-up.sh).
#   GAFFER_REAL_CLUSTER_DIR   state directory (default .cluster-real)
#   GAFFER_REAL_PORT_OFFSET   port offset of that control plane (default 30000, beside the KWOK one)
#   GAFFER_KEEP_CLUSTER=1     leave it running (then the host check is not run: it cannot pass)
#   GAFFER_REUSE_CLUSTER=1    run the tests on a cluster left running (no host check); otherwise a
#                             cluster or node left in GAFFER_REAL_CLUSTER_DIR is removed first
# Interrupted (Ctrl-C, TERM, a failure), it tears down what it started (trap).
set -euo pipefail
cd "$(dirname "$0")/.."
LOG_PREFIX=test-real
export GAFFER_CLUSTER_DIR=${GAFFER_REAL_CLUSTER_DIR:-$PWD/.cluster-real}
export GAFFER_PORT_OFFSET=${GAFFER_REAL_PORT_OFFSET:-30000}
export GAFFER_REAL_NODE=1
source hack/lib.sh
ensure_node_deps

# Long steps run in the background and are waited for, so that a signal to this script alone
# also ends them at once; then the trap tears down what this run started. The node's processes
# run in sessions of their own (setsid): neither Ctrl-C nor a timeout reaches them, only this trap.
child=
run() { "$@" & child=$!; wait "$child"; local r=$?; child=; return "$r"; }
started=false host_before=
cleanup() {
  local r=$?
  trap - EXIT INT TERM
  set +e # the child may be gone already: a failed kill must not end the clean-up (set -e)
  if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; fi
  if $started && [ "${GAFFER_KEEP_CLUSTER:-}" != 1 ]; then
    log "stopped early (exit $r): tearing down the control plane and real node this run started"
    bash hack/cluster-down.sh || r=1
  fi
  [ -z "$host_before" ] || rm -f "$host_before"
  exit "$r"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

api=https://127.0.0.1:$((6443 + GAFFER_PORT_OFFSET))
if [ "${GAFFER_REUSE_CLUSTER:-}" = 1 ] && [ -f "$CLUSTER_DIR/run/pids" ] \
  && curl -fsS --max-time 2 --cacert "$CLUSTER_DIR/pki/ca.crt" "$api/readyz" >/dev/null 2>&1; then
  log "GAFFER_REUSE_CLUSTER=1: reusing the running cluster in $CLUSTER_DIR (no host check, left running)"
else
  # State of our own left by an interrupted or kept run (this cluster directory): removed first, so
  # that the snapshot below is of the host without it. Anything else real-node-check.sh refuses.
  if [ -e "$CLUSTER_DIR/run" ] || [ -e "$NODE_DIR" ]; then
    log "a previous run's cluster or real node is still in $CLUSTER_DIR; removing it (bash hack/cluster-down.sh)"
    GAFFER_CLUSTER_DIR=$CLUSTER_DIR bash hack/cluster-down.sh \
      || die "could not remove the stale state in $CLUSTER_DIR (above); fix that, then: GAFFER_CLUSTER_DIR=$CLUSTER_DIR bash hack/cluster-down.sh"
  fi
  started=true
  host_before=$(mktemp)
  bash hack/host-state.sh > "$host_before"
fi

rc=0
start=$SECONDS
if run bash hack/cluster-up.sh --real-node; then
  log "real node up in $((SECONDS - start))s; end-to-end tests (test/real)"
  # A time limit on the whole suite: a hung test fails the run, saying so, instead of using up CI's time.
  run timeout -k 30 1800 mocha --import=tsx --extension ts --recursive --timeout 600000 --slow 30000 test/real || rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then log "error: the real-node tests did not finish within 1800s (stopped)"; fi
else
  log "error: the real node did not start (above): the end-to-end tests cannot run"
  rc=1
fi
if $started && [ "${GAFFER_KEEP_CLUSTER:-}" != 1 ]; then
  started=false # torn down here, not by the trap
  bash hack/cluster-down.sh || rc=1
  log "host check (test/host): the host must be as before the real node"
  export GAFFER_HOST_BEFORE=$host_before
  run mocha --import=tsx --extension ts --timeout 60000 test/host || rc=$?
fi
log "real-node tests took $((SECONDS - start))s"
exit "$rc"
