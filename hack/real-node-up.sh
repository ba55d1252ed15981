#!/usr/bin/env bash
# Adds ONE real node to the running local control plane (called by `cluster-up.sh --real-node`):
# containerd + runc + a CNI bridge + kubelet + kube-proxy (nftables) + CoreDNS, all on this host,
# so its pods run real processes. Needs root, cgroups, bridges, overlayfs and nftables; says which
# is missing otherwise. Every host change is recorded under $NODE_DIR/host so that
# hack/real-node-down.sh can undo it by name.
set -euo pipefail
LOG_PREFIX=real-node
source "$(dirname "$0")/lib.sh"
export PATH=$ROOT_DIR/node_modules/.bin:$PATH

O=${GAFFER_PORT_OFFSET:-0}
API_PORT=$((6443 + O))
KUBELET_PORT=$((10250 + O)) KUBELET_HEALTHZ_PORT=$((10248 + O))
PROXY_HEALTHZ_PORT=$((10256 + O)) PROXY_METRICS_PORT=$((10249 + O))
DNS_HEALTH_PORT=$((10280 + O)) DNS_READY_PORT=$((10281 + O))
BIN=$CLUSTER_DIR/bin PKI=$CLUSTER_DIR/pki LOGS=$CLUSTER_DIR/logs
KUBECONFIG_FILE=$CLUSTER_DIR/kubeconfig
RUN=$NODE_DIR/run HOST=$NODE_DIR/host CONF=$NODE_DIR/conf
SOCK=$NODE_DIR/containerd/containerd.sock
kubectl() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }
source "$HACK_DIR/cluster-lib.sh" # start, wait_for (pids in $RUN/pids, logs in $LOGS)

all_ours() { while read -r _ pid pstart; do is_ours "$pid" "${pstart:-}" || return 1; done < "$RUN/pids"; }
if [ -f "$RUN/pids" ] && kubectl get node "$NODE_NAME" >/dev/null 2>&1 && all_ours; then
  log "the real node $NODE_NAME is already up; reusing it"
  exit 0
fi
[ ! -d "$NODE_DIR" ] || bash "$HACK_DIR/real-node-down.sh"

bash "$HACK_DIR/node-packages.sh"
bash "$HACK_DIR/real-node-check.sh"
bash "$HACK_DIR/build-node-tools.sh"
bash "$HACK_DIR/build-node-images.sh"
bash "$HACK_DIR/build-image.sh"

mkdir -p "$RUN" "$HOST" "$CONF" "$LOGS"
: > "$RUN/pids"
started_ok=false
on_exit() {
  if [ "$started_ok" != true ]; then
    log "start failed; undoing what was done"
    bash "$HACK_DIR/real-node-down.sh" --keep-logs >/dev/null 2>&1 || true
  fi
}
trap on_exit EXIT

# ---- record the host as it is, so the teardown can restore it ----
# Sysctls that kubelet (protectKernelDefaults: false), the CNI bridge plugin or we change.
for s in $NODE_SYSCTLS; do
  v=$(sysctl -n "$s" 2>/dev/null) && echo "$s=$v"
done > "$HOST/sysctls"
# Host directories: real-node-check.sh refused to start if any existed, so each one present at
# teardown was made by this node (kubelet, libcni, containerd's shims): only these are removed.
for d in $NODE_HOST_DIRS; do [ -e "$d" ] || echo "$d"; done > "$HOST/dirs-created"
# br_netfilter (the bridge-nf-call sysctls): unloaded by the teardown only if loaded here.
if [ ! -d /proc/sys/net/bridge ]; then
  modprobe br_netfilter || die "modprobe br_netfilter failed"
  echo br_netfilter > "$HOST/modules"
