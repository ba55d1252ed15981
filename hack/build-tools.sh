#!/usr/bin/env bash
# Builds the control-plane toolchain from upstream Go modules (Go module proxy only) and
# caches it outside the repo, keyed by version. A warm cache makes this a no-op.
# Output: the path of each binary in $CLUSTER_DIR/bin (symlinks into the cache).
set -euo pipefail
LOG_PREFIX=tools
source "$(dirname "$0")/lib.sh"
command -v go >/dev/null || die "go is not on PATH: install Go 1.26 or newer"

export CGO_ENABLED=0 GOFLAGS=${GOFLAGS:--buildvcs=false} GOTOOLCHAIN=local
PARALLEL=${GAFFER_BUILD_PARALLEL:-$(nproc)}

check_version() { # module-dir module expected
  local got
  got=$(cd "$HACK_DIR/tools/$1" && go list -m -f '{{.Version}}' "$2")
  [ "$got" = "$3" ] || die "hack/tools/$1/go.mod pins $2 $got but hack/lib.sh says $3"
}

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

build() { # name version label go-build-args...
  local name=$1 version=$2 label=$3; shift 3
  local dir; dir=$(tool_dir "$name" "$version")
  if [ -f "$dir/.complete" ]; then
    log "$label $version: cached in $dir"
  else
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    with_progress "$label $version" bash -c 'cd "$1" && shift && go build -p '"$PARALLEL"' -trimpath "$@"' _ "$HACK_DIR/tools/$name" -o "$dir.tmp/${OUT_NAME:-}" "$@"
    touch "$dir.tmp/.complete"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  mkdir -p "$CLUSTER_DIR/bin"
  for f in "$dir"/*; do ln -sfn "$f" "$CLUSTER_DIR/bin/$(basename "$f")"; done
}

check_version k8s k8s.io/kubernetes "$K8S_VERSION"
check_version etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION"
check_version kwok sigs.k8s.io/kwok "$KWOK_VERSION"
check_version helm helm.sh/helm/v3 "$HELM_VERSION"
check_version coscheduling sigs.k8s.io/scheduler-plugins "$SCHEDULER_PLUGINS_VERSION"
check_version volcano volcano.sh/apis "$VOLCANO_APIS_VERSION"
check_version volcano sigs.k8s.io/controller-tools "$CONTROLLER_TOOLS_VERSION"

total_start=$SECONDS
# etcd first: it is small, and a failure shows early.
OUT_NAME=etcd build etcd "$ETCD_VERSION" etcd \
  -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION" go.etcd.io/etcd/server/v3

kmaj=${K8S_VERSION#v}; kmaj=${kmaj%%.*}
kmin=${K8S_VERSION#v*.}; kmin=${kmin%%.*}
# /version must report the real version: helm's kubeVersion checks and kwok read it.
kldflags="-s -w"
for kv in gitVersion=$K8S_VERSION gitMajor=$kmaj gitMinor=$kmin gitTreeState=clean buildDate=2026-01-01T00:00:00Z; do
  kldflags="$kldflags -X k8s.io/component-base/version.$kv -X k8s.io/client-go/pkg/version.$kv"
done
build k8s "$K8S_VERSION" "kube-apiserver, kube-controller-manager, kube-scheduler, kubectl" \
  -tags=selinux,notest,grpcnotrace -ldflags "$kldflags" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl

build kwok "$KWOK_VERSION" kwok -ldflags "-s -w" sigs.k8s.io/kwok/cmd/kwok

hmin=$(cd "$HACK_DIR/tools/helm" && go list -m -f '{{.Version}}' k8s.io/client-go | cut -d. -f2)
hflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean -X helm.sh/helm/v3/internal/version.metadata="
for p in pkg/chartutil pkg/lint/rules; do
  hflags="$hflags -X helm.sh/helm/v3/$p.k8sVersionMajor=1 -X helm.sh/helm/v3/$p.k8sVersionMinor=$hmin"
done
build helm "$HELM_VERSION" helm -ldflags "$hflags" helm.sh/helm/v3/cmd/helm

# The gang schedulers of spec.scheduling.gang.provider Coscheduling and Volcano (hack/gang-schedulers.ts).
OUT_NAME=scheduler-plugins-scheduler build coscheduling "$SCHEDULER_PLUGINS_VERSION" "scheduler-plugins scheduler" \
  -ldflags "-s -w" sigs.k8s.io/scheduler-plugins/cmd/scheduler
OUT_NAME=controller-gen build volcano "$CONTROLLER_TOOLS_VERSION" controller-gen -ldflags "-s -w" \
  sigs.k8s.io/controller-tools/cmd/controller-gen

# Their PodGroup CRDs, into $CLUSTER_DIR/crds: scheduler-plugins' as its module ships it; Volcano's
# generated from its API module's Go types by controller-gen, as Volcano makes its own.
crds() { # name version label command...
  local name=$1 version=$2 label=$3; shift 3
  local dir; dir="$(tool_dir "$name" "$version")-crds"
  if [ ! -f "$dir/.complete" ]; then
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    (cd "$HACK_DIR/tools/$name" && "$@" "$dir.tmp") || die "making the $label CRDs failed"
    touch "$dir.tmp/.complete"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  mkdir -p "$CLUSTER_DIR/crds"
  for f in "$dir"/*.yaml; do ln -sfn "$f" "$CLUSTER_DIR/crds/$(basename "$f")"; done
  log "$label CRDs: $CLUSTER_DIR/crds"
}
copy_podgroup_crd() { # out
  cp "$(go list -m -f '{{.Dir}}' sigs.k8s.io/scheduler-plugins)/config/crd/bases/scheduling.x-k8s.io_podgroups.yaml" "$1/"
}
generate_podgroup_crd() { # out
  "$CLUSTER_DIR/bin/controller-gen" crd:crdVersions=v1 paths=volcano.sh/apis/pkg/apis/scheduling/v1beta1 \
    output:crd:dir="$1"
  # Only the PodGroup: the Queue's CRD is not needed (the tests make no Volcano Queue).
  find "$1" -name '*.yaml' ! -name 'scheduling.volcano.sh_podgroups.yaml' -delete
}
crds coscheduling "$SCHEDULER_PLUGINS_VERSION" scheduler-plugins copy_podgroup_crd
crds volcano "$VOLCANO_APIS_VERSION" Volcano generate_podgroup_crd

log "toolchain ready in $((SECONDS - total_start))s: $CLUSTER_DIR/bin"
