#!/usr/bin/env bash
# Tier "ha": three kubeadm control-plane nodes on this machine (make cluster-up TIER=ha).
#
# Usage: hack/ha/up.sh [VERSION]      (default: DEFAULT_VERSION of hack/versions.sh)
#
#   1. prerequisites: haproxy (make ha-deps), the node tier's packages and binaries; tier node
#      not up (both use the standard Kubernetes paths of this host)
#   2. host record (hack/node/host.sh record, into .cluster/ha/host), mount points, cgroup roots
#   3. network: the switch namespace (bridge, haproxy on 10.20.0.10:6443 with /readyz checks),
#      the host's veth, three node namespaces with their routes
#   4. per node: holder (net, mount, UTS namespaces), bind mounts, containerd, images, the
#      supervised kubelet (its own cgroup root)
#   5. kubeadm init on node 1 (certificates uploaded), kubeadm join --control-plane on 2 and 3,
#      one at a time: stacked etcd with three members
#   6. the CNI DaemonSet (each node's range from its own file); wait for three Ready nodes
# Writes the admin kubeconfig (server: the load balancer) to .cluster/ha/kubeconfig.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
version=${1:-${VERSION:-$DEFAULT_VERSION}}
t0=$SECONDS
K8S_BIN=$CACHE/k8s/$version/bin

# --- 1. prerequisites ---
[ "$(id -u)" = 0 ] || die "tier ha needs root"
for f in /usr/sbin/haproxy /usr/sbin/runc /usr/sbin/iptables /usr/lib/cni/bridge /usr/bin/jq /usr/bin/curl /usr/bin/nsenter /usr/bin/unshare; do
  [ -x "$f" ] || die "$f is missing: run 'make ha-deps'"
done
[ -d /proc/sys/net/bridge ] || die "kernel: bridge netfilter (br_netfilter) is not available"
if alive "$REPO/.cluster/node/containerd.pid" || alive "$REPO/.cluster/node/kubelet-supervisor.pid"; then
  die "tier node is up: it uses this host's Kubernetes paths too; run 'make cluster-down' first"
fi
if [ -f "$HA_STATE/host/recorded" ]; then
  log "a previous tier ha is left: tearing it down first"
  "$HA_HACK/down.sh" || die "could not restore the host after the previous run (above)"
fi
for p in /etc/kubernetes /var/lib/etcd /var/lib/kubelet; do
  if [ -e "$p" ] && [ -n "$(ls -A "$p" 2>/dev/null)" ]; then die "$p exists and is not empty: refusing to start tier ha over it"; fi
done
"$REPO/hack/build-containerd.sh" >&2 || die "building containerd/crictl failed"
"$REPO/hack/build-k8s.sh" "$version" kubelet kubeadm kube-apiserver kube-controller-manager kube-scheduler kube-proxy >&2 \
  || die "building the Kubernetes $version binaries failed"

# --- 2. host record ---
mkdir -p "$HA_STATE" "$HA_LOGS"
SELFHOST_NODE_STATE=$HA_STATE "$REPO/hack/node/host.sh" record
: > "$HA_STATE/created-paths"
for p in "${HA_OWNED_PATHS[@]}"; do
  [ -e "$p" ] || [ -L "$p" ] || echo "$p" >> "$HA_STATE/created-paths"
