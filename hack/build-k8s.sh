#!/usr/bin/env bash
# Build Kubernetes binaries for one pinned version from the Go module proxy.
#
# Usage: hack/build-k8s.sh vX.Y.Z [component ...]   (default: all control-plane + node binaries)
#
# Why a wrapper module: k8s.io/kubernetes's go.mod replaces its staging modules
# (k8s.io/api, client-go, ...) with ./staging paths, which do not exist in the module zip.
# The wrapper requires k8s.io/kubernetes and replaces each staging module with its published
# v0.Y.Z tag, then builds the cmd packages with version ldflags (else binaries say v0.0.0
# and kubeadm refuses to work).
#
# Steps:
#   1. download k8s.io/kubernetes@version and read its staging replace list;
#   2. write the wrapper go.mod (require + replaces) in the cache;
#   3. resolve dependencies (go get) and build each missing binary into $CACHE/k8s/<version>/bin.
# Outputs are cached outside the repo, keyed by version, and rebuilt only when missing.
set -euo pipefail

version=${1:?usage: build-k8s.sh vX.Y.Z [component ...]}
shift || true
if [[ ! "$version" =~ ^v1\.([0-9]+)\.([0-9]+)$ ]]; then
  echo "build-k8s: version must look like v1.MINOR.PATCH, got '$version'" >&2
  exit 2
fi
minor=${BASH_REMATCH[1]}
patch=${BASH_REMATCH[2]}
components=("$@")
if [ ${#components[@]} -eq 0 ]; then
  components=(kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubelet kubeadm)
fi

cache=${SELFHOST_CACHE:-$HOME/.cache/selfhost}
out="$cache/k8s/$version/bin"
work="$cache/k8s/$version/module"
mkdir -p "$out" "$work"

missing=()
for c in "${components[@]}"; do
  [ -x "$out/$c" ] || missing+=("$c")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "build-k8s: $version: ${components[*]} already built in $out"
  exit 0
fi

export GOTOOLCHAIN=${GOTOOLCHAIN:-local} GOFLAGS=-buildvcs=false CGO_ENABLED=0
cd "$work"
if [ ! -f go.mod ]; then
  gomod=$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  [ -f "$gomod" ] || { echo "build-k8s: cannot download k8s.io/kubernetes@$version" >&2; exit 1; }
  {
    echo "module selfhost.dev/k8s-build"
    echo
    grep -E '^go [0-9]' "$gomod"
    echo
    echo "require k8s.io/kubernetes $version"
    echo
    grep -E '^[[:space:]]*k8s\.io/[a-z0-9-]+ => \./staging/' "$gomod" \
      | awk -v v="v0.$minor.$patch" '{print "replace " $1 " => " $1 " " v}'
  } > go.mod.new
  mv go.mod.new go.mod
  # main packages cannot be imported, so resolve them with go get against the wrapper.
  go get "k8s.io/kubernetes/cmd/kubeadm@$version" >/dev/null
fi

pkg="k8s.io/kubernetes"
ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $p.gitVersion=$version -X $p.gitMajor=1 -X $p.gitMinor=$minor"
  ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
done
for c in "${missing[@]}"; do
  start=$(date +%s)
  go get "$pkg/cmd/$c@$version" >/dev/null 2>&1 || true
  go build -trimpath -ldflags "$ldflags" -o "$out/$c.tmp" "$pkg/cmd/$c"
  mv "$out/$c.tmp" "$out/$c"
  echo "build-k8s: $version: built $c in $(( $(date +%s) - start ))s"
done
