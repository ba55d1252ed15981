#!/usr/bin/env bash
# `npm test`: installs what is missing, type-checks, runs the unit tests, brings up the
# local control plane (building it from upstream on the first run), runs the integration
# tests against it, and stops the control plane again if this run started it; then the
# end-to-end tests on a real node (hack/test-real.sh: its own control plane, started and stopped).
#   GAFFER_KEEP_CLUSTER=1   leave a cluster this run started running
#   GAFFER_TEST_UNIT_ONLY=1 skip the integration tests
set -euo pipefail
cd "$(dirname "$0")/.."
LOG_PREFIX=test
source hack/lib.sh

ensure_node_deps
node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<22||(a===22&&b<19)) { console.error("node "+process.version+" is too old: the pinned devDependency should give Node 24"); process.exit(1) }'
log "node $(node --version), $(go version 2>/dev/null || echo 'go: not found')"

results=$(mktemp)
# Each suite runs under a time limit: a hung test then fails the run with a line saying so,
# instead of using up CI's 90 minutes in silence.
run_mocha() { # label limit-seconds args...
  local label=$1 limit=$2; shift 2
  set +e
  timeout -k 30 "$limit" mocha --import=tsx --extension ts --recursive "$@" 2>&1 | tee -a "$results"
  local rc=${PIPESTATUS[0]}
  set -e
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    log "the $label tests did not finish within ${limit}s (stopped; the last test printed above hung)"
    echo "  1 failing" >>"$results"
  fi
  return "$rc"
}

log "type-checking"
tsc -p tsconfig.json --noEmit
log "building dist/ (the CLI tests run the compiled CLI, as users do)"
npm run -s build
log "linting (eslint: no any, short functions, import boundaries; prettier: format)"
npm run -s lint
log "unit tests"
unit_rc=0; run_mocha unit 900 --timeout 20000 test/unit || unit_rc=$?

integration_rc=0 real_rc=0
if [ "${GAFFER_TEST_UNIT_ONLY:-}" != 1 ]; then
  started=false
  if ! { [ -f "$CLUSTER_DIR/run/pids" ] && curl -fsS --max-time 2 --cacert "$CLUSTER_DIR/pki/ca.crt" https://127.0.0.1:6443/readyz >/dev/null 2>&1; }; then
    started=true
  fi
  stop_cluster() { if $started && [ "${GAFFER_KEEP_CLUSTER:-}" != 1 ]; then bash hack/cluster-down.sh; fi; }
  trap stop_cluster EXIT
  bash hack/cluster-up.sh
  log "integration tests (real control plane: $CLUSTER_DIR/kubeconfig)"
  run_mocha integration 2700 --timeout 120000 --slow 5000 test/integration || integration_rc=$?
  # The real-node suite next, on a control plane of its own: free the 2 cores first.
  stop_cluster
  trap - EXIT
  log "end-to-end tests on a real node (hack/test-real.sh)"
  set +e
  bash hack/test-real.sh 2>&1 | tee -a "$results"
  real_rc=${PIPESTATUS[0]}
  set -e
fi

count() { awk -v w="$1" '$0 ~ "^ +[0-9]+ " w {s += $1} END {print s + 0}' "$results"; }
passed=$(count passing) failed=$(count failing) skipped=$(count pending)
# CI shows the end of the output: repeat each failure's title and message (no stack) last.
if [ "$failed" -ne 0 ]; then
  echo "failures:"
  awk '{gsub(/\033\[[0-9;]*m/, "")} /^ +[0-9]+ failing/ {on = 1; next} /^ +[0-9]+ passing/ {on = 0}
       on && !/^ +at / && NF && n < 120 {print; n++}' "$results"
fi
rm -f "$results"
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$unit_rc" -eq 0 ] && [ "$integration_rc" -eq 0 ] && [ "$real_rc" -eq 0 ] && [ "$failed" -eq 0 ]
