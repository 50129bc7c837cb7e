#!/usr/bin/env bash
# Build the top-level Dockerfile with buildah, as a user with a container engine would, against the
# locally assembled base image (hack/images/node-base.sh) under the name the Dockerfile uses: no
# registry is asked for anything (--pull never). The stages still fetch what the Dockerfile's RUN
# lines fetch: npm packages (npm ci) and Debian's gcc and libc6-dev (apt-get).
#
# Usage: hack/images/dockerfile.sh     prints the OCI archive's path (gzip layers, as a registry
#                                       would hold them); its manifest digest is in <archive>.digest
#
# buildah's storage is its own, under $SELFHOST_CACHE/buildah (overlay driver: kernel overlayfs,
# mounted only while a step runs; vfs works too but copies the whole rootfs per layer: 5.8 GB
# instead of 0.8 GB, and minutes instead of seconds for a cached build). Chroot isolation: no runc,
# no cgroups, the host's network. --layers caches every step, so a rebuild after a src/ change
# re-runs only the tsc stage and the COPYs after it. The result is
# tagged localhost/selfhost/selfhost:dev in that storage (as the Dockerfile's comment builds it)
# and written to $SELFHOST_CACHE/images/selfhost-dockerfile/; `make image`'s archive is untouched.
# Cache images the latest build did not use are removed after it.
set -euo pipefail
umask 022
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

name=localhost/selfhost/selfhost:dev
cache=${SELFHOST_CACHE:-$HOME/.cache/selfhost}
store="$cache/buildah"
out_dir="$cache/images/selfhost-dockerfile"
file="$out_dir/localhost_selfhost_selfhost_dev.tar"

command -v buildah >/dev/null || { echo "image-dockerfile: buildah is missing (run: make image-deps)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "image-dockerfile: needs root (buildah with chroot isolation, no user namespaces here)" >&2; exit 1; }

node_version=$(tr -d 'v \n' < "$repo/.nvmrc")
df_version=$(sed -n 's/^ARG NODE_VERSION=//p' "$repo/Dockerfile")
[ "$df_version" = "$node_version" ] || { echo "image-dockerfile: Dockerfile's ARG NODE_VERSION=$df_version differs from .nvmrc ($node_version)" >&2; exit 1; }
base_name=docker.io/library/node:$node_version-slim

B() {
  buildah --root "$store/storage" --runroot "$store/run" --storage-driver overlay "$@"
}

# Nothing of a build may stay mounted, even a failed or interrupted one: its working containers
# go, then whatever is still mounted under the store.
cleanup() {
  local m
  B rm --all >/dev/null 2>&1 || true
  while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done \
    < <(awk -v r="$store/" 'index($2, r) == 1 {print $2}' /proc/self/mounts | sort -r)
}
trap cleanup EXIT

# The base, into buildah's storage under the Dockerfile's name (again only when its archive changed).
base_archive=$("$here/node-base.sh")
base_digest=$(cat "$base_archive.digest")
mkdir -p "$store" "$out_dir"
if [ "$(cat "$store/base.digest" 2>/dev/null)" != "$base_digest" ] || ! B inspect --type image "$base_name" >/dev/null 2>&1; then
  id=$(B pull --quiet "oci-archive:$base_archive")
  B tag "$id" "$base_name"
  echo "$base_digest" > "$store/base.digest"
  echo "image-dockerfile: loaded $base_name ($base_digest) into $store" >&2
fi

# A host behind a TLS-intercepting proxy trusts its CA through npm's cafile or NODE_EXTRA_CA_CERTS;
# npm inside the RUN steps must too. A directory with the CA and an npmrc naming it is bind-mounted
# over /usr/local/etc (npm's global config directory, empty in the base) for the RUN steps only.
# A directory that exists in the base, not new files: buildah would leave a new mount point behind
# as an empty file in the step's layer (the comparison test checks nothing of the build is left).
# Nothing is mounted when the host trusts no extra CA (the build is then exactly a user's).
run_mounts=()
ca=${NODE_EXTRA_CA_CERTS:-$(npm config get cafile 2>/dev/null || true)}
if [ -n "$ca" ] && [ "$ca" != null ] && [ "$ca" != undefined ] && [ -f "$ca" ]; then
  rm -rf "$store/build-etc"
  mkdir -p "$store/build-etc"
  cp "$ca" "$store/build-etc/build-ca.crt"
  printf 'cafile=/usr/local/etc/build-ca.crt\n' > "$store/build-etc/npmrc"
  run_mounts=(-v "$store/build-etc:/usr/local/etc:ro")
  echo "image-dockerfile: npm in the build trusts the host's CA bundle $ca (bind-mounted for RUN steps only)" >&2
fi

start=$SECONDS
log="$out_dir/build.log"
echo "image-dockerfile: buildah bud (log: $log)" >&2
if ! B bud --layers --pull=never --isolation chroot --network host "${run_mounts[@]}" -f "$repo/Dockerfile" -t "$name" "$repo" > "$log" 2>&1; then
  tail -30 "$log" >&2
  echo "image-dockerfile: buildah bud failed (above; whole log: $log)" >&2
  exit 1
fi
# Drop the cache images this build no longer uses (an older src/, an older lockfile): they would
# add up (a dev-dependencies layer is 270 MB). The ones it used, cached or
# new, are the "--> ID" lines of its log; the tagged images (the base, the result) stay.
mapfile -t used < <(sed -n 's/^--> \(Using cache \)\{0,1\}\([0-9a-f]\{11,\}\)$/\2/p' "$log" | cut -c1-11)
while read -r id; do
  [ -n "$id" ] || continue
  case " ${used[*]} " in *" ${id:0:11} "*) continue ;; esac
  B rmi "$id" >/dev/null 2>&1 || true
done < <(B images --all --noheading --no-trunc --format '{{.ID}} {{.Name}}' | awk '$2 == "<none>" {sub(/^sha256:/, "", $1); print $1}')

# The archive again only when the image changed (gzip of 265 MB is most of a cached run).
id=$(B images --noheading --no-trunc --format '{{.ID}}' "$name")
if [ -f "$file" ] && [ -f "$file.digest" ] && [ "$(cat "$file.id" 2>/dev/null)" = "$id" ]; then
  echo "image-dockerfile: $name unchanged ($(cat "$file.digest")) after $((SECONDS - start))s" >&2
  echo "$file"
  exit 0
fi
rm -f "$file.tmp" "$file.id"
B push --quiet --format oci --digestfile "$file.digest.tmp" "$name" "oci-archive:$file.tmp:$name" >&2
mv "$file.tmp" "$file"
mv "$file.digest.tmp" "$file.digest"
echo "$id" > "$file.id"
echo "image-dockerfile: built $name from the Dockerfile ($(cat "$file.digest"), $(du -h "$file" | cut -f1)) in $((SECONDS - start))s" >&2
echo "$file"
