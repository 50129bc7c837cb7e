# Shared settings and helpers of the node tier (sourced by hack/node/*.sh).
# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this
#
# Everything the tier creates on the host is named here, and everything it changes is recorded
# under $STATE (.cluster/node in the repo, git-ignored) so that down.sh can undo exactly that.
set -euo pipefail

NODE_HACK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$NODE_HACK/../.." && pwd)
# shellcheck source=../versions.sh
source "$REPO/hack/versions.sh"
CACHE=${SELFHOST_CACHE:-$HOME/.cache/selfhost}
STATE=${SELFHOST_NODE_STATE:-$REPO/.cluster/node}
LOGS=$STATE/logs

CONTAINERD_BIN=$CACHE/containerd/$CONTAINERD_VERSION/bin
CRICTL=$CACHE/crictl/$CRICTL_VERSION/bin/crictl

# Network: every address the tier uses lives on interfaces it creates.
NODE_NAME=selfhost-node
NODE_IP=10.10.0.1                 # on $NODE_IF; the apiserver's advertise address and the node IP
NODE_IF=selfhost-node0            # a port-less bridge used as a dummy (the kernel has no dummy driver)
POD_CIDR=10.244.0.0/16            # cluster pod CIDR (kubeadm networking.podSubnet)
NODE_POD_CIDR=10.244.0.0/24       # this node's range (the CNI's host-local subnet)
POD_GW=10.244.0.1
POD_BRIDGE=selfhost0              # created by the bridge CNI plugin
SERVICE_CIDR=10.96.0.0/16
GUARD_CHAIN=SELFHOST-GUARD        # filter/FORWARD guard: pods reach only pods, nothing outside reaches pods

# Runtime paths (containerd has its own root/state/socket; Kubernetes' paths are the standard ones
# kubeadm and the kubelet hard-code, recorded and removed only if they did not exist before).
CTRD_ROOT=/var/lib/selfhost-node/containerd
CTRD_STATE=/run/selfhost-node/containerd
CTRD_SOCK=$CTRD_STATE/containerd.sock
CTRD_CONFIG=$STATE/containerd.toml
CNI_BIN_DIR=/opt/cni/bin
CNI_CONF_DIR=/etc/cni/net.d
# Host paths the tier (kubeadm, kubelet, containerd, CNI, kube-proxy's hostPath volumes) may create.
OWNED_PATHS=(/etc/kubernetes /var/lib/kubelet /var/lib/etcd /var/lib/selfhost /var/lib/cni /etc/cni /opt/cni
  /var/lib/selfhost-node /run/selfhost-node /run/selfhost /run/xtables.lock /usr/lib/modules /var/log/pods
  /var/log/containers /run/netns /var/run/nri /etc/nri /opt/nri /etc/cdi /var/run/cdi)
# Sysctls the tier or the components it runs change (kubelet: vm.*, kernel.*; kube-proxy:
# route_localnet and conntrack timeouts; host prep: forwarding and bridge netfilter).
SYSCTLS=(net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables
  net.ipv4.conf.all.route_localnet net.netfilter.nf_conntrack_max
  net.netfilter.nf_conntrack_tcp_timeout_established net.netfilter.nf_conntrack_tcp_timeout_close_wait
  vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes)