done
echo "$version" > "$HA_STATE/version"
mkdir -p "${HA_NODE_PATHS[@]}"
# One cgroup root per node in every hierarchy (cgroup v1): the kubelet's --cgroup-root.
for n in "${HA_NODES[@]}"; do
  for c in /sys/fs/cgroup/*/; do
    [ -L "${c%/}" ] && continue
    mkdir -p "$c$(ha_name "$n")"
  done
done
# The cpuset hierarchy wants cpus and mems before a task joins.
for n in "${HA_NODES[@]}"; do
  d=/sys/fs/cgroup/cpuset/$(ha_name "$n")
  if [ -d "$d" ]; then
    cat /sys/fs/cgroup/cpuset/cpuset.cpus > "$d/cpuset.cpus"
    cat /sys/fs/cgroup/cpuset/cpuset.mems > "$d/cpuset.mems"
  fi
done

# --- 3. network ---
ip netns add "$HA_SW_NS"
in_sw ip link set lo up
in_sw ip link add "$HA_BRIDGE" type bridge
in_sw ip link set "$HA_BRIDGE" up
in_sw ip addr add "$HA_LB_IP/24" dev "$HA_BRIDGE"
ip link add "$HA_HOST_IF" type veth peer name h0 netns "$HA_SW_NS"
in_sw ip link set h0 master "$HA_BRIDGE" up
ip addr add "$HA_HOST_IP/24" dev "$HA_HOST_IF"
ip link set "$HA_HOST_IF" up
# Nothing of the tier's network is forwarded by the host, either way; and the host takes only the
# nodes' own addresses from it (a pod's packet to the host would be answered through the host's
# default route: out of this machine).
iptables -w -N "$HA_GUARD_CHAIN"
iptables -w -A "$HA_GUARD_CHAIN" -i "$HA_HOST_IF" -j DROP
iptables -w -A "$HA_GUARD_CHAIN" -o "$HA_HOST_IF" -j DROP
iptables -w -I FORWARD 1 -j "$HA_GUARD_CHAIN"
iptables -w -N "$HA_INPUT_CHAIN"
iptables -w -A "$HA_INPUT_CHAIN" -i "$HA_HOST_IF" ! -s "$HA_SUBNET" -j DROP
iptables -w -I INPUT 1 -j "$HA_INPUT_CHAIN"
for n in "${HA_NODES[@]}"; do
  ns=$(ha_name "$n")
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip link add "n$n" netns "$HA_SW_NS" type veth peer name eth0 netns "$ns"
  in_sw ip link set "n$n" master "$HA_BRIDGE" up
  ip -n "$ns" addr add "$(ha_ip "$n")/24" dev eth0
  ip -n "$ns" link set eth0 up
  # Services: kube-proxy DNATs host-network traffic in OUTPUT, which needs a route to exist.
  ip -n "$ns" route add "$SERVICE_CIDR" dev eth0
  for m in "${HA_NODES[@]}"; do
    [ "$m" = "$n" ] || ip -n "$ns" route add "$(ha_pod_cidr "$m")" via "$(ha_ip "$m")" dev eth0
  done
  ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1 2>/dev/null \
    || ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
done
# The load balancer: TCP to the three apiservers, each checked on /readyz every second.
cat > "$HA_STATE/haproxy.cfg" <<EOF
# Generated by hack/ha/up.sh (selfhost tier ha).
global
  maxconn 4096
defaults
  mode tcp
  timeout connect 2s
  timeout client 1h
  timeout server 1h
  timeout check 2s
frontend apiserver
  bind $HA_LB_IP:6443
  default_backend apiservers
backend apiservers
  option httpchk GET /readyz
  http-check expect status 200
  default-server check check-ssl verify none inter 1s fall 2 rise 2
$(for n in "${HA_NODES[@]}"; do echo "  server $(ha_name "$n") $(ha_ip "$n"):6443"; done)
EOF
# Started directly (not through a shell function: a function in the background is a subshell, and
# its PID would not be haproxy's); nsenter and setsid exec, so $! is haproxy.
nsenter --net="/run/netns/$HA_SW_NS" -- setsid /usr/sbin/haproxy -db -f "$HA_STATE/haproxy.cfg" >>"$HA_LOGS/haproxy.log" 2>&1 </dev/null &
echo $! > "$HA_STATE/haproxy.pid"
log "network up: switch $HA_SW_NS (haproxy on $HA_LB_IP:6443), host $HA_HOST_IF $HA_HOST_IP, nodes ${HA_NODES[*]}"

# --- 4. nodes: namespaces, mounts, containerd, images, kubelet ---
pause_image=$("$K8S_BIN/kubeadm" config images list --kubernetes-version "$version" 2>/dev/null | grep '/pause:')
printf 'nameserver 127.0.0.1\noptions ndots:1 timeout:1 attempts:1\n' > "$HA_STATE/resolv.conf"
start_node() {
  local n=$1 st name p
  st=$(ha_node_state "$n")
  name=$(ha_name "$n")
  mkdir -p "$st/logs" "$st/root"
  # Its stdio is not the caller's: a caller reading this script's output would wait for ever.
  nsenter --net="/run/netns/$name" -- unshare --mount --uts --propagation private -- sleep infinity </dev/null >/dev/null 2>&1 &
  echo $! > "$st/holder.pid"
  sleep 0.2
  alive "$st/holder.pid" || die "node $n: its namespace holder did not start"
  for p in "${HA_NODE_PATHS[@]}"; do
    mkdir -p "$st/root$p"
    in_node "$n" mount --bind "$st/root$p" "$p"
  done
  in_node "$n" mount --make-rshared /
  in_node "$n" hostname "$name"
  # The CNI's range of this node (hack/ha/manifests/selfhost-cni.yaml reads it).
  echo "$(ha_pod_cidr "$n")" > "$st/root/etc/cni/selfhost-subnet"
  # containerd of this node.
  CTRD_ROOT=$(ha_ctrd_root "$n") CTRD_STATE=$(ha_ctrd_state "$n") CTRD_SOCK=$(ha_ctrd_sock "$n") \
    CTRD_CONFIG=$st/containerd.toml STATE=$st write_containerd_config "$pause_image"
  mkdir -p "$(ha_ctrd_root "$n")" "$(ha_ctrd_state "$n")"
  nsenter -t "$(cat "$st/holder.pid")" -m -u -n -- setsid env PATH="$CONTAINERD_BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    "$CONTAINERD_BIN/containerd" --config "$st/containerd.toml" >>"$st/logs/containerd.log" 2>&1 </dev/null &
  echo $! > "$st/containerd.pid"
  ha_wait_for "node $n's containerd" 60 "$CONTAINERD_BIN/ctr" --address "$(ha_ctrd_sock "$n")" version
  "$REPO/hack/images/build.sh" --import "$(ha_ctrd_sock "$n")" "$version" >>"$st/logs/images.log" 2>&1 \
    || die "node $n: importing the $version images failed ($st/logs/images.log)"
  echo "$K8S_BIN/kubelet" > "$st/kubelet-binary"
  nsenter -t "$(cat "$st/holder.pid")" -m -u -n -- setsid "$NODE_HACK/kubelet-supervisor.sh" "$K8S_BIN/kubelet" "$st" >>"$st/logs/kubelet-supervisor.log" 2>&1 </dev/null &
  echo $! > "$st/kubelet-supervisor.pid"
  log "node $n ($name, $(ha_ip "$n")): namespaces, containerd and the kubelet supervisor up"
}
for n in "${HA_NODES[@]}"; do start_node "$n"; done

# --- 5. kubeadm init on node 1, join on 2 and 3 ---
hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }   # [0-9a-f]: valid in a token
token=$(hex 3).$(hex 8)
cert_key=$(hex 32)
node_registration() { # N
  cat <<EOF
nodeRegistration:
  name: $(ha_name "$1")
  criSocket: unix://$(ha_ctrd_sock "$1")
  imagePullPolicy: Never
  taints: []
  kubeletExtraArgs:
  - name: node-ip
    value: $(ha_ip "$1")
  - name: cgroup-root
    value: /$(ha_name "$1")
EOF
}
cat > "$HA_STATE/kubeadm-init.yaml" <<EOF
# Generated by hack/ha/up.sh (selfhost tier ha).
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
bootstrapTokens:
- token: $token
  ttl: 2h
certificateKey: $cert_key
localAPIEndpoint:
  advertiseAddress: $(ha_ip 1)
  bindPort: 6443
$(node_registration 1)
skipPhases:
- preflight
- addon/coredns
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: $version
clusterName: selfhost-ha
controlPlaneEndpoint: $HA_LB_IP:6443
networking:
  podSubnet: $POD_CIDR
  serviceSubnet: $SERVICE_CIDR
  dnsDomain: cluster.local
apiServer:
  certSANs: [$HA_LB_IP, $(ha_ip 1), $(ha_ip 2), $(ha_ip 3), 127.0.0.1, localhost]
$(kubeadm_runtime_configs "$HA_STATE/resolv.conf")
EOF
t_init=$SECONDS
log "kubeadm init on node 1 (log: $HA_LOGS/kubeadm-init-1.log)"
if ! in_node 1 "$K8S_BIN/kubeadm" init --config "$HA_STATE/kubeadm-init.yaml" --upload-certs -v=1 >"$HA_LOGS/kubeadm-init-1.log" 2>&1; then
  tail -30 "$HA_LOGS/kubeadm-init-1.log" >&2
  die "kubeadm init failed on node 1 (log: $HA_LOGS/kubeadm-init-1.log)"
fi
log "kubeadm init done in $((SECONDS - t_init))s"
install -m 600 "$(ha_node_state 1)/root/etc/kubernetes/admin.conf" "$HA_STATE/kubeconfig"
STATE=$HA_STATE extract_admin_credentials
ca_hash=sha256:$(openssl x509 -pubkey -in "$HA_STATE/pki/ca.crt" | openssl pkey -pubin -outform der 2>/dev/null | sha256sum | cut -d' ' -f1)

for n in "${HA_NODES[@]:1}"; do
  cat > "$HA_STATE/kubeadm-join-$n.yaml" <<EOF
# Generated by hack/ha/up.sh (selfhost tier ha).
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: $HA_LB_IP:6443
    token: $token
    caCertHashes: [$ca_hash]
controlPlane:
  localAPIEndpoint:
    advertiseAddress: $(ha_ip "$n")
    bindPort: 6443
  certificateKey: $cert_key
$(node_registration "$n")
skipPhases:
- preflight
EOF
  t_join=$SECONDS
  log "kubeadm join --control-plane on node $n (log: $HA_LOGS/kubeadm-join-$n.log)"
  if ! in_node "$n" "$K8S_BIN/kubeadm" join --config "$HA_STATE/kubeadm-join-$n.yaml" -v=1 >"$HA_LOGS/kubeadm-join-$n.log" 2>&1; then
    tail -30 "$HA_LOGS/kubeadm-join-$n.log" >&2
    die "kubeadm join failed on node $n (log: $HA_LOGS/kubeadm-join-$n.log)"
  fi
  log "node $n joined in $((SECONDS - t_join))s"
done

# --- 6. CNI, then wait ---
sed -e "s|\${POD_BRIDGE}|$HA_POD_BRIDGE|g" -e "s|\${POD_CIDR}|$POD_CIDR|g" -e "s|\${SERVICE_CIDR}|$SERVICE_CIDR|g" \
  -e "s|\${HA_SUBNET}|$HA_SUBNET|g" "$HA_HACK/manifests/selfhost-cni.yaml" > "$HA_STATE/selfhost-cni.yaml"
STATE=$HA_STATE NODE_IP=$HA_LB_IP apply_manifest "$HA_STATE/selfhost-cni.yaml"
ha_nodes_ready() {
  ha_api GET /api/v1/nodes | jq -e '[.items[] | select(.status.conditions[] | select(.type == "Ready") | .status == "True")] | length == 3' >/dev/null
}
ha_wait_for "three Ready nodes" 300 ha_nodes_ready
echo $((SECONDS - t0)) > "$HA_STATE/up-seconds"
log "tier ha $version up in $((SECONDS - t0))s: three control-plane nodes behind $HA_LB_IP:6443"
echo "export KUBECONFIG=$HA_STATE/kubeconfig"
