#!/usr/bin/env bash
# make demo: selfhost end to end on this machine, as a new user would see it.
#
#   1. tier node at UPGRADE_FROM (a real kubeadm node: static pods); builds what is missing
#   2. the selfhost image (make image) imported into the node; kubectl selfhost on PATH
#   3. kubectl apply -k deploy/default (CRD, RBAC, the operator in its own cluster), one replica
#      (a one-node cluster: deploy/README.md "One node")
#   4. the sample ControlPlane at UPGRADE_FROM; `kubectl selfhost status --watch` shows the pivot
#   5. spec.version bumped to DEFAULT_VERSION; the same watch shows the upgrade
#   6. what to type next, and how to tear it down
# Stops only what it started (the watch, by its PID); the node stays up until `make cluster-down`.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
# shellcheck source=versions.sh
source hack/versions.sh
CACHE=${SELFHOST_CACHE:-$HOME/.cache/selfhost}
FROM=$UPGRADE_FROM
TO=$DEFAULT_VERSION
BIN=$REPO/.cluster/demo/bin
export KUBECONFIG=$REPO/.cluster/node/kubeconfig
t0=$SECONDS

say() { printf '\n\033[1m== %s\033[0m (%ss)\n' "$*" "$((SECONDS - t0))"; }
die() { echo "demo: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "the node tier needs root (it runs a kubelet and containerd on this host)"
if [ ! -x "$CACHE/k8s/$FROM/bin/kubelet" ] || [ ! -x "$CACHE/k8s/$TO/bin/kubelet" ]; then
  cat <<MSG
First run on this machine: Kubernetes $FROM and $TO (kubelet, kubeadm, the control plane, kubectl),
etcd, containerd and their images are built from source (Go modules at pinned versions).
That takes about 60-90 minutes on 2 cores; the build logs below show progress. Later runs: ~10 min.
MSG
fi

say "1/6 tier node at $FROM (make cluster-up TIER=node VERSION=$FROM)"
make -s cluster-up TIER=node VERSION="$FROM"

say "2/6 the selfhost image and kubectl selfhost"
make -s build load-selfhost-image node-kubectl VERSION="$FROM"
mkdir -p "$BIN"
ln -sfn "$CACHE/k8s/$FROM/bin/kubectl" "$BIN/kubectl"
make -s install-plugin PREFIX="$REPO/.cluster/demo" >/dev/null
export PATH=$BIN:$PATH
kubectl selfhost --help | sed -n 1p   # sed reads it all: no SIGPIPE under pipefail

say "3/6 kubectl apply --server-side -k deploy/default"
kubectl apply --server-side -k deploy/default
kubectl -n kube-system scale deployment/selfhost-operator --replicas=1
kubectl wait --for=condition=Established crd/controlplanes.selfhost.dev --timeout=60s
kubectl -n kube-system rollout status deployment/selfhost-operator --timeout=5m

# Runs `kubectl selfhost status --watch` in the background until $1 holds, then stops it by PID.
watch_until() {
  local what=$1 check=$2 timeout=$3
  kubectl selfhost status --watch &
  local watcher=$! deadline=$((SECONDS + timeout))
  until eval "$check"; do
    if [ $SECONDS -ge $deadline ]; then
      kill "$watcher" 2>/dev/null || true
      die "$what did not happen within ${timeout}s; see: kubectl selfhost status; kubectl -n kube-system logs deploy/selfhost-operator"
    fi
    sleep 3
  done
  kill -INT "$watcher" 2>/dev/null || true
  wait "$watcher" 2>/dev/null || true
  kubectl selfhost status
}
jp() { kubectl get controlplane cluster -o "jsonpath=$1" 2>/dev/null || true; }
ready() { [ "$(jp '{.status.conditions[?(@.type=="Ready")].status}')" = True ]; }

say "4/6 the pivot: the sample ControlPlane at $FROM"
sed "s/^  version: .*/  version: $FROM/" deploy/samples/controlplane.yaml | kubectl apply -f -
watch_until "the pivot" '[ "$(jp "{.status.phase}")" = SelfHosted ] && ready' 1200

say "5/6 the upgrade: spec.version $FROM → $TO (one edit)"
make -s load-images VERSION="$TO"
kubectl patch controlplane cluster --type=merge -p "{\"spec\":{\"version\":\"$TO\"}}"
watch_until "the upgrade" '[ "$(jp "{.status.lastUpgrade.toVersion}")" = "$TO" ] && [ "$(jp "{.status.lastUpgrade.result}")" = Succeeded ] && [ "$(jp "{.status.phase}")" = SelfHosted ] && ready' 1200
kubectl version | sed -n 's/^Server Version/Server Version/p'

say "6/6 done in $((SECONDS - t0))s"
cat <<MSG
Try next (export PATH=$BIN:\$PATH KUBECONFIG=$KUBECONFIG):
  kubectl get controlplane                      # PHASE, VERSION, STEP, READY
  kubectl selfhost status --watch               # every component on every node, the plan, checkpoints
  kubectl selfhost plan                         # where this cluster can go next, and how
  make node-reboot                              # a cold reboot: the checkpoints bring it back
  kubectl patch controlplane cluster --type=merge -p '{"spec":{"mode":"StaticPods"}}'   # back to kubeadm
Tear down (restores the host): make cluster-down
MSG
