#!/usr/bin/env bash
# Starts a local Kubernetes control plane on loopback: etcd, kube-apiserver (RBAC and Pod
# Security admission on), kube-controller-manager, kube-scheduler and KWOK with fake nodes.
# Reuses a cluster that is already up. State lives in .cluster/ (gitignored).
#   GAFFER_NODES=N                 fake node count (default 3); also --nodes N
#   GAFFER_PORT_OFFSET=N           add N to every port (a second cluster beside the first)
#   GAFFER_KUBE_APISERVER_FLAGS    extra kube-apiserver flags (for example feature gates)
#   GAFFER_CLUSTER_DIR             state directory (default .cluster)
#   GAFFER_REAL_NODE=1             also add one real node (hack/real-node-up.sh); also --real-node.
#                                  Fake nodes then default to 0 so that pods land on the real one.
set -euo pipefail
LOG_PREFIX=cluster
source "$(dirname "$0")/lib.sh"

REAL_NODE=${GAFFER_REAL_NODE:-0}
NODES=${GAFFER_NODES:-}
while [ $# -gt 0 ]; do
  case $1 in
    --nodes) NODES=${2:?--nodes needs a number}; shift 2 ;;
    --nodes=*) NODES=${1#--nodes=}; shift ;;
    --real-node) REAL_NODE=1; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (try --help)" ;;
  esac
done
if [ "$REAL_NODE" = 1 ]; then
  NODES=${NODES:-0}
  [[ $NODES =~ ^[0-9]+$ ]] || die "--nodes / GAFFER_NODES must be a number, got '$NODES'"
else
  NODES=${NODES:-3}
  [[ $NODES =~ ^[0-9]+$ ]] && [ "$NODES" -ge 1 ] || die "--nodes / GAFFER_NODES must be a positive number, got '$NODES'"
fi

O=${GAFFER_PORT_OFFSET:-0}
[[ $O =~ ^[0-9]+$ ]] || die "GAFFER_PORT_OFFSET must be a number, got '$O'"
ETCD_PORT=$((2379 + O)) ETCD_PEER_PORT=$((2380 + O)) ETCD_METRICS_PORT=$((2381 + O))
API_PORT=$((6443 + O)) KCM_PORT=$((10257 + O)) SCHED_PORT=$((10259 + O)) KWOK_PORT=$((10247 + O))
BIN=$CLUSTER_DIR/bin PKI=$CLUSTER_DIR/pki LOGS=$CLUSTER_DIR/logs RUN=$CLUSTER_DIR/run
KUBECONFIG_FILE=$CLUSTER_DIR/kubeconfig
APISERVER=https://127.0.0.1:$API_PORT
kubectl() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

healthy() { curl -fsS --max-time 2 --cacert "$PKI/ca.crt" "$APISERVER/readyz" >/dev/null 2>&1; }

if [ -f "$RUN/pids" ] && healthy; then
  log "a cluster is already up; reusing it ($KUBECONFIG_FILE)"
  # kwok reads its stages once, at start: a cluster started from other stages (or before kwok
  # had its own user and guard) would simulate something else than this checkout says.
  for f in stages.yaml kubelet-guard.yaml; do
    cmp -s "$HACK_DIR/kwok/$f" "$RUN/kwok-$f" ||
      die "this cluster's kwok was started with another hack/kwok/$f than this checkout's; npm run cluster:down first"
  done
  kubectl apply -f "$HACK_DIR/kwok/kubelet-guard.yaml" >/dev/null # in force, even if a test removed it
  if [ "$REAL_NODE" = 1 ]; then
    [ -f "$RUN/real-node-ready" ] || die "this cluster was started without --real-node (its API server lacks the real node's flags); npm run cluster:down first"
    bash "$HACK_DIR/real-node-up.sh"
  fi
  exit 0
fi
if [ -f "$RUN/pids" ]; then
  log "found a stopped or broken cluster; cleaning it up first"
  bash "$HACK_DIR/cluster-down.sh"