# LOG_TAG: which tier speaks (tier ha sources this file with LOG_TAG=ha).
log() { printf '[%s %s] %s\n' "${LOG_TAG:-node}" "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

ctr() { "$CONTAINERD_BIN/ctr" --address "$CTRD_SOCK" -n k8s.io "$@"; }
crictl() { "$CRICTL" --runtime-endpoint "unix://$CTRD_SOCK" --image-endpoint "unix://$CTRD_SOCK" --timeout 10s "$@"; }
kubectl_node() { # kubectl from the cache when built, else the test's TypeScript does without
  "$CACHE/k8s/$(cat "$STATE/version")/bin/kubectl" --kubeconfig "$STATE/kubeconfig" "$@"
}

# alive PIDFILE: the recorded process still runs (and is not a zombie).
alive() {
  local pid
  [ -f "$1" ] || return 1
  pid=$(cat "$1")
  [ -n "$pid" ] && [ -d "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null
}

# stop_pidfile PIDFILE [SIGNAL] [WAIT_SECONDS]: stop a process we started, by its recorded PID.
stop_pidfile() {
  local f=$1 sig=${2:-TERM} wait=${3:-20} pid i
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if alive "$f"; then
    kill "-$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < wait * 10; i++)); do alive "$f" || break; sleep 0.1; done
    if alive "$f"; then kill -KILL "$pid" 2>/dev/null || true; sleep 0.2; fi
  fi
  rm -f "$f"
}

# runtime_shim_pids [STATE_DIR]: PIDs of the containerd shims our containerd (of STATE_DIR, default
# $CTRD_STATE) started. A shim is identified exactly, not by name: its executable is our cached
# containerd-shim-runc-v2 and its working directory is a task bundle under that containerd's state
# dir (it outlives a killed containerd, and containerd 2.x keeps no shim.pid file).
runtime_shim_pids() {
  local state=${1:-$CTRD_STATE} exe pid cwd
  while IFS= read -r exe; do
    pid=${exe#/proc/}
    pid=${pid%/exe}
    cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || continue
    case "$cwd" in "$state"/*) echo "$pid" ;; esac
  done < <(find /proc -mindepth 2 -maxdepth 2 -name exe -lname "$CONTAINERD_BIN/containerd-shim-runc-v2" 2>/dev/null)
}

# kubeadm_runtime_configs RESOLV_CONF: the KubeletConfiguration and KubeProxyConfiguration
# documents of a test bed kubeadm config (cgroupfs on cgroup v1, no eviction or image GC on a
# shared disk, no oom_score_adj, iptables kube-proxy).
kubeadm_runtime_configs() {
  cat <<EOF
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
oomScoreAdj: 0
imageGCHighThresholdPercent: 100
evictionHard:
  nodefs.available: "0%"
  nodefs.inodesFree: "0%"
  imagefs.available: "0%"
resolvConf: $1
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
oomScoreAdj: 0
# NodePorts on the node IP only (not on the host's own interfaces).
nodePortAddresses: [primary]
conntrack:
  maxPerCore: 0
EOF
}

# wait_for DESCRIPTION SECONDS COMMAND...: poll COMMAND every second until it succeeds; on a
# timeout, print what the node looks like (diagnose) and fail.
wait_for() {
  local what=$1 secs=$2 i
  shift 2
  for ((i = 0; i < secs; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  diagnose >&2 || true
  die "timed out after ${secs}s waiting for $what (logs: $LOGS)"
}

# diagnose: the node's conditions, the kube-system pods, the containers and the last errors of
# the kubelet and containerd: what a human looks at first when the tier does not come up.
diagnose() {
  echo "--- diagnosis (logs in $LOGS) ---"
  if [ -f "$STATE/pki/admin.key" ]; then
    api GET "/api/v1/nodes/$NODE_NAME" 2>/dev/null \
      | jq -r '.status.conditions[]? | "node \(.type)=\(.status): \(.reason) \(.message)"' 2>/dev/null
    api GET /api/v1/namespaces/kube-system/pods 2>/dev/null \
      | jq -r '.items[] | "pod \(.metadata.name): \(.status.phase) \([.status.containerStatuses[]?.state | keys[0]] | join(","))"' 2>/dev/null
  fi
  if [ -f "$STATE/crictl.yaml" ] && alive "$STATE/containerd.pid"; then
    "$CRICTL" --config "$STATE/crictl.yaml" ps -a 2>/dev/null | head -20
  fi
  for f in kubelet containerd; do
    [ -f "$LOGS/$f.log" ] || continue
    echo "--- last errors of $f ---"
    grep -E '^E[0-9]{4}|level=error' "$LOGS/$f.log" | tail -8 | cut -c1-300
  done
}

# Write containerd's config (format 4, containerd 2.x). Own root, state, socket, shim socket dir
# and netns mounts; the CRI plugin with cgroupfs (SystemdCgroup = false), Debian's runc,
# restrict_oom_score_adj (no CAP_SYS_RESOURCE in this VM), the pause image of the version as the
# pinned sandbox image; NRI and CDI off so nothing is created under /var/run/nri or /etc/cdi.
write_containerd_config() {
  local pause_image=$1
  mkdir -p "$STATE"
  cat > "$CTRD_CONFIG" <<EOF
# Generated by hack/node/lib.sh (selfhost node tier). Do not edit: cluster-up rewrites it.
version = 4
root = '$CTRD_ROOT'
state = '$CTRD_STATE'
imports = []
oom_score = 0
disabled_plugins = ['io.containerd.nri.v1.nri']

[plugins]
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = 'overlayfs'
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = '$pause_image'

  [plugins.'io.containerd.cri.v1.runtime']
    restrict_oom_score_adj = true
    disable_apparmor = true
    netns_mounts_under_state_dir = true
    cdi_spec_dirs = []
    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = 'runc'
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
        runtime_type = 'io.containerd.runc.v2'
        runtime_path = '$CONTAINERD_BIN/containerd-shim-runc-v2'
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
          BinaryName = '/usr/sbin/runc'
          SystemdCgroup = false
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = ['$CNI_BIN_DIR']
      conf_dir = '$CNI_CONF_DIR'

  [plugins.'io.containerd.grpc.v1.cri']
    stream_server_address = '127.0.0.1'

  [plugins.'io.containerd.internal.v1.opt']
    path = '$CTRD_ROOT/opt'

  [plugins.'io.containerd.image-verifier.v1.bindir']
    bin_dir = '$CTRD_ROOT/image-verifier/bin'

  [plugins.'io.containerd.server.v1.grpc']
    address = '$CTRD_SOCK'

  [plugins.'io.containerd.server.v1.ttrpc']
    address = '$CTRD_SOCK.ttrpc'

  [plugins.'io.containerd.shim.v1.manager']
    socket_dir = '$CTRD_STATE/s'
EOF
}

# start_containerd: start containerd detached (own session), PID in $STATE/containerd.pid.
start_containerd() {
  if alive "$STATE/containerd.pid"; then return 0; fi
  mkdir -p "$LOGS" "$CTRD_ROOT" "$CTRD_STATE"
  # runc and the shim are found through the config; PATH for anything they exec (iptables is not).
  setsid env PATH="$CONTAINERD_BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    "$CONTAINERD_BIN/containerd" --config "$CTRD_CONFIG" \
    >>"$LOGS/containerd.log" 2>&1 </dev/null &
  echo $! > "$STATE/containerd.pid"
  wait_for "containerd to serve $CTRD_SOCK" 60 "$CONTAINERD_BIN/ctr" --address "$CTRD_SOCK" version
  log "containerd $CONTAINERD_VERSION running (pid $(cat "$STATE/containerd.pid"))"
}

# start_kubelet: the supervised kubelet (hack/node/kubelet-supervisor.sh), detached.
start_kubelet() {
  if alive "$STATE/kubelet-supervisor.pid"; then return 0; fi
  mkdir -p "$LOGS"
  setsid "$NODE_HACK/kubelet-supervisor.sh" "$CACHE/k8s/$(cat "$STATE/version")/bin/kubelet" "$STATE" \
    >>"$LOGS/kubelet-supervisor.log" 2>&1 </dev/null &
  echo $! > "$STATE/kubelet-supervisor.pid"
  log "kubelet supervisor running (pid $(cat "$STATE/kubelet-supervisor.pid"))"
}

# --- Kubernetes API without kubectl (curl + the admin credentials of $STATE/kubeconfig) ---

# extract_admin_credentials: CA, client cert and key of the admin kubeconfig for curl.
extract_admin_credentials() {
  local kc=$STATE/kubeconfig
  mkdir -p "$STATE/pki"
  grep 'certificate-authority-data:' "$kc" | awk '{print $2}' | base64 -d > "$STATE/pki/ca.crt"
  grep 'client-certificate-data:' "$kc" | awk '{print $2}' | base64 -d > "$STATE/pki/admin.crt"
  grep 'client-key-data:' "$kc" | awk '{print $2}' | base64 -d > "$STATE/pki/admin.key"
  chmod 600 "$STATE/pki/admin.key"
}

# api METHOD PATH [curl args...]: one request to the node's apiserver; fails on HTTP errors.
api() {
  local method=$1 path=$2
  shift 2
  curl -sS --fail-with-body --max-time 20 --cacert "$STATE/pki/ca.crt" --cert "$STATE/pki/admin.crt" \
    --key "$STATE/pki/admin.key" -X "$method" "https://$NODE_IP:6443$path" "$@"
}

# render FILE: the manifest with this tier's ${VARS} filled in.
render() {
  local v args=()
  for v in POD_BRIDGE NODE_POD_CIDR POD_GW POD_CIDR SERVICE_CIDR NODE_IP CNI_BIN_DIR CNI_CONF_DIR NODE_NAME; do
    args+=(-e "s|\${$v}|${!v}|g")
  done
  sed "${args[@]}" "$1"
}

# apply_manifest FILE: server-side apply of each document of a rendered manifest (kinds the tier
# uses: ConfigMap, Service, DaemonSet, Deployment), as `kubectl apply --server-side` would.
apply_manifest() {
  local tmp doc kind name ns path
  tmp=$(mktemp -d)
  render "$1" | awk -v d="$tmp" 'BEGIN {n = 0; f = d "/0.yaml"} /^---$/ {n++; f = d "/" n ".yaml"; next} {print > f}'
  for doc in "$tmp"/*.yaml; do
    kind=$(sed -n 's/^kind: *//p' "$doc" | head -1)
    [ -n "$kind" ] || continue
    name=$(awk '/^metadata:/ {m = 1; next} m && /^  name:/ {print $2; exit}' "$doc")
    ns=$(awk '/^metadata:/ {m = 1; next} m && /^  namespace:/ {print $2; exit}' "$doc")
    case "$kind" in
      ConfigMap) path=/api/v1/namespaces/${ns:-default}/configmaps/$name ;;
      Service) path=/api/v1/namespaces/${ns:-default}/services/$name ;;
      DaemonSet) path=/apis/apps/v1/namespaces/${ns:-default}/daemonsets/$name ;;
      Deployment) path=/apis/apps/v1/namespaces/${ns:-default}/deployments/$name ;;
      *) rm -rf "$tmp"; die "apply_manifest: kind $kind is not handled" ;;
    esac
    api PATCH "$path?fieldManager=selfhost-node&force=true" \
      -H 'Content-Type: application/apply-patch+yaml' --data-binary "@$doc" >/dev/null
    log "applied $kind $ns/$name"
  done
  rm -rf "$tmp"
}

