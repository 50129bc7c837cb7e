#!/usr/bin/env bash
# Build the node tier's container runtime tools from their Go modules into the cache:
#   containerd, ctr, containerd-shim-runc-v2  -> $CACHE/containerd/<CONTAINERD_VERSION>/bin
#   crictl                                    -> $CACHE/crictl/<CRICTL_VERSION>/bin
#
# Usage: hack/build-containerd.sh [containerd|crictl ...]   (default: both)
#
# Neither module has replace directives, so `go install pkg@version` builds them as published.
# Version ldflags as in their Makefiles (else containerd says 2.x+unknown, crictl "unknown").
# Debian's containerd (1.6) is too old for Kubernetes >= 1.35, hence the build.
# Outputs are cached, keyed by version, and rebuilt only when missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=versions.sh
source "$here/versions.sh"
cache=${SELFHOST_CACHE:-$HOME/.cache/selfhost}
what=("$@")
[ ${#what[@]} -gt 0 ] || what=(containerd crictl)
export GOTOOLCHAIN=${GOTOOLCHAIN:-local} GOFLAGS=-buildvcs=false

build_containerd() {
  local v=$CONTAINERD_VERSION out="$cache/containerd/$CONTAINERD_VERSION/bin"
  if [ -x "$out/containerd" ] && [ -x "$out/ctr" ] && [ -x "$out/containerd-shim-runc-v2" ]; then
    echo "build-containerd: containerd $v already built in $out"; return
  fi
  mkdir -p "$out"
  local pkg=github.com/containerd/containerd/v2 start=$SECONDS
  # Static, cgo-free (osusergo netgo static_build as containerd's STATIC=1); no btrfs/devmapper/zfs
  # snapshotters (overlayfs is what the node uses); the shim without gRPC as upstream builds it.
  local tags="urfave_cli_no_docs osusergo netgo static_build no_btrfs no_devmapper no_zfs"
  local ld="-s -w -X $pkg/version.Version=$v -X $pkg/version.Revision=selfhost -X $pkg/version.Package=$pkg"
  GOBIN="$out" CGO_ENABLED=0 go install -trimpath -tags "$tags" -ldflags "$ld" \
    "$pkg/cmd/containerd@$v" "$pkg/cmd/ctr@$v"
  GOBIN="$out" CGO_ENABLED=0 go install -trimpath -tags "$tags no_grpc" -ldflags "$ld" \
    "$pkg/cmd/containerd-shim-runc-v2@$v"
  echo "build-containerd: containerd $v: built containerd, ctr, containerd-shim-runc-v2 in $((SECONDS - start))s"
}

build_crictl() {
  local v=$CRICTL_VERSION out="$cache/crictl/$CRICTL_VERSION/bin"
  if [ -x "$out/crictl" ]; then echo "build-containerd: crictl $v already built in $out"; return; fi
  mkdir -p "$out"
  local start=$SECONDS
  GOBIN="$out" CGO_ENABLED=0 go install -trimpath \
    -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$v" "sigs.k8s.io/cri-tools/cmd/crictl@$v"
  echo "build-containerd: crictl $v: built in $((SECONDS - start))s"
}

for w in "${what[@]}"; do
  case "$w" in
    containerd) build_containerd ;;
    crictl) build_crictl ;;
    *) echo "build-containerd: unknown target '$w' (containerd|crictl)" >&2; exit 2 ;;
  esac
done