fi

# Fail early, before building anything, on a host that cannot run the real node.
if [ "$REAL_NODE" = 1 ]; then
  bash "$HACK_DIR/node-packages.sh" # nft, ip: the check below uses them
  # A node left by an interrupted run of this cluster directory is ours: remove it, by its record.
  [ ! -d "$NODE_DIR" ] || bash "$HACK_DIR/real-node-down.sh" || die "could not remove the stale real node in $NODE_DIR (above)"
  bash "$HACK_DIR/real-node-check.sh"
fi
bash "$HACK_DIR/build-tools.sh"
bash "$HACK_DIR/build-kueue.sh"
for port in $ETCD_PORT $ETCD_PEER_PORT $ETCD_METRICS_PORT $API_PORT $KCM_PORT $SCHED_PORT $KWOK_PORT; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port on 127.0.0.1 is already in use (another control plane?); stop it or run npm run cluster:down"
  fi
done

mkdir -p "$PKI" "$LOGS" "$RUN"
: > "$RUN/pids"
started_ok=false
on_exit() {
  if [ "$started_ok" != true ]; then
    log "start failed; stopping what was started"
    bash "$HACK_DIR/cluster-down.sh" --keep-logs >/dev/null 2>&1 || true
  fi
}
trap on_exit EXIT

# ---- PKI: one CA, the API server's serving cert, an admin client cert, SA keys ----
gen_pki() {
  cd "$PKI"
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -keyout ca.key -out ca.crt -subj "/CN=gaffer-local-ca" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.96.0.1%s\n'  "$EXTRA_SANS" > apiserver.ext
  openssl x509 -req -sha256 -days 3650 -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -extfile apiserver.ext -out apiserver.crt 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=kubernetes-admin" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' > client.ext
  openssl x509 -req -sha256 -days 3650 -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -extfile client.ext -out admin.crt 2>/dev/null
  # kwok's own client certificate: a user of its own (gaffer-kwok), so that the API server can hold
  # it to what a kubelet may do (hack/kwok/kubelet-guard.yaml).
  openssl req -newkey rsa:2048 -nodes -keyout kwok.key -out kwok.csr -subj "/O=system:masters/CN=gaffer-kwok" 2>/dev/null
  openssl x509 -req -sha256 -days 3650 -in kwok.csr -CA ca.crt -CAkey ca.key -CAcreateserial -extfile client.ext -out kwok.crt 2>/dev/null
  openssl genrsa -out sa.key 2048 2>/dev/null && openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  cd - >/dev/null
}
# With a real node, pods reach the API server through the `kubernetes` Service (the first
# address of the node's service range) and the node's bridge address: both must be in its cert.
EXTRA_SANS=""
REAL_APISERVER_FLAGS=""
if [ "$REAL_NODE" = 1 ]; then
  EXTRA_SANS=",IP:$KUBERNETES_SVC_IP,IP:$NODE_IP"
  # A service range of the node's own (kube-proxy programs real rules for it on this host; the
  # later flag wins), and kubelet access (logs, exec) with the admin cert, by node address.
  REAL_APISERVER_FLAGS="--service-cluster-ip-range=$SERVICE_CIDR --kubelet-client-certificate=$PKI/admin.crt \
    --kubelet-client-key=$PKI/admin.key --kubelet-preferred-address-types=InternalIP"
fi
command -v openssl >/dev/null || die "openssl is needed to make the cluster's certificates (apt-get install openssl)"
[ -f "$PKI/admin.crt" ] || gen_pki
# A kubeconfig for the local API server as user $1 (its certificate and key in $PKI).
kubeconfig_as() {
  cat <<KCFG
apiVersion: v1
kind: Config
clusters:
- name: gaffer-local
  cluster:
    server: $APISERVER
    certificate-authority: $PKI/ca.crt
users:
- name: $1
  user:
    client-certificate: $PKI/$1.crt
    client-key: $PKI/$1.key
contexts:
- name: gaffer-local
  context: {cluster: gaffer-local, user: $1}
current-context: gaffer-local
KCFG
}
kubeconfig_as admin > "$KUBECONFIG_FILE"
kubeconfig_as kwok > "$RUN/kwok.kubeconfig"

