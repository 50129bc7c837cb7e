#!/usr/bin/env bash
# Build selfhost's own container image locally (no registry, no Docker engine) and optionally import
# it into a running containerd (the node tier's).
#
# Usage: hack/images/selfhost.sh [--import CONTAINERD_SOCKET]
#
# One image, localhost/selfhost/selfhost:dev, runs the operator (`selfhost run`), the node agent
# (`selfhost agent`) and the etcd handover init container (`selfhost gate`); the pod supplies the
# arguments. Entrypoint `node /app/dist/cli/main.js`, numeric non-root user 65532:65532 (the agent
# pod sets runAsUser: 0: it writes root-owned files under /etc/kubernetes). Contents, one layer:
#   /usr/local/bin/selfhost-gate-exec
#                             etcd's handover gate, a static C binary (src/gate-exec/gate-exec.c,
#                             gcc -static): an init container copies it into etcd's pod
#   /usr/local/bin/node       the pinned Node.js (.nvmrc, from hack/ensure-node.sh) with its shared
#                             libraries (ldd closure: glibc, its loader, libstdc++, libgcc_s, ...)
#   /app/dist                 a clean `tsc -p tsconfig.build.json` of src/ (no source maps), compiled
#                             into a staging dir so stale files of an old `make build` never ship
#   /app/node_modules         production dependencies only: `npm ci --omit=dev --ignore-scripts`
#                             from the committed package-lock.json, cached per lockfile hash,
#                             pruned of what Node never loads (prune-node-modules.mjs)
#   /app/package.json         ("type": "module" makes dist/*.js ES modules)
#   /etc/passwd, /etc/group   root, nobody and nonroot (65532)
# No shell, no CA bundle (the operator trusts the cluster CA of its service account or kubeconfig).
#
# Deterministic (lib.sh: sorted tar, numeric owners, mtime 0): the same inputs give the same digest.
# The archive is cached in $SELFHOST_CACHE/images/selfhost/, keyed by a hash of every input (the
# node binary and its libraries, src/ and the tsconfigs, package.json and package-lock.json, the
# image config and these scripts), and rebuilt only when one changed. Prints the archive path;
# the manifest digest is in <archive>.digest. --import loads it into containerd's `k8s.io`
# namespace (skipped when the same digest is already there) and pins it
# (io.cri-containerd.pinned=pinned) so the kubelet's image GC never removes it.
set -euo pipefail
umask 022
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=../versions.sh
source "$repo/hack/versions.sh"

name=localhost/selfhost/selfhost:dev
uid=65532

