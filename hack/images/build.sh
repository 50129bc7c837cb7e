#!/usr/bin/env bash
# Build the node tier's container images locally (no registry, no Docker engine) and optionally
# import them into a running containerd.
#
# Usage: hack/images/build.sh [--import CONTAINERD_SOCKET] VERSION
#
# Images, named EXACTLY as `kubeadm config images list --kubernetes-version VERSION` prints them:
#   pause                 a tiny static C program (pause.c, gcc -static) that sleeps until SIGTERM
#   etcd                  etcd + etcdctl in /usr/local/bin (kubeadm's pod runs `etcd` from PATH),
#                         and the same for each etcd patch an upgrade to VERSION steps through
#                         (versions.sh etcd_upgrade_via_for: etcd:3.6.11-0 for v1.37)
#   kube-apiserver, kube-controller-manager, kube-scheduler
#                         the static Go binary in /usr/local/bin
#   kube-proxy            kube-proxy + iptables/ip6tables (nft backend, like the host) + conntrack,
#                         copied from the host's Debian packages with their shared libraries and
#                         the xtables extension directory
#   coredns               skipped: the node tier has no upstream DNS (docs/testbed.md)
# and the tier's own images (not Kubernetes', fixed names):
#   localhost/selfhost/cni:v1      busybox-static + Debian's CNI plugins + install script (cni/)
#   localhost/selfhost/busybox:v1  busybox-static (httpd, nc, wget) for test workloads
#
# Archives are cached in $CACHE/images/<VERSION or "common">/, keyed by a hash of their inputs,
# and rebuilt only when an input changed. --import loads each archive into the `k8s.io` namespace
# (skipped when the same digest is already there) and pins it (io.cri-containerd.pinned=pinned)
# so the kubelet's image GC never removes it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=../versions.sh
source "$repo/hack/versions.sh"

sock=
if [ "${1:-}" = "--import" ]; then sock=${2:?--import needs a containerd socket}; shift 2; fi
version=${1:?usage: build.sh [--import SOCKET] VERSION}
cache=${SELFHOST_CACHE:-$HOME/.cache/selfhost}
k8s_bin="$cache/k8s/$version/bin"
out_dir="$cache/images/$version"
common_dir="$cache/images/common"
ctr_bin="$cache/containerd/$CONTAINERD_VERSION/bin/ctr"

for cmd in gcc jq ldd busybox; do
  command -v "$cmd" >/dev/null || { echo "images: '$cmd' is missing (run: make node-deps)" >&2; exit 1; }
done
for f in /usr/sbin/xtables-nft-multi /usr/sbin/conntrack /usr/lib/cni/bridge; do
  [ -e "$f" ] || { echo "images: $f is missing (run: make node-deps)" >&2; exit 1; }
done

# The binaries of this version (cached builds; only missing ones are built).
"$repo/hack/build-k8s.sh" "$version" kubeadm kube-apiserver kube-controller-manager kube-scheduler kube-proxy >&2

