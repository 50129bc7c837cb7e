# Shared settings and helpers of tier ha (sourced by hack/ha/*.sh): three kubeadm control-plane
# nodes on this machine, each in its own network, mount and UTS namespace, behind haproxy.
# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this
#
# Layout (every address lives on interfaces this tier creates; nothing routes beyond them):
#
#   host ── selfhost-ha0 10.20.0.1/24 ─┐
#                                      │  netns selfhost-ha-sw: bridge br0, haproxy on 10.20.0.10:6443
#   netns selfhost-ha-1  eth0 10.20.0.11 ─┤  (the load balancer, kubeadm's controlPlaneEndpoint)
#   netns selfhost-ha-2  eth0 10.20.0.12 ─┤
#   netns selfhost-ha-3  eth0 10.20.0.13 ─┘
#
# A node is a holder process (`sleep infinity`) in its netns plus private mount and UTS
# namespaces, where the node's own directories are bind-mounted over the standard paths kubeadm
# and the kubelet hard-code (/etc/kubernetes, /var/lib/kubelet, /var/lib/etcd, the CNI's...), and
# where its containerd and supervised kubelet run (nsenter -t holder). Each kubelet has its own
# cgroup root (/selfhost-ha-N in every hierarchy), so three nodes' pods never share a cgroup.
# Pods: node N's bridge CNI hands out 10.244.N.0/24; each node routes the others' ranges to them.
set -euo pipefail

HA_HACK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The node tier's helpers (log, die, alive, stop_pidfile, runtime_shim_pids, the containerd config,
# api, apply_manifest...): this tier reuses them with its own paths, setting STATE (and NODE_IP,
# CTRD_*) for the call where a helper reads them.
LOG_TAG=ha
# shellcheck source=../node/lib.sh
source "$HA_HACK/../node/lib.sh"
HA_STATE=${SELFHOST_HA_STATE:-$REPO/.cluster/ha}
HA_LOGS=$HA_STATE/logs
HA_NODES=(1 2 3)
HA_SUBNET=10.20.0.0/24
HA_HOST_IP=10.20.0.1
HA_HOST_IF=selfhost-ha0
HA_LB_IP=10.20.0.10
HA_SW_NS=selfhost-ha-sw
HA_BRIDGE=br0
HA_POD_BRIDGE=selfhost0
HA_GUARD_CHAIN=SELFHOST-HA-GUARD    # FORWARD: nothing forwarded to or from the tier
HA_INPUT_CHAIN=SELFHOST-HA-INPUT    # INPUT: only the tier's own addresses

ha_name() { echo "selfhost-ha-$1"; }    # node name, hostname, netns name and cgroup root
ha_ip() { echo "10.20.0.1$1"; }
ha_pod_cidr() { echo "10.244.$1.0/24"; }
ha_node_state() { echo "$HA_STATE/node-$1"; }
# containerd of node N: its own root, state and socket (no bind mount needed).
ha_ctrd_root() { echo "/var/lib/selfhost-ha/$1/containerd"; }
ha_ctrd_state() { echo "/run/selfhost-ha/$1/containerd"; }
ha_ctrd_sock() { echo "$(ha_ctrd_state "$1")/containerd.sock"; }

# Paths kubeadm, the kubelet, the CNI and selfhost use at fixed places: per node, a directory of
# its own bind-mounted over each inside the node's mount namespace. On the host they exist only
# as empty mount points (created if missing, recorded, removed by down.sh).
HA_NODE_PATHS=(/etc/kubernetes /var/lib/kubelet /var/lib/etcd /var/lib/cni /etc/cni /opt/cni
  /var/log/pods /var/log/containers /var/lib/selfhost /run/selfhost)
# Host paths this tier may create (mount points above, and its own runtime roots).
# /usr/lib/modules: kube-proxy mounts /lib/modules (DirectoryOrCreate), which is the host's.
HA_OWNED_PATHS=("${HA_NODE_PATHS[@]}" /var/lib/selfhost-ha /run/selfhost-ha /run/netns /run/xtables.lock /usr/lib/modules)

# in_node N CMD...: run CMD in node N's namespaces (net, mount, UTS) through its holder.
in_node() {
  local n=$1
  shift
  nsenter -t "$(cat "$(ha_node_state "$n")/holder.pid")" -m -u -n -- "$@"
}

# in_sw CMD...: run CMD in the switch's network namespace (the bridge and the load balancer).
in_sw() { nsenter --net="/run/netns/$HA_SW_NS" -- "$@"; }

# ha_api METHOD PATH [curl args]: one request through the load balancer (the node tier's api).
ha_api() { STATE=$HA_STATE NODE_IP=$HA_LB_IP api "$@"; }

ha_wait_for() {
  local what=$1 secs=$2 i
  shift 2
  for ((i = 0; i < secs; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  die "timed out after ${secs}s waiting for $what (logs: $HA_LOGS)"
}

# ha_cgroup_pids N: every process in node N's cgroup root (the pods its kubelet started), found
# exactly by the cgroup path this tier created for it.
ha_cgroup_pids() {
  grep -l ":/$(ha_name "$1")/" /proc/[0-9]*/cgroup 2>/dev/null | cut -d/ -f3 || true
}