source "$HACK_DIR/cluster-lib.sh"

log "starting etcd"
start etcd "$BIN/etcd" --name=node0 --data-dir="$RUN/etcd" \
  --listen-client-urls=http://127.0.0.1:$ETCD_PORT --advertise-client-urls=http://127.0.0.1:$ETCD_PORT \
  --listen-peer-urls=http://127.0.0.1:$ETCD_PEER_PORT --initial-advertise-peer-urls=http://127.0.0.1:$ETCD_PEER_PORT \
  --initial-cluster=node0=http://127.0.0.1:$ETCD_PEER_PORT --initial-cluster-state=new \
  --listen-metrics-urls=http://127.0.0.1:$ETCD_METRICS_PORT --auto-compaction-retention=1 \
  --quota-backend-bytes=2147483648 --unsafe-no-fsync=true
wait_for etcd 60 curl -fsS http://127.0.0.1:$ETCD_PORT/health

# Kubernetes' own gang scheduling (PodGroups, scheduling.k8s.io/v1beta1; beta and off by default
# in 1.37), for spec.scheduling.gang: the API server serves the API, the scheduler places gangs.
FEATURE_GATES=GenericWorkload=true
log "starting kube-apiserver"
# The audit log records the writes of one ServiceAccount (gaffer-system/gaffer-audited, which
# hack/local-cluster.ts binds to the chart's roles): tests that must prove who wrote what, and
# when (no write by a replica that lost its Lease), run their operators as it. It also records
# every pod deletion and eviction, by anyone (the taint manager, PodGC, kwok, an operator), so a
# pod that vanished has a named deleter (the soak reads them). Nothing else is logged.
cat > "$RUN/audit-policy.yaml" <<'AUDIT'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  users: ["system:serviceaccount:gaffer-system:gaffer-audited"]
  verbs: [create, update, patch, delete, deletecollection]
- level: Metadata
  resources: [{group: "", resources: [pods]}]
  verbs: [delete, deletecollection]
- level: Metadata
  resources: [{group: "", resources: [pods/eviction]}]
  verbs: [create]
- level: None
AUDIT
# shellcheck disable=SC2086 # extra flags are words
start kube-apiserver "$BIN/kube-apiserver" --etcd-servers=http://127.0.0.1:$ETCD_PORT \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port=$API_PORT \
  --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
  --client-ca-file="$PKI/ca.crt" --authorization-mode=Node,RBAC \
  --enable-admission-plugins=NodeRestriction,PodSecurity,ResourceQuota,LimitRanger,ServiceAccount \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
  --service-cluster-ip-range=10.96.0.0/16 --allow-privileged=true --profiling=false \
  --endpoint-reconciler-type=none --audit-policy-file="$RUN/audit-policy.yaml" \
  --audit-log-path="$LOGS/audit.log" --audit-log-format=json --audit-log-maxsize=100 --audit-log-maxbackup=1 \
  --feature-gates="$FEATURE_GATES" --runtime-config=scheduling.k8s.io/v1beta1=true \
  $REAL_APISERVER_FLAGS ${GAFFER_KUBE_APISERVER_FLAGS:-}
wait_for kube-apiserver 120 curl -fsS --cacert "$PKI/ca.crt" "$APISERVER/readyz"

log "starting kube-controller-manager"
start kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig="$KUBECONFIG_FILE" \
  --authentication-kubeconfig="$KUBECONFIG_FILE" --authorization-kubeconfig="$KUBECONFIG_FILE" \
  --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics \
  --bind-address=127.0.0.1 --secure-port=$KCM_PORT --leader-elect=false \
  --use-service-account-credentials=true --service-account-private-key-file="$PKI/sa.key" \
  --root-ca-file="$PKI/ca.crt" --cluster-signing-cert-file="$PKI/ca.crt" \
  --cluster-signing-key-file="$PKI/ca.key" --service-cluster-ip-range=10.96.0.0/16 \
  --node-monitor-period=5s --node-monitor-grace-period=40s --profiling=false --feature-gates="$FEATURE_GATES"
