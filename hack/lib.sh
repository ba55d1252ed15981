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
# Gang schedulers of other projects (spec.scheduling.gang.provider): scheduler-plugins' scheduler,
# run as a second scheduler by the tests, with its PodGroup CRD; Volcano's PodGroup CRD only.
SCHEDULER_PLUGINS_VERSION=v0.34.7
VOLCANO_APIS_VERSION=v1.13.0
CONTROLLER_TOOLS_VERSION=v0.19.0
# Kueue (hack/build-kueue.sh, hack/kueue.ts): its manager and CRDs, for the Kueue integration's tests.
KUEUE_VERSION=v0.17.0

# CI and fresh shells may not have Go on PATH yet.
command -v go >/dev/null 2>&1 || export PATH=$PATH:/usr/local/go/bin

log() { printf '[%s] %s\n' "${LOG_PREFIX:-hack}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# A process's start time (clock ticks since boot, /proc/<pid>/stat field 22): recorded beside its
# pid when started, so that a later stop never signals another process that reused the pid.
proc_start() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1; s=${s##*) }; set -- $s; echo "${20}"; }
# Is <pid> still the process started at <start>? (no start recorded: only that the pid lives)
is_ours() { # pid [start]
  if [ -n "${2:-}" ]; then [ "$(proc_start "$1")" = "$2" ]; else kill -0 "$1" 2>/dev/null; fi
}
stop_process() { # name pid [start]: TERM, up to 5 s, then KILL; only while it is still ours
  is_ours "$2" "${3:-}" || return 0
  kill -TERM "$2" 2>/dev/null
  for _ in $(seq 50); do is_ours "$2" "${3:-}" || break; sleep 0.1; done
  is_ours "$2" "${3:-}" && kill -KILL "$2" 2>/dev/null
  log "stopped $1 (pid $2)"
}

# The cache directory for one wrapper module: keyed by its version and a hash of its
# go.mod, go.sum, this machine's Go version and the build script, so a change to any
# of them builds afresh and never reuses a stale binary.
tool_dir() { # name version [build-script]
  local name=$1 version=$2 script=${3:-$HACK_DIR/build-tools.sh} hash
  hash=$( { cat "$HACK_DIR/tools/$name/go.mod" "$HACK_DIR/tools/$name/go.sum" "$script"; go version; } | sha256sum | cut -c1-12)
  printf '%s/bin/%s-%s-%s\n' "$GAFFER_CACHE" "$name" "$version" "$hash"
}

# Installs the npm dependencies when missing or stale, and puts the pinned Node 24 first on PATH.
ensure_node_deps() {
  if [ ! -x "$ROOT_DIR/node_modules/.bin/node" ] || [ "$ROOT_DIR/package-lock.json" -nt "$ROOT_DIR/node_modules/.package-lock.json" ]; then
    # npm ci empties a symlinked node_modules' target (another checkout's) before replacing the link.
    [ ! -L "$ROOT_DIR/node_modules" ] || die "node_modules is a symlink ($(readlink "$ROOT_DIR/node_modules")) and stale or incomplete: npm ci would empty its target; remove the link first"
    log "installing npm dependencies (npm ci)"
    (cd "$ROOT_DIR" && npm ci --no-audit --no-fund)
  fi
  export PATH=$ROOT_DIR/node_modules/.bin:$PATH
}

# The real node (hack/real-node-up.sh): CoreDNS from the Go module proxy, the rest from Debian.
COREDNS_VERSION=v1.15.0
NODE_DEBIAN_PACKAGES="containerd runc containernetworking-plugins nftables iptables iproute2 procps debootstrap"
# Its state (containerd, kubelet, CNI, images) lives beside the control plane's.
NODE_DIR=${GAFFER_NODE_DIR:-$CLUSTER_DIR/node}
PAUSE_IMAGE=localhost/gaffer-pause:1
PY_IMAGE=localhost/gaffer-py:1
# Its network: a bridge of its own (pods and the node's address), and a service range that no
# other local cluster uses (kube-proxy programs real rules for it on this host).
NODE_NAME=gaffer-real-node
NODE_BRIDGE=gaffer0
NODE_IP=10.123.0.1
POD_SUBNET=10.123.0.0/24
SERVICE_CIDR=10.123.128.0/20
KUBERNETES_SVC_IP=10.123.128.1
DNS_SVC_IP=10.123.128.10
# Host settings a node changes (kubelet with protectKernelDefaults off, the CNI bridge plugin,
# hack/real-node-up.sh): recorded before and restored by hack/real-node-down.sh.
NODE_SYSCTLS="vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes net.ipv4.ip_forward net.ipv4.conf.all.forwarding net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables"
# Host paths they create outside $NODE_DIR (hard-coded in kubelet, libcni and containerd's shims).
NODE_HOST_DIRS="/var/lib/kubelet /var/lib/cni /run/containerd /var/run/netns /run/netns /etc/cni /opt/cni /var/log/containers"
# Our own nftables table: pods reach only the bridge subnet, 10.123.0.1 only the pods and this host.
NODE_NFT_TABLE=gaffer-real-node