# node_ready: the node's Ready condition is True.
node_ready() {
  api GET "/api/v1/nodes/$NODE_NAME" | jq -e '.status.conditions[] | select(.type == "Ready") | .status == "True"' >/dev/null
}

# pods_ready SINCE: the tier's kube-system pods (the four control-plane components, as static pods
# or, on a pivoted node, as selfhost's pods; kube-proxy, the CNI) are all present, Running and
# Ready, and (if SINCE, an RFC 3339 UTC time, is given) every container of theirs was started at
# or after SINCE.
pods_ready() {
  local since=${1:-}
  api GET /api/v1/namespaces/kube-system/pods | jq -e --arg since "$since" --arg node "$NODE_NAME" '
    [.items[] | select(.spec.nodeName == $node and .metadata.deletionTimestamp == null)] as $pods
    | ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"] as $static
    | ($static | all(. as $c | $pods | any(.metadata.name == ($c + "-" + $node) or .metadata.labels["selfhost.dev/component"] == $c))) and
      ($pods | any(.metadata.labels["k8s-app"] == "kube-proxy")) and
      ($pods | any(.metadata.labels["k8s-app"] == "selfhost-cni")) and
      ($pods | map(select((.metadata.name | IN($static[] + "-" + $node))
                          or (.metadata.labels["selfhost.dev/component"] | IN($static[]))
                          or (.metadata.labels["k8s-app"] | IN("kube-proxy", "selfhost-cni"))))
       | all(.status.phase == "Running"
        and ((.status.conditions // []) | any(.type == "Ready" and .status == "True"))
        and ($since == "" or ((.status.containerStatuses // []) | all((.state.running.startedAt // "") >= $since)))))
  ' >/dev/null
}

# power_off: what pulling the plug does to the tier's processes and runtime state. The kubelet's
# supervisor and the kubelet are SIGKILLed (by recorded PID), every container is SIGKILLed through
# the runtime (ctr tasks kill), then containerd and its shims; every mount of the runtime and the
# kubelet is dropped and containerd's state dir (/run) removed. Network, sysctls and cgroups are
# host.sh's (net-reset, cgroups).
power_off() {
  local t pid shim_pids
  stop_pidfile "$STATE/kubelet-supervisor.pid" KILL 0
  stop_pidfile "$STATE/kubelet.pid" KILL 0
  shim_pids=$(runtime_shim_pids)
  echo "$shim_pids" > "$STATE/shim.pids"
  if alive "$STATE/containerd.pid"; then
    for t in $(ctr tasks ls -q 2>/dev/null); do ctr tasks kill -s SIGKILL "$t" >/dev/null 2>&1 & done
    wait
  fi
  stop_pidfile "$STATE/containerd.pid" KILL 0
  for pid in $shim_pids; do
    if [ -d "/proc/$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  # Container processes die with their PID namespace's init; wait for the shims to be reaped.
  for _ in $(seq 50); do [ -z "$(runtime_shim_pids)" ] && break; sleep 0.1; done
  [ -z "$(runtime_shim_pids)" ] || log "warning: containerd shims still running: $(runtime_shim_pids | tr '\n' ' ')"
  "$NODE_HACK/unmount.sh"
  # /run is a tmpfs on a real node: a boot clears it, the checkpoints' standby markers included.
  rm -rf "$CTRD_STATE" /run/selfhost-node /run/selfhost
  if ! grep -qx /run/xtables.lock "$STATE/host/paths" 2>/dev/null; then rm -f /run/xtables.lock; fi
}