wait_for kube-controller-manager 60 curl -fsSk https://127.0.0.1:$KCM_PORT/healthz

log "starting kube-scheduler"
cat > "$RUN/scheduler.yaml" <<SCHED
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: $KUBECONFIG_FILE
leaderElection:
  leaderElect: false
SCHED
start kube-scheduler "$BIN/kube-scheduler" --config="$RUN/scheduler.yaml" \
  --authentication-kubeconfig="$KUBECONFIG_FILE" --authorization-kubeconfig="$KUBECONFIG_FILE" \
  --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics \
  --bind-address=127.0.0.1 --secure-port=$SCHED_PORT --profiling=false --feature-gates="$FEATURE_GATES"
wait_for kube-scheduler 60 curl -fsSk https://127.0.0.1:$SCHED_PORT/healthz

# kwok deletes by name, from what may be a stale copy of the pod; the guard refuses such a delete
# of a pod that is not being deleted (a new pod of the same name), as a kubelet's UID precondition
# would. Loaded before kwok starts.
kubectl apply -f "$HACK_DIR/kwok/kubelet-guard.yaml" >/dev/null
cp "$HACK_DIR/kwok/stages.yaml" "$RUN/kwok-stages.yaml" # what this kwok runs (the reuse check above)
cp "$HACK_DIR/kwok/kubelet-guard.yaml" "$RUN/kwok-kubelet-guard.yaml"
# kwok manages only the fake nodes (annotated below), never a real node's.
log "starting kwok (stages: hack/kwok/stages.yaml)"
start kwok "$BIN/kwok" --kubeconfig="$RUN/kwok.kubeconfig" --config="$RUN/kwok-stages.yaml" \
  --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake --node-ip=127.0.0.1 --node-name=localhost --cidr=10.244.0.0/16 \
  --node-lease-duration-seconds=40 --server-address=127.0.0.1:$KWOK_PORT \
  --tls-cert-file="$PKI/admin.crt" --tls-private-key-file="$PKI/admin.key"
wait_for kwok 60 curl -fsSk https://127.0.0.1:$KWOK_PORT/healthz

# Pods are refused until the service-account controller has made the default ServiceAccount.
wait_for kube-controller-manager 60 kubectl -n default get serviceaccount default

log "creating $NODES fake nodes"
for i in $(seq 0 $((NODES - 1))); do # nothing when NODES=0
  cat <<NODE
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    node.alpha.kubernetes.io/ttl: "0"
    kwok.x-k8s.io/node: fake
  labels:
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
---
NODE
done > "$RUN/fake-nodes.yaml"
[ "$NODES" = 0 ] || kubectl apply -f "$RUN/fake-nodes.yaml" >/dev/null
[ "$NODES" = 0 ] || kubectl wait --for=condition=Ready node -l type=kwok --timeout=60s >/dev/null || fail_component kwok "did not make the nodes Ready"

if [ "$REAL_NODE" = 1 ]; then
  touch "$RUN/real-node-ready"
  bash "$HACK_DIR/real-node-up.sh" || { log "the real node failed to start (above)"; exit 1; }
fi

started_ok=true
cat >&2 <<DONE
[cluster] control plane is up ($(kubectl version -o json 2>/dev/null | grep -m1 gitVersion | tr -d ' ",' | cut -d: -f2), $NODES fake nodes$([ "$REAL_NODE" = 1 ] && echo ", real node $NODE_NAME"))
  export KUBECONFIG=$KUBECONFIG_FILE
  export PATH=$BIN:\$PATH     # kubectl, helm
  kubectl get nodes
  logs: $LOGS/   stop: npm run cluster:down
DONE
