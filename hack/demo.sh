#!/usr/bin/env bash
# npm run demo: installs what is missing, brings up the local control plane (the first run
# builds it from upstream Go modules: about 10 minutes on 2 cores), then runs hack/demo.ts.
#   --real   the same story on real pods: cluster:up --real-node, then hack/demo-real.ts
#            (the first run also builds kubelet, CoreDNS and the images: about 10 more minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
LOG_PREFIX=demo
source hack/lib.sh
ensure_node_deps
if ! ls "$GAFFER_CACHE"/bin/k8s-* >/dev/null 2>&1; then
  log "first run: building Kubernetes, etcd, kwok and helm from upstream (about 10 minutes on 2 cores; progress every 30 s)"
fi
if [ "${1:-}" = --real ]; then
  bash hack/cluster-up.sh --real-node
  exec node --import tsx hack/demo-real.ts
fi
bash hack/cluster-up.sh
node --import tsx hack/demo.ts
