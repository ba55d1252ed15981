#!/usr/bin/env bash
# Builds and installs what a real node needs (hack/real-node-up.sh), caching like build-tools.sh:
#   - kubelet and kube-proxy from the same wrapper module as the control plane (hack/tools/k8s),
#   - CoreDNS from the Go module proxy (`go install github.com/coredns/coredns@version`),
#   - containerd, runc, the CNI plugins, nftables/iptables and debootstrap from Debian's packages
#     (apt-get, only when missing).
# Go builds run under `nice -n 19`: they take minutes on a cold cache and must not starve other work.
# Output: symlinks in $CLUSTER_DIR/bin (kubelet, kube-proxy, coredns).
set -euo pipefail
LOG_PREFIX=node-tools
source "$(dirname "$0")/lib.sh"
command -v go >/dev/null || die "go is not on PATH: install Go 1.26 or newer"

# ---- Debian packages (the node's runtime and the image tools) ----
bash "$HACK_DIR/node-packages.sh"

export CGO_ENABLED=0 GOFLAGS=${GOFLAGS:--buildvcs=false} GOTOOLCHAIN=local
PARALLEL=${GAFFER_BUILD_PARALLEL:-$(nproc)}

# Runs a build command, printing elapsed time every 30 s so a cold build never sits silent.
with_progress() { # label cmd...
  local label=$1; shift
  local start=$SECONDS log_file; log_file=$(mktemp)
  log "building $label (cold builds take minutes; progress every 30 s)"
  "$@" >"$log_file" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null && log "  still building $label: $((SECONDS - start))s so far"
  done
  if ! wait "$pid"; then
    tail -40 "$log_file" >&2; rm -f "$log_file"
    die "building $label failed (log above)"
  fi
  rm -f "$log_file"
  log "built $label in $((SECONDS - start))s"
}

# cache_build name version key-text build-function: unless the cache entry for (name, version,
# hash of key-text + this script + go version) is complete, runs `build-function <out-dir>`.
cache_build() {
  local name=$1 version=$2 key=$3 fn=$4
  local hash dir
  hash=$( { printf '%s' "$key"; cat "$HACK_DIR/build-node-tools.sh"; go version; } | sha256sum | cut -c1-12)
  dir=$GAFFER_CACHE/bin/$name-$version-$hash
  if [ -f "$dir/.complete" ]; then
    log "$name $version: cached in $dir"
  else
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    with_progress "$name $version" "$fn" "$dir.tmp"
    touch "$dir.tmp/.complete"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  mkdir -p "$CLUSTER_DIR/bin"
  for f in "$dir"/*; do ln -sfn "$f" "$CLUSTER_DIR/bin/$(basename "$f")"; done
}

# kubelet + kube-proxy: the same wrapper module, versions and ldflags as the control plane.
kmaj=${K8S_VERSION#v}; kmaj=${kmaj%%.*}
kmin=${K8S_VERSION#v*.}; kmin=${kmin%%.*}
kldflags="-s -w"
for kv in gitVersion=$K8S_VERSION gitMajor=$kmaj gitMinor=$kmin gitTreeState=clean buildDate=2026-01-01T00:00:00Z; do
  kldflags="$kldflags -X k8s.io/component-base/version.$kv -X k8s.io/client-go/pkg/version.$kv"
done
build_kubelet() {
  nice -n 19 go -C "$HACK_DIR/tools/k8s" build -p "$PARALLEL" -trimpath -tags=selinux,notest,grpcnotrace \
    -ldflags "$kldflags" -o "$1/" k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy
}
cache_build kubelet "$K8S_VERSION" "$(cat "$HACK_DIR/tools/k8s/go.mod" "$HACK_DIR/tools/k8s/go.sum")" build_kubelet

# CoreDNS has no replace directives, so `go install module@version` builds it as released.
build_coredns() {
  GOBIN=$1 nice -n 19 go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$COREDNS_VERSION"
}
cache_build coredns "$COREDNS_VERSION" "" build_coredns