fi
{ iptables-save; ip6tables-save; } 2>/dev/null | awk '/^\*/{t=$1} /^:/{print t, substr($1, 2)}' > "$HOST/iptables-chains"
for h in /sys/fs/cgroup /sys/fs/cgroup/*/; do
  for g in kubepods kubepods.slice k8s.io; do [ -d "$h/$g" ] && echo "${h%/}/$g"; done
done > "$HOST/cgroups-present" || true

# ---- network: our own bridge carries the node address and the pods ----
ip link add "$NODE_BRIDGE" type bridge
echo "$NODE_BRIDGE" > "$HOST/bridge"
ip addr add "$NODE_IP/24" dev "$NODE_BRIDGE"
ip link set "$NODE_BRIDGE" up
# Pods reach Services through the node (routing) and each other over the bridge; a Service
# backend on the same bridge answers directly, so bridged traffic must pass netfilter (conntrack)
# for the reply to be un-NATed.
sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
# ip_forward=1 and the pods' default route would let a pod's packets leave un-NATed through the
# host's uplink, and CoreDNS, kubelet and the API forwarder on $NODE_IP would answer the LAN: our own
# table (deleted by name on teardown) drops both. The counters are read by test/real/network.test.ts.
echo "inet $NODE_NFT_TABLE" >> "$HOST/nft-tables"
nft -f - <<NFT
table inet $NODE_NFT_TABLE {
  counter pod-egress-dropped {}
  counter pod-ipv6-dropped {}
  counter node-ip-input-dropped {}
  chain forward {
    type filter hook forward priority filter - 10; policy accept;
    iifname "$NODE_BRIDGE" ip daddr != $POD_SUBNET counter name pod-egress-dropped drop
    # Pods have IPv4 only; this also drops their link-local chatter between bridge ports
    # (br_netfilter passes bridged IPv6 through this hook with the bridge as input device).
    iifname "$NODE_BRIDGE" meta nfproto ipv6 counter name pod-ipv6-dropped drop
  }
  chain input {
    type filter hook input priority filter - 10; policy accept;
    ip daddr $NODE_IP iifname "lo" accept
    ip daddr $NODE_IP iifname "$NODE_BRIDGE" ip saddr $POD_SUBNET accept
    ip daddr $NODE_IP counter name node-ip-input-dropped drop
  }
}
NFT

mkdir -p "$NODE_DIR/cni/net.d" "$NODE_DIR/cni/ipam"
# ipMasq false: pods never reach anything outside the bridge network and this host.
cat > "$NODE_DIR/cni/net.d/10-gaffer.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "gaffer-real-node", "plugins": [
  {"type": "bridge", "bridge": "$NODE_BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$NODE_DIR/cni/ipam",
            "ranges": [[{"subnet": "$POD_SUBNET", "rangeStart": "${NODE_IP%.*}.10", "gateway": "$NODE_IP"}]],
            "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
JSON

# ---- containerd (Debian's), all state under $NODE_DIR ----
cat > "$CONF/containerd.toml" <<TOML
version = 2
root = "$NODE_DIR/containerd/root"
state = "$NODE_DIR/containerd/state"
[grpc]
  address = "$SOCK"
[plugins."io.containerd.internal.v1.opt"]
  path = "$NODE_DIR/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # Root here may lack CAP_SYS_RESOURCE: a negative oom_score_adj then fails and runc dies with
  # "can't get final child's PID from pipe: EOF". Never lower a container's oom_score_adj.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$(command -v runc)"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$NODE_DIR/cni/net.d"
TOML
log "starting containerd"
start containerd containerd --config "$CONF/containerd.toml"
wait_for containerd 30 ctr -a "$SOCK" version
while read -r archive; do
  ctr -a "$SOCK" -n k8s.io images import "$archive" >/dev/null
done < <(cat "$GAFFER_CACHE/images/current"; echo "$ROOT_DIR/build/gaffer-image.tar")
log "images loaded: $(ctr -a "$SOCK" -n k8s.io images ls -q | grep -v '^sha256:' | tr '\n' ' ')"

# ---- certificates and kubeconfigs for kubelet and kube-proxy, signed by the cluster CA ----
client_cert() { # name subject
  openssl req -newkey rsa:2048 -nodes -keyout "$CONF/$1.key" -out "$CONF/$1.csr" -subj "$2" 2>/dev/null
  openssl x509 -req -sha256 -days 3650 -in "$CONF/$1.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -extfile "$PKI/client.ext" -out "$CONF/$1.crt" 2>/dev/null
  cat > "$CONF/$1.kubeconfig" <<KCFG
apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "https://127.0.0.1:$API_PORT", certificate-authority: "$PKI/ca.crt"}}]
users: [{name: $1, user: {client-certificate: "$CONF/$1.crt", client-key: "$CONF/$1.key"}}]
contexts: [{name: local, context: {cluster: local, user: $1}}]
current-context: local
KCFG
}
client_cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" # Node authorizer + NodeRestriction
client_cert kube-proxy "/CN=system:kube-proxy"                   # the default system:node-proxier binding

# ---- kubelet ----
echo "nameserver $NODE_IP" > "$CONF/resolv.conf" # never the host's resolver
cat > "$CONF/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false          # kubelet 1.37 refuses cgroup v1 hosts otherwise
cgroupDriver: cgroupfs       # no systemd here
containerRuntimeEndpoint: unix://$SOCK
address: $NODE_IP            # only on our bridge
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
clusterDomain: cluster.local
clusterDNS: [$DNS_SVC_IP]
resolvConf: $CONF/resolv.conf
podLogsDir: $NODE_DIR/pod-logs
volumePluginDir: $NODE_DIR/volume-plugins
makeIPTablesUtilChains: false   # else KUBE-FIREWALL in the host's INPUT/OUTPUT
failSwapOn: false
serializeImagePulls: false
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
YAML
log "starting kubelet ($NODE_NAME)"
# --cert-dir does not follow --root-dir (default /var/lib/kubelet/pki).
start kubelet "$BIN/kubelet" --config "$CONF/kubelet.yaml" --kubeconfig "$CONF/kubelet.kubeconfig" \
  --root-dir "$NODE_DIR/kubelet" --cert-dir "$NODE_DIR/kubelet-pki" --hostname-override "$NODE_NAME" \
  --node-ip "$NODE_IP" --node-labels gaffer.dev/real-node=true --v=2
wait_for kubelet 60 curl -fsS "http://127.0.0.1:$KUBELET_HEALTHZ_PORT/healthz"

# ---- kube-proxy (nftables: its own `ip kube-proxy` and `ip6 kube-proxy` tables) ----
cat > "$CONF/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
clientConnection: {kubeconfig: $CONF/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
healthzBindAddress: 127.0.0.1:$PROXY_HEALTHZ_PORT
metricsBindAddress: 127.0.0.1:$PROXY_METRICS_PORT
clusterCIDR: $POD_SUBNET
detectLocalMode: ClusterCIDR
nodePortAddresses: ["$NODE_IP/32"]
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}   # leave host conntrack sysctls alone
YAML
wait_for kubelet 60 kubectl get node "$NODE_NAME" # kube-proxy exits when its Node does not exist
printf 'ip kube-proxy\nip6 kube-proxy\n' >> "$HOST/nft-tables" # real-node-check.sh: neither existed
log "starting kube-proxy"
start kube-proxy "$BIN/kube-proxy" --config "$CONF/kube-proxy.yaml" --v=1
wait_for kube-proxy 60 curl -fsS "http://127.0.0.1:$PROXY_HEALTHZ_PORT/livez"

# ---- the API server for pods: the `kubernetes` Service's endpoint is the node address ----
log "starting the API forwarder ($NODE_IP:$API_PORT -> 127.0.0.1:$API_PORT)"
start api-forwarder node --import tsx "$HACK_DIR/tcp-proxy.ts" "$NODE_IP:$API_PORT" "127.0.0.1:$API_PORT"
wait_for api-forwarder 30 curl -fsS --cacert "$PKI/ca.crt" --resolve "kubernetes:$API_PORT:$NODE_IP" "https://kubernetes:$API_PORT/readyz"

# ---- CoreDNS on the host, on the node address, serving cluster.local from the API ----
cat > "$CONF/Corefile" <<COREFILE
.:53 {
    bind $NODE_IP
    errors
    health 127.0.0.1:$DNS_HEALTH_PORT
    ready 127.0.0.1:$DNS_READY_PORT
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $KUBECONFIG_FILE gaffer-local
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 5
}
COREFILE
log "starting CoreDNS"
start coredns "$BIN/coredns" -conf "$CONF/Corefile"
wait_for coredns 60 curl -fsS "http://127.0.0.1:$DNS_READY_PORT/ready"

# Service objects that point at host processes (no selector; our own EndpointSlices).
kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  clusterIP: $DNS_SVC_IP
  ports: [{name: dns, port: 53, protocol: UDP}, {name: dns-tcp, port: 53, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kube-dns-host
  namespace: kube-system
  labels: {kubernetes.io/service-name: kube-dns, endpointslice.kubernetes.io/managed-by: gaffer.dev-real-node}
addressType: IPv4
endpoints: [{addresses: ["$NODE_IP"]}]
ports: [{name: dns, port: 53, protocol: UDP}, {name: dns-tcp, port: 53, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kubernetes-host
  namespace: default
  labels: {kubernetes.io/service-name: kubernetes, endpointslice.kubernetes.io/managed-by: gaffer.dev-real-node}
addressType: IPv4
endpoints: [{addresses: ["$NODE_IP"]}]
ports: [{name: https, port: $API_PORT, protocol: TCP}]
YAML

kubectl wait --for=condition=Ready "node/$NODE_NAME" --timeout=60s >/dev/null || fail_component kubelet "did not make $NODE_NAME Ready"
started_ok=true
log "real node $NODE_NAME is Ready (pods on $POD_SUBNET, Services on $SERVICE_CIDR, DNS $DNS_SVC_IP)"