sock=
if [ "${1:-}" = "--import" ]; then sock=${2:?--import needs a containerd socket}; shift 2; fi
[ $# -eq 0 ] || { echo "usage: selfhost.sh [--import CONTAINERD_SOCKET]" >&2; exit 2; }
cache=${SELFHOST_CACHE:-$HOME/.cache/selfhost}
out_dir="$cache/images/selfhost"
file="$out_dir/$(echo "$name" | tr '/:' '__').tar"
ctr_bin="$cache/containerd/$CONTAINERD_VERSION/bin/ctr"

for cmd in gcc jq ldd sha256sum tar; do
  command -v "$cmd" >/dev/null || { echo "selfhost image: '$cmd' is missing (run: make node-deps)" >&2; exit 1; }
done
node_dir=$("$repo/hack/ensure-node.sh")
node_bin="$node_dir/node"
export PATH="$node_dir:$PATH"
node_version=$("$node_bin" --version)
want="v$(tr -d 'v \n' < "$repo/.nvmrc")"
if [ "$node_version" != "$want" ]; then
  echo "selfhost image: warning: using node $node_version from $node_dir, .nvmrc pins $want" >&2
fi
tsc="$repo/node_modules/.bin/tsc"
[ -x "$tsc" ] || { echo "selfhost image: $tsc is missing (run: make setup)" >&2; exit 1; }

# The shared libraries node loads (resolved on the host), for the key.
mapfile -t node_libs < <(ldd "$node_bin" | awk '/=>/ {print $3; next} /^[[:space:]]*\// {print $1}' | grep '^/' | sort -u)
version=$(jq -r .version "$repo/package.json")
cfg=$(jq -cn --arg uid "$uid" --arg nv "$node_version" --arg v "$version" '{
  User: ($uid + ":" + $uid),
  Env: ["PATH=/usr/local/bin:/usr/bin:/bin", "NODE_ENV=production"],
  Entrypoint: ["node", "/app/dist/cli/main.js"],
  WorkingDir: "/app",
  Labels: {
    "org.opencontainers.image.title": "selfhost",
    "org.opencontainers.image.version": $v,
    "dev.selfhost.node-version": $nv
  }
}')

# src/ as tsconfig.build.json compiles it (tests, benchmarks and testdata excluded), by path and content.
src_hashes() {
  (cd "$repo" && find src -type f -name '*.ts' ! -name '*.test.ts' ! -name '*.bench.ts' ! -path '*/testdata/*' -print0 \
    | LC_ALL=C sort -z | xargs -0 sha256sum)
}
input_key() {
  {
    echo "$name $cfg"
    cat "$here/lib.sh" "$0" "$here/prune-node-modules.mjs"
    src_hashes
    (cd "$repo" && sha256sum tsconfig.json tsconfig.build.json package.json package-lock.json src/gate-exec/gate-exec.c)
    gcc --version | head -1
    sha256sum "$node_bin" "${node_libs[@]}" | cut -d' ' -f1
  } | sha256sum | cut -d' ' -f1
}

key=$(input_key)
if [ -f "$file" ] && [ -f "$file.digest" ] && [ "$(cat "$file.key" 2>/dev/null)" = "$key" ]; then
  echo "selfhost image: $name is up to date ($(cat "$file.digest"))" >&2
else
  start=$SECONDS

  # Production dependencies, cached per lockfile (and npm/node version): npm ci into a temp dir
  # next to the cache, then renamed into place (atomic; concurrent builds cannot see half of it).
  lock_key=$( { cat "$repo/package.json" "$repo/package-lock.json"; echo "$node_version $(npm --version)"; } \
    | sha256sum | cut -c1-16)
  deps="$out_dir/node_modules/$lock_key"
  if [ ! -d "$deps/node_modules" ]; then
    mkdir -p "$out_dir/node_modules"
    staging=$(mktemp -d "$out_dir/node_modules/.tmp.XXXXXX")
    cp "$repo/package.json" "$repo/package-lock.json" "$staging/"
    echo "selfhost image: npm ci --omit=dev (production dependencies, cached as $deps)" >&2
    (cd "$staging" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >&2) \
      || { rm -rf "$staging"; echo "selfhost image: npm ci --omit=dev failed" >&2; exit 1; }
    rm -rf "$deps"
    mv "$staging" "$deps"
  fi

  rootfs=$(mktemp -d)
  trap 'rm -rf "$rootfs"' EXIT
  rootfs_init "$rootfs"
  printf 'nonroot:x:%s:%s:nonroot:/nonexistent:/bin/false\n' "$uid" "$uid" >> "$rootfs/etc/passwd"
  printf 'nonroot:x:%s:\n' "$uid" >> "$rootfs/etc/group"
  rootfs_add_bin "$rootfs" "$node_bin" /usr/local/bin/node
  gcc -static -Os -s -Wall -Wextra -Werror -o "$rootfs/usr/local/bin/selfhost-gate-exec" "$repo/src/gate-exec/gate-exec.c" \
    || { echo "selfhost image: compiling src/gate-exec/gate-exec.c failed (above)" >&2; exit 1; }
  chmod 0755 "$rootfs/usr/local/bin/selfhost-gate-exec"
  mkdir -p "$rootfs/app"
  (cd "$repo" && "$tsc" -p tsconfig.build.json --outDir "$rootfs/app/dist" --sourceMap false) >&2 \
    || { echo "selfhost image: tsc -p tsconfig.build.json failed (above)" >&2; exit 1; }
  cp "$repo/package.json" "$rootfs/app/package.json"
  cp -R "$deps/node_modules" "$rootfs/app/node_modules"
  # What Node never loads (TypeScript, source maps, Bare addons, docs, package tests): 96 -> 36 MB.
  # The Dockerfile's deps stage runs the same script, so both builds ship the same /app.
  node "$here/prune-node-modules.mjs" "$rootfs/app/node_modules" >&2
  # Everything is root-owned (lib.sh's tar writes owner 0) and must be readable by 65532;
  # only /tmp (1777) is writable by it.
  chmod -R u+rwX,go+rX,go-w "$rootfs/app" "$rootfs/usr"

  digest=$(oci_archive "$rootfs" "$name" "$file" "$cfg")
  rm -rf "$rootfs"
  trap - EXIT
  # A source file edited during the build would make the archive and the key disagree: keep no key.
  if [ "$(input_key)" = "$key" ]; then echo "$key" > "$file.key"; else rm -f "$file.key"; fi
  echo "$digest" > "$file.digest"
  echo "selfhost image: built $name ($digest, $(du -h "$file" | cut -f1)) in $((SECONDS - start))s" >&2
fi

if [ -z "$sock" ]; then
  echo "$file"
  exit 0
fi

# --- import into containerd's k8s.io namespace, pinned ---
[ -x "$ctr_bin" ] || { echo "selfhost image: $ctr_bin is missing (run: hack/build-containerd.sh)" >&2; exit 1; }
[ -S "$sock" ] || { echo "selfhost image: no containerd socket at $sock" >&2; exit 1; }
ctr() { "$ctr_bin" --address "$sock" -n k8s.io "$@" 2> >(grep -v "DEPRECATION: The support for cgroup v1" >&2); }
start=$SECONDS
want_digest=$(cat "$file.digest")
have=$(ctr images ls "name==$name" | awk 'NR==2 {print $3}')
if [ "$have" != "$want_digest" ]; then
  ctr images import --snapshotter overlayfs "$file" >/dev/null
  echo "selfhost image: imported $name ($want_digest) in $((SECONDS - start))s" >&2
else
  echo "selfhost image: $name ($want_digest) already in containerd" >&2
fi
ctr images label "$name" io.cri-containerd.pinned=pinned >/dev/null
echo "$file"
