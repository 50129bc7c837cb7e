#!/usr/bin/env bash
# make e2e-kind: the in-cluster e2e spec (e2e/incluster-spec.ts, shared with tier node) against a
# kind cluster, for machines with Docker and kind. This project's CI machine has neither; this
# script says so and fails rather than skipping.
#
#   1. docker build the selfhost image from the Dockerfile (localhost/selfhost/selfhost:dev)
#   2. kind create cluster at KIND_NODE_IMAGE (default kindest/node:$UPGRADE_FROM), one node
#   3. kind load the image into it
#   4. vitest's e2e-kind project against it (SELFHOST_E2E_KUBECONFIG, SELFHOST_E2E_KUBECTL)
#   5. kind delete cluster (unless SELFHOST_E2E_KEEP=1)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
# shellcheck source=versions.sh
source hack/versions.sh
NAME=${KIND_CLUSTER_NAME:-selfhost-e2e}
FROM=${KIND_FROM:-$UPGRADE_FROM}
TO=${KIND_TO:-$DEFAULT_VERSION}
NODE_IMAGE=${KIND_NODE_IMAGE:-kindest/node:$FROM}
STATE=$REPO/.cluster/kind
missing=()
for tool in docker kind kubectl; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "e2e-kind: needs Docker, kind and kubectl on PATH; missing: ${missing[*]} (the in-cluster spec runs here as make e2e-node E2E_FILES=e2e/node-incluster.test.ts)" >&2
  exit 1
fi
docker info >/dev/null 2>&1 || { echo "e2e-kind: docker is installed but its engine does not answer (docker info)" >&2; exit 1; }

mkdir -p "$STATE"
docker build -t localhost/selfhost/selfhost:dev .
kind create cluster --name "$NAME" --image "$NODE_IMAGE" --kubeconfig "$STATE/kubeconfig" --wait 5m
cleanup() { [ "${SELFHOST_E2E_KEEP:-}" = 1 ] || kind delete cluster --name "$NAME" --kubeconfig "$STATE/kubeconfig"; }
trap cleanup EXIT
kind load docker-image --name "$NAME" localhost/selfhost/selfhost:dev
SELFHOST_E2E_KUBECONFIG=$STATE/kubeconfig SELFHOST_E2E_KUBECTL=$(command -v kubectl) \
  SELFHOST_UPGRADE_FROM=$FROM SELFHOST_UPGRADE_TO=$TO \
  npx vitest run --project e2e-kind
