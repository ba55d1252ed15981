# Shared settings for hack/ scripts. Source it; it defines no side effects beyond variables.
HACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(cd "$HACK_DIR/.." && pwd)
GAFFER_CACHE=${GAFFER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gaffer}
CLUSTER_DIR=${GAFFER_CLUSTER_DIR:-$ROOT_DIR/.cluster}

# Pinned versions. They must match hack/tools/*/go.mod (build-tools.sh checks).
K8S_VERSION=v1.37.2
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0
HELM_VERSION=v3.22.0

# CI and fresh shells may not have Go on PATH yet.
command -v go >/dev/null 2>&1 || export PATH=$PATH:/usr/local/go/bin

log() { printf '[%s] %s\n' "${LOG_PREFIX:-hack}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The cache directory for one wrapper module: keyed by its version and a hash of its
# go.mod, go.sum, this machine's Go version and the build script, so a change to any
# of them builds afresh and never reuses a stale binary.
tool_dir() {
  local name=$1 version=$2 hash
  hash=$( { cat "$HACK_DIR/tools/$name/go.mod" "$HACK_DIR/tools/$name/go.sum" "$HACK_DIR/build-tools.sh"; go version; } | sha256sum | cut -c1-12)
  printf '%s/bin/%s-%s-%s\n' "$GAFFER_CACHE" "$name" "$version" "$hash"
}

# Installs the npm dependencies when missing or stale, and puts the pinned Node 24 first on PATH.
ensure_node_deps() {
  if [ ! -x "$ROOT_DIR/node_modules/.bin/node" ] || [ "$ROOT_DIR/package-lock.json" -nt "$ROOT_DIR/node_modules/.package-lock.json" ]; then
    log "installing npm dependencies (npm ci)"
    (cd "$ROOT_DIR" && npm ci --no-audit --no-fund)
  fi
  export PATH=$ROOT_DIR/node_modules/.bin:$PATH
}
