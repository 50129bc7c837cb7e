#!/usr/bin/env bash
# Tear the node tier down and leave the host as it was found (make cluster-down).
#
#   1-3. power_off (lib.sh): SIGKILL the kubelet supervisor and kubelet (recorded PIDs), every
#      container through the runtime, containerd and its shims; unmount what the tier mounted
#      (kubelet volumes, container rootfs, netns, shm); remove containerd's state dir
#   4. hack/node/host.sh undo: iptables chains/rules, interfaces, conntrack entries, sysctls,
#      mount propagation, cgroups, and the paths the tier created (/etc/kubernetes, /var/lib/kubelet,
#      /var/lib/etcd, /var/lib/cni, /etc/cni, /opt/cni, containerd's root and state, ...)
#   5. hack/node/host.sh check and no process of the tier left; the state under .cluster/node is
#      removed (logs are kept; the host record too if something still differs)
# Safe to run when nothing is up.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
set +e

if [ ! -f "$STATE/host/recorded" ] && ! compgen -G "$STATE/*.pid" >/dev/null; then
  log "node tier is not up"
  exit 0
fi
log "tearing down the node tier"
# Nothing on this node is worth a graceful stop (etcd's data goes too): pull the plug, then undo.
power_off
"$NODE_HACK/host.sh" undo
if "$NODE_HACK/host.sh" check; then
  log "host restored"
  rc=0
else
  log "WARNING: the host differs from its record (above)"
  rc=1
fi
# A container's processes can outlive its killed shim by a moment (they are reparented and get
# their SIGKILL late): give them 10 s to go before calling them left over.
left=$("$NODE_HACK/snapshot.sh" --procs)
for _ in $(seq 20); do
  [ -n "$left" ] || break
  sleep 0.5
  left=$("$NODE_HACK/snapshot.sh" --procs)
done
if [ -n "$left" ]; then
  log "WARNING: processes of the tier are still running:"
  echo "$left" >&2
  rc=1
fi
# Keep the logs of the last run; drop every other piece of state. If the host still differs,
# keep its record too: a second cluster-down (or cluster-up) retries from it.
if [ $rc = 0 ]; then
  find "$STATE" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} +
else
  find "$STATE" -mindepth 1 -maxdepth 1 ! -name logs ! -name host -exec rm -rf {} +
fi
exit $rc
