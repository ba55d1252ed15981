#!/usr/bin/env bash
# Builds Kueue's manager (sigs.k8s.io/kueue/cmd/kueue) from the Go module proxy and caches it
# outside the repo, keyed by version, with the module's CRDs and webhook manifests beside it.
# A warm cache makes this a no-op. Its own script (not build-tools.sh): a change here rebuilds
# only Kueue. Output: $CLUSTER_DIR/bin/kueue and $CLUSTER_DIR/kueue/{crds,webhooks.yaml}.
set -euo pipefail
LOG_PREFIX=kueue
source "$(dirname "$0")/lib.sh"
command -v go >/dev/null || die "go is not on PATH: install Go 1.26 or newer"
export CGO_ENABLED=0 GOFLAGS=${GOFLAGS:--buildvcs=false} GOTOOLCHAIN=local

got=$(cd "$HACK_DIR/tools/kueue" && go list -m -f '{{.Version}}' sigs.k8s.io/kueue)
[ "$got" = "$KUEUE_VERSION" ] || die "hack/tools/kueue/go.mod pins sigs.k8s.io/kueue $got but hack/lib.sh says $KUEUE_VERSION"

dir=$(tool_dir kueue "$KUEUE_VERSION" "$HACK_DIR/build-kueue.sh")
if [ -f "$dir/.complete" ]; then
  log "kueue $KUEUE_VERSION: cached in $dir"
else
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp/crds"
  start=$SECONDS
  log "building kueue $KUEUE_VERSION (a cold build takes minutes)"
  (cd "$HACK_DIR/tools/kueue" && go build -p "$(nproc)" -trimpath -ldflags "-s -w" -o "$dir.tmp/kueue" sigs.k8s.io/kueue/cmd/kueue) ||
    die "building kueue failed"
  src=$(cd "$HACK_DIR/tools/kueue" && go list -m -f '{{.Dir}}' sigs.k8s.io/kueue)
  cp "$src"/config/components/crd/bases/*.yaml "$dir.tmp/crds/"
  cp "$src/config/components/webhook/manifests.yaml" "$dir.tmp/webhooks.yaml"
  chmod -R u+w "$dir.tmp"
  touch "$dir.tmp/.complete"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
  log "built kueue in $((SECONDS - start))s"
fi
mkdir -p "$CLUSTER_DIR/bin"
ln -sfn "$dir/kueue" "$CLUSTER_DIR/bin/kueue"
ln -sfn "$dir" "$CLUSTER_DIR/kueue"
