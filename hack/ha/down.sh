#!/usr/bin/env bash
# Stop tier ha and restore the host (make cluster-down): everything hack/ha/up.sh started or
# created, by recorded PID and recorded path, nothing else.
#
#   1. per node: the kubelet supervisor (it stops its kubelet), every container (ctr tasks kill),
#      containerd, its shims (by executable and working directory), then whatever is left in the
#      node's own cgroup root (pods of its kubelet), and last the namespace holder
#   2. haproxy; the namespaces (their veths, bridge, routes, iptables and sysctls go with them)
#   3. only once no process of the tier is left: the host's settings the kubelets changed
#      (hack/node/host.sh net-reset: sysctls, our iptables chains and the tables made for them),
#      the cgroup roots, the runtime roots and the paths it created. (Removing a mount point while a
#      node's mount namespace lives would detach the node's bind mount there, and its kubelet would
#      write to the host's directory instead.)
#   4. hack/node/host.sh check against the record taken by up.sh: on a difference the state (and the
#      record) is kept, so that cluster-down can run again; exit 1
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || die "tier ha needs root"
[ -d "$HA_STATE" ] || { log "tier ha is not up"; exit 0; }

# --- 1. nodes ---
for n in "${HA_NODES[@]}"; do
  st=$(ha_node_state "$n")
  [ -d "$st" ] || continue
  stop_pidfile "$st/kubelet-supervisor.pid" TERM 15
  stop_pidfile "$st/kubelet.pid" KILL 0
  sock=$(ha_ctrd_sock "$n")
  if alive "$st/containerd.pid" && [ -S "$sock" ]; then
    for t in $("$CONTAINERD_BIN/ctr" --address "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
      "$CONTAINERD_BIN/ctr" --address "$sock" -n k8s.io tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true
    done
  fi
  shims=$(runtime_shim_pids "$(ha_ctrd_state "$n")")
  stop_pidfile "$st/containerd.pid" TERM 10
  for pid in $shims; do if [ -d "/proc/$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi; done
  # Containers whose shim is gone: their processes are in the node's cgroup root.
  for _ in $(seq 100); do
    left=$(ha_cgroup_pids "$n")
    [ -z "$left" ] && [ -z "$(runtime_shim_pids "$(ha_ctrd_state "$n")")" ] && break
    # shellcheck disable=SC2086  # a list of PIDs
    kill -KILL $left 2>/dev/null || true
    sleep 0.1
  done
  [ -z "$(ha_cgroup_pids "$n")" ] || log "warning: node $n: processes left in its cgroup root: $(ha_cgroup_pids "$n" | tr '\n' ' ')"
  stop_pidfile "$st/holder.pid" KILL 0
done

# --- 2. network ---
stop_pidfile "$HA_STATE/haproxy.pid" TERM 5
for ns in $(for n in "${HA_NODES[@]}"; do ha_name "$n"; done) "$HA_SW_NS"; do
  if [ -e "/run/netns/$ns" ]; then ip netns del "$ns"; fi
done
if ip link show "$HA_HOST_IF" >/dev/null 2>&1; then ip link del "$HA_HOST_IF"; fi
# `ip netns add` made /run/netns a mount point (a bind of itself) if it was not one before.
if ! grep -q '^/run/netns ' "$HA_STATE/host/propagation" 2>/dev/null && [ -z "$(ip netns list)" ]; then
  while mountpoint -q /run/netns; do umount /run/netns; done
fi

# --- 3. host settings, cgroups, paths: only with no process of the tier left ---
busy=
for n in "${HA_NODES[@]}"; do
  st=$(ha_node_state "$n")
  if [ -n "$(ha_cgroup_pids "$n")" ] || alive "$st/holder.pid" || alive "$st/containerd.pid" || [ -n "$(runtime_shim_pids "$(ha_ctrd_state "$n")")" ]; then busy="$busy $n"; fi
done
[ -z "$busy" ] || die "node(s)$busy still run processes (above): the host is left as it is; run make cluster-down again"
if [ -f "$HA_STATE/host/recorded" ]; then
  SELFHOST_NODE_STATE=$HA_STATE "$REPO/hack/node/host.sh" net-reset
fi
for n in "${HA_NODES[@]}"; do
  for c in /sys/fs/cgroup/*/; do
    d=$c$(ha_name "$n")
    [ -d "$d" ] || continue
    find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
done
if [ -f "$HA_STATE/created-paths" ]; then
  while IFS= read -r p; do
    [ -n "$p" ] || continue
    if findmnt -rn -o TARGET | grep -q "^$p\(/\|$\)"; then
      log "warning: $p still has mounts on the host; not removed"
      continue
    fi
    rm -rf "$p"
  done < "$HA_STATE/created-paths"
fi
for n in "${HA_NODES[@]}"; do rm -rf "$(ha_ctrd_root "$n")" "$(ha_ctrd_state "$n")"; done

# --- 4. check ---
if [ -f "$HA_STATE/host/recorded" ] && ! SELFHOST_NODE_STATE=$HA_STATE "$REPO/hack/node/host.sh" check; then
  die "tier ha stopped, but the host differs from its record (above; record kept in $HA_STATE/host)"
fi
# Keep the logs for a post-mortem; everything else of the state goes.
rm -rf "$HA_STATE.logs"
mkdir -p "$HA_STATE.logs"
if [ -d "$HA_LOGS" ]; then mv "$HA_LOGS" "$HA_STATE.logs/tier"; fi
for n in "${HA_NODES[@]}"; do
  if [ -d "$(ha_node_state "$n")/logs" ]; then mv "$(ha_node_state "$n")/logs" "$HA_STATE.logs/node-$n"; fi
done
rm -rf "$HA_STATE"
log "tier ha stopped; host restored (logs kept in $HA_STATE.logs)"
