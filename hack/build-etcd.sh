#!/usr/bin/env bash
# Build etcd and etcdctl for one version from the Go module proxy into the cache.
#
# Usage: hack/build-etcd.sh X.Y.Z
# The etcd server module replaces its sibling modules with ../ paths, which only apply when it is
# the main module; a wrapper module that requires it resolves the published siblings instead.
set -euo pipefail
version=${1:?usage: build-etcd.sh X.Y.Z}
if [[ ! "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "build-etcd: version must look like 3.6.8, got '$version'" >&2
  exit 2
fi
cache=${SELFHOST_CACHE:-$HOME/.cache/selfhost}
out="$cache/etcd/$version/bin"
work="$cache/etcd/$version/module"
if [ -x "$out/etcd" ] && [ -x "$out/etcdctl" ]; then
  echo "build-etcd: $version already built in $out"
  exit 0
fi
mkdir -p "$out" "$work"
export GOTOOLCHAIN=${GOTOOLCHAIN:-local} GOFLAGS=-buildvcs=false CGO_ENABLED=0
cd "$work"
if [ ! -f go.mod ]; then
  printf 'module selfhost.dev/etcd-build\n\ngo 1.24\n' > go.mod
  go get "go.etcd.io/etcd/server/v3@v$version" "go.etcd.io/etcd/etcdctl/v3@v$version" >/dev/null
fi
start=$(date +%s)
go build -trimpath -ldflags "-s -w" -o "$out/etcd.tmp" go.etcd.io/etcd/server/v3
go build -trimpath -ldflags "-s -w" -o "$out/etcdctl.tmp" go.etcd.io/etcd/etcdctl/v3
mv "$out/etcd.tmp" "$out/etcd"
mv "$out/etcdctl.tmp" "$out/etcdctl"
echo "build-etcd: $version: built etcd and etcdctl in $(( $(date +%s) - start ))s"
