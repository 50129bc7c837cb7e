#!/usr/bin/env bash
# Simulate a cold reboot of the node (make node-reboot).
#
# Power off: the kubelet (and its supervisor) are SIGKILLed, every container is SIGKILLed through
# the runtime, then containerd and the shims; what a reboot loses is dropped: every mount of the
# runtime and the kubelet (container root filesystems, shm, network namespaces, kubelet tmpfs
# volumes), containerd's state dir (/run), the iptables rules and chains, the pod bridge and veths,
# the node interface and routes, conntrack entries, sysctls and mount propagation (back to the
# recorded originals), the pods' cgroups. What a disk keeps stays: /etc/kubernetes (static pod
# manifests, certificates), /var/lib/kubelet, /var/lib/etcd, containerd's root (images, container
# metadata), /var/lib/cni (host-local IP allocations, as on a real disk).
# Power on: host prep (what boot-time units would do), containerd, the supervised kubelet; then
# wait until the node reports Ready again and the static pods, kube-proxy and the CNI pod run
# containers started after the boot.
#
# Prints the recovery time (from power-on to all Ready) and writes it to .cluster/node/reboot-seconds;
# the time until the API answered /readyz goes to .cluster/node/reboot-api-seconds.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
if [ ! -f "$STATE/host/recorded" ] || [ ! -f "$STATE/kubeconfig" ]; then
  die "the node tier is not up (make cluster-up TIER=node)"
fi
t0=$SECONDS

# --- power off ---
log "power off: killing the kubelet, every container, the shims and containerd"
power_off
log "processes and runtime state gone after $((SECONDS - t0))s; resetting network, sysctls, cgroups"
"$NODE_HACK/host.sh" net-reset
"$NODE_HACK/host.sh" cgroups
log "powered off in $((SECONDS - t0))s"

# --- power on ---
boot=$(date -u +%FT%TZ)
date -u +%FT%T.%3NZ > "$STATE/reboot-boot-time"
t_boot=$SECONDS
"$NODE_HACK/host.sh" prep
start_containerd
start_kubelet
wait_for "the apiserver after the reboot" 300 api GET /readyz
echo $((SECONDS - t_boot)) > "$STATE/reboot-api-seconds"
log "the API answers $((SECONDS - t_boot))s after power-on"
node_ready_since() {
  api GET "/api/v1/nodes/$NODE_NAME" | jq -e --arg since "$boot" \
    '.status.conditions[] | select(.type == "Ready") | .status == "True" and .lastHeartbeatTime >= $since' >/dev/null
}
wait_for "node $NODE_NAME Ready after the reboot" 300 node_ready_since
wait_for "static pods, kube-proxy and the CNI running again" 300 pods_ready "$boot"
echo $((SECONDS - t_boot)) > "$STATE/reboot-seconds"
log "node back: Ready with its static pods in $((SECONDS - t_boot))s after power-on"
