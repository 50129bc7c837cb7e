#!/usr/bin/env bash
# What tier ha looks like (make ha-status): the nodes and their Ready condition (through the load
# balancer), etcd's members and each one's health (etcdctl of the pinned etcd, run in node 1's
# namespaces with kubeadm's etcd client certificate), and which apiservers the load balancer
# considers up. Exit 1 unless three nodes are Ready and three etcd members are healthy.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
[ -f "$HA_STATE/kubeconfig" ] || die "tier ha is not up (make cluster-up TIER=ha)"
version=$(cat "$HA_STATE/version")
etcdctl=$CACHE/etcd/$(etcd_version_for "$version")/bin/etcdctl
[ -x "$etcdctl" ] || "$REPO/hack/build-etcd.sh" "$(etcd_version_for "$version")" >&2
rc=0

echo "NODES (through $HA_LB_IP:6443)"
nodes=$(ha_api GET /api/v1/nodes | jq -r '.items[] | [.metadata.name, (.status.conditions[] | select(.type == "Ready") | .status), .status.nodeInfo.kubeletVersion, ((.status.addresses[] | select(.type == "InternalIP") | .address))] | @tsv')
printf '%s\n' "$nodes" | awk -F'\t' '{printf "  %-14s Ready=%-5s %-8s %s\n", $1, $2, $3, $4}'
[ "$(printf '%s\n' "$nodes" | awk -F'\t' '$2 == "True"' | wc -l)" = 3 ] || rc=1

echo "ETCD MEMBERS"
endpoints=$(for n in "${HA_NODES[@]}"; do printf 'https://%s:2379,' "$(ha_ip "$n")"; done)
etcd_args=(--endpoints "${endpoints%,}" --cacert /etc/kubernetes/pki/etcd/ca.crt
  --cert /etc/kubernetes/pki/apiserver-etcd-client.crt --key /etc/kubernetes/pki/apiserver-etcd-client.key --command-timeout 5s)
in_node 1 "$etcdctl" "${etcd_args[@]}" member list -w table || rc=1
health=$(in_node 1 "$etcdctl" "${etcd_args[@]}" endpoint health -w json 2>/dev/null || true)
printf '%s\n' "$health" | jq -r '.[] | "  \(.endpoint) healthy=\(.health) took=\(.took)"' 2>/dev/null || true
[ "$(printf '%s\n' "$health" | jq '[.[] | select(.health == true)] | length' 2>/dev/null || echo 0)" = 3 ] || rc=1

echo "LOAD BALANCER ($HA_LB_IP:6443, /readyz checks)"
for n in "${HA_NODES[@]}"; do
  code=$(in_sw curl -sk -o /dev/null -w '%{http_code}' --max-time 2 "https://$(ha_ip "$n"):6443/readyz" || true)
  echo "  $(ha_name "$n") $(ha_ip "$n"):6443 /readyz $code"
done
exit $rc
