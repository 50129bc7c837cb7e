#!/usr/bin/env bash
# Build etcd, etcdctl and etcdutl for one version from the Go module proxy into the cache.
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
# etcd and etcdctl go into the etcd image; etcdutl (snapshot status/restore, offline) is for the
# tests that restore selfhost's snapshots into a scratch etcd.
missing=()
for b in etcd etcdctl etcdutl; do [ -x "$out/$b" ] || missing+=("$b"); done
if [ ${#missing[@]} -eq 0 ]; then
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
for b in "${missing[@]}"; do
  case $b in
    etcd) pkg=go.etcd.io/etcd/server/v3 ;;
    etcdctl) pkg=go.etcd.io/etcd/etcdctl/v3 ;;
    etcdutl)
      pkg=go.etcd.io/etcd/etcdutl/v3
      grep -q 'go.etcd.io/etcd/etcdutl/v3' go.mod || go get "$pkg@v$version" >/dev/null
      ;;
  esac
  go build -trimpath -ldflags "-s -w" -o "$out/$b.tmp" "$pkg"
  mv "$out/$b.tmp" "$out/$b"
done
echo "build-etcd: $version: built ${missing[*]} in $(( $(date +%s) - start ))s"
