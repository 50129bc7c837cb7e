#!/usr/bin/env bash
# Build kwok (the fake-node controller of tier "sim") for one version from the Go module proxy.
#
# Usage: hack/build-kwok.sh [vX.Y.Z]   (default: KWOK_VERSION from hack/versions.sh)
# Outputs, rebuilt only when missing:
#   $SELFHOST_CACHE/kwok/<version>/bin/kwok
#   $SELFHOST_CACHE/kwok/<version>/stages.yaml   kwok's "fast" stages (what kwokctl feeds it):
#     node-initialize, node-heartbeat-with-lease, pod-ready, pod-complete, pod-delete.
#     A standalone kwok without stages refuses to start ("no stages found").
# sigs.k8s.io/kwok's go.mod has no replace directives, so `go install module@version` works
# directly (into a temporary GOBIN, moved into the cache when complete).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.sh
source "$here/versions.sh"
version=${1:-$KWOK_VERSION}
if [[ ! "$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "build-kwok: version must look like v0.8.0, got '$version'" >&2
  exit 2
fi
cache=${SELFHOST_CACHE:-$HOME/.cache/selfhost}
base="$cache/kwok/$version"
out="$base/bin"
if [ -x "$out/kwok" ] && [ -s "$base/stages.yaml" ]; then
  echo "build-kwok: $version already built in $base"
  exit 0
fi
mkdir -p "$out"
export GOTOOLCHAIN=${GOTOOLCHAIN:-local} GOFLAGS=-buildvcs=false CGO_ENABLED=0

if [ ! -s "$base/stages.yaml" ]; then
  src=$(go mod download -json "sigs.k8s.io/kwok@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  [ -d "$src/kustomize/stage" ] || { echo "build-kwok: cannot download sigs.k8s.io/kwok@$version" >&2; exit 1; }
  {
    echo "# kwok $version stages (kustomize/stage/{node/fast,node/heartbeat-with-lease,pod/fast})"
    for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
             pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
      echo "---"
      cat "$src/kustomize/stage/$f"
    done
  } > "$base/stages.yaml.tmp"
  mv "$base/stages.yaml.tmp" "$base/stages.yaml"
fi

if [ ! -x "$out/kwok" ]; then
  gobin=$(mktemp -d "$base/gobin.XXXXXX")
  trap 'rm -rf "$gobin"' EXIT
  start=$(date +%s)
  # The release build stamps the version the same way (kwok's hack/releases.sh).
  GOBIN="$gobin" go install -trimpath -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$version" \
    "sigs.k8s.io/kwok/cmd/kwok@$version"
  mv "$gobin/kwok" "$out/kwok"
  echo "build-kwok: $version: built kwok in $(( $(date +%s) - start ))s"
fi