mapfile -t names < <("$k8s_bin/kubeadm" config images list --kubernetes-version "$version" 2>/dev/null)
[ ${#names[@]} -gt 0 ] || { echo "images: kubeadm $version printed no image list" >&2; exit 1; }
image_for() { # component -> full name from kubeadm's list
  local n
  for n in "${names[@]}"; do
    case "$n" in */"$1":*) echo "$n"; return ;; esac
  done
  echo "images: kubeadm $version lists no $1 image" >&2
  return 1
}

etcd_image=$(image_for etcd)
etcd_tag=${etcd_image##*:}
etcd_version=${etcd_tag%%-*}
"$repo/hack/build-etcd.sh" "$etcd_version" >&2
etcd_bin="$cache/etcd/$etcd_version/bin"

base_env='"PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"'
archives=()

# build_image NAME DIR CONFIG_JSON BUILDER INPUT...: run BUILDER ROOTFS to fill a fresh rootfs,
# pack it, unless the cached archive's inputs hash is unchanged.
build_image() {
  local name=$1 dir=$2 cfg=$3 builder=$4
  shift 4
  local file key
  file="$dir/$(echo "$name" | tr '/:' '__').tar"
  key=$( { echo "$name $cfg"; cat "$here/lib.sh" "$0"; sha256sum "$@" | cut -d' ' -f1; } | sha256sum | cut -d' ' -f1)
  if [ -f "$file" ] && [ "$(cat "$file.key" 2>/dev/null)" = "$key" ]; then
    archives+=("$file")
    return
  fi
  local start=$SECONDS rootfs
  rootfs=$(mktemp -d)
  rootfs_init "$rootfs"
  "$builder" "$rootfs"
  local digest
  digest=$(oci_archive "$rootfs" "$name" "$file" "$cfg")
  rm -rf "$rootfs"
  echo "$key" > "$file.key"
  echo "$digest" > "$file.digest"
  echo "images: built $name ($digest, $(du -h "$file" | cut -f1)) in $((SECONDS - start))s" >&2
  archives+=("$file")
}

# --- pause ---
pause_bin="$cache/images/pause-bin/pause"
if [ ! -x "$pause_bin" ] || [ "$here/pause.c" -nt "$pause_bin" ]; then
  mkdir -p "$(dirname "$pause_bin")"
  gcc -static -Os -s -o "$pause_bin.tmp" "$here/pause.c"
  mv "$pause_bin.tmp" "$pause_bin"
fi
fill_pause() { cp "$pause_bin" "$1/pause"; }
build_image "$(image_for pause)" "$out_dir" '{"Entrypoint":["/pause"],"User":"0:0"}' fill_pause "$pause_bin"

# --- etcd ---
fill_etcd() {
  cp "$etcd_bin/etcd" "$etcd_bin/etcdctl" "$1/usr/local/bin/"
  mkdir -p "$1/var/lib/etcd"
}
build_image "$etcd_image" "$out_dir" "{\"Env\":[$base_env],\"Cmd\":[\"etcd\"]}" fill_etcd \
  "$etcd_bin/etcd" "$etcd_bin/etcdctl"

# --- etcd patches an upgrade to this minor steps through (etcd 3.7 wants 3.6.11 first) ---
for via in $(etcd_upgrade_via_for "$version"); do
  "$repo/hack/build-etcd.sh" "$via" >&2
  via_bin="$cache/etcd/$via/bin"
  fill_etcd_via() {
    cp "$via_bin/etcd" "$via_bin/etcdctl" "$1/usr/local/bin/"
    mkdir -p "$1/var/lib/etcd"
  }
  build_image "${etcd_image%:*}:$via-0" "$out_dir" "{\"Env\":[$base_env],\"Cmd\":[\"etcd\"]}" fill_etcd_via \
    "$via_bin/etcd" "$via_bin/etcdctl"
done

# --- kube-apiserver, kube-controller-manager, kube-scheduler ---
for comp in kube-apiserver kube-controller-manager kube-scheduler; do
  eval "fill_$comp() { cp '$k8s_bin/$comp' \"\$1/usr/local/bin/$comp\"; }"
  build_image "$(image_for "$comp")" "$out_dir" \
    "{\"Env\":[$base_env],\"Entrypoint\":[\"/usr/local/bin/$comp\"]}" "fill_$comp" "$k8s_bin/$comp"
done

# --- kube-proxy: iptables (nft backend, as on the host), ip6tables, conntrack ---
xt_dir=/usr/lib/x86_64-linux-gnu/xtables
fill_proxy() {
  local r=$1 n
  cp "$k8s_bin/kube-proxy" "$r/usr/local/bin/kube-proxy"
  rootfs_add_bin "$r" /usr/sbin/xtables-nft-multi /usr/sbin/xtables-nft-multi
  for n in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore \
    iptables-nft iptables-nft-save iptables-nft-restore ip6tables-nft ip6tables-nft-save ip6tables-nft-restore; do
    ln -s xtables-nft-multi "$r/usr/sbin/$n"
  done
  mkdir -p "$r$xt_dir"
  cp -L "$xt_dir"/*.so "$r$xt_dir/"
  rootfs_add_libs "$r" "$xt_dir"/*.so
  rootfs_add_bin "$r" /usr/sbin/conntrack /usr/sbin/conntrack
  # iptables-nft reads these (protocol and service names).
  cp /etc/protocols /etc/services "$r/etc/" 2>/dev/null || true
  mkdir -p "$r/etc/iptables" "$r/run" "$r/var/lib/kube-proxy"
}
build_image "$(image_for kube-proxy)" "$out_dir" \
  "{\"Env\":[$base_env],\"Entrypoint\":[\"/usr/local/bin/kube-proxy\"]}" fill_proxy \
  "$k8s_bin/kube-proxy" /usr/sbin/xtables-nft-multi /usr/sbin/conntrack "$xt_dir"/*.so

# --- the tier's own images (independent of VERSION) ---
fill_busybox() {
  local r=$1
  mkdir -p "$r/www"
  cp /usr/bin/busybox "$r/usr/bin/busybox"
  # Every applet as a symlink to /usr/bin/busybox (/bin is a symlink to usr/bin).
  busybox --install -s "$r/usr/bin"
}
build_image localhost/selfhost/busybox:v1 "$common_dir" \
  "{\"Env\":[\"PATH=/bin:/usr/bin:/usr/sbin\"],\"Cmd\":[\"sh\"]}" fill_busybox /usr/bin/busybox

cni_plugins=(bridge host-local loopback portmap)
fill_cni() {
  local r=$1 p
  fill_busybox "$r"
  mkdir -p "$r/cni/bin"
  for p in "${cni_plugins[@]}"; do cp "/usr/lib/cni/$p" "$r/cni/bin/$p"; done
  cp "$here/cni/install.sh" "$r/install.sh"
  chmod 0755 "$r/install.sh"
}
build_image localhost/selfhost/cni:v1 "$common_dir" \
  "{\"Env\":[\"PATH=/bin:/usr/bin:/usr/sbin\"],\"Entrypoint\":[\"/install.sh\"]}" fill_cni \
  /usr/bin/busybox "$here/cni/install.sh" "${cni_plugins[@]/#//usr/lib/cni/}"

if [ -z "$sock" ]; then
  printf '%s\n' "${archives[@]}"
  exit 0
fi

# --- import into containerd's k8s.io namespace, pinned ---
[ -x "$ctr_bin" ] || { echo "images: $ctr_bin is missing (run: hack/build-containerd.sh)" >&2; exit 1; }
ctr() { "$ctr_bin" --address "$sock" -n k8s.io "$@" 2> >(grep -v "DEPRECATION: The support for cgroup v1" >&2); }
start=$SECONDS
for a in "${archives[@]}"; do
  name=$(tar -xOf "$a" index.json | jq -r '.manifests[0].annotations["io.containerd.image.name"]')
  want=$(cat "$a.digest")
  have=$(ctr images ls -q "name==$name" >/dev/null 2>&1 && ctr images ls "name==$name" | awk 'NR==2 {print $3}')
  if [ "$have" != "$want" ]; then
    ctr images import --snapshotter overlayfs "$a" >/dev/null
    echo "images: imported $name" >&2
  fi
  ctr images label "$name" io.cri-containerd.pinned=pinned >/dev/null
done
echo "images: ${#archives[@]} images for $version present in containerd ($((SECONDS - start))s)" >&2
