# shellcheck shell=bash
# Helpers to build container images without a registry or a Docker engine (sourced by build.sh).
#
# An image here is one uncompressed tar layer made from a root filesystem directory, an OCI image
# config, a manifest and an index.json whose manifest carries the `io.containerd.image.name`
# annotation, packed as an OCI archive that `ctr -n k8s.io images import` takes as is.
# Everything is deterministic (sorted tar, numeric owners, mtime 0), so the same inputs give the
# same digests and a re-import is a no-op.

# rootfs_init DIR: an empty root filesystem with the usual top-level directories (merged /usr).
rootfs_init() {
  local r=$1
  rm -rf "$r"
  mkdir -p "$r"/{etc,tmp,var/lib,usr/bin,usr/sbin,usr/lib,usr/lib64,usr/local/bin,root,run,proc,sys,dev}
  chmod 1777 "$r/tmp"
  ln -s usr/bin "$r/bin"
  ln -s usr/sbin "$r/sbin"
  ln -s usr/lib "$r/lib"
  ln -s usr/lib64 "$r/lib64"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$r/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$r/etc/group"
  printf 'hosts: files dns\n' > "$r/etc/nsswitch.conf"
}

# host_path_in_rootfs PATH: where a host file belongs in a merged-/usr rootfs (/lib/x -> /usr/lib/x).
_in_rootfs() {
  case "$1" in
    /lib/*|/lib64/*|/bin/*|/sbin/*) echo "/usr$1" ;;
    *) echo "$1" ;;
  esac
}

# rootfs_add_libs ROOTFS FILE...: copy the shared libraries FILE... need (ldd closure, including the
# dynamic loader) to the same paths in ROOTFS.
rootfs_add_libs() {
  local r=$1 lib dst
  shift
  # One ldd for all files; it prints "name => /path (addr)" or "/path (addr)" per library.
  while read -r lib; do
    dst="$r$(_in_rootfs "$lib")"
    [ -e "$dst" ] && continue
    mkdir -p "${dst%/*}"
    cp -L "$lib" "$dst"
  done < <(ldd "$@" 2>/dev/null | awk '/:$/ {next} /=>/ {print $3; next} /^[[:space:]]*\// {print $1}' | grep '^/' | sort -u || true)
}

# rootfs_add_bin ROOTFS SRC DEST: copy a host binary to DEST in ROOTFS, with its shared libraries.
rootfs_add_bin() {
  local r=$1 src=$2 dst=$3
  mkdir -p "$r$(dirname "$dst")"
  cp -L "$src" "$r$dst"
  chmod 0755 "$r$dst"
  rootfs_add_libs "$r" "$src"
}

_sha256() { sha256sum "$1" | cut -d' ' -f1; }

# oci_archive ROOTFS NAME OUT CONFIG_JSON: pack ROOTFS as a one-layer image named NAME
# (e.g. registry.k8s.io/pause:3.10.2) into the OCI archive OUT. CONFIG_JSON is the image config's
# "config" object (Entrypoint, Cmd, Env, ...). Prints the manifest digest.
oci_archive() {
  local rootfs=$1 name=$2 out=$3 cfg=$4
  local work
  work=$(mktemp -d)
  mkdir -p "$work/blobs/sha256"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    -C "$rootfs" -cf "$work/layer.tar" .
  local layer_digest layer_size
  layer_digest=$(_sha256 "$work/layer.tar")
  layer_size=$(stat -c %s "$work/layer.tar")
  mv "$work/layer.tar" "$work/blobs/sha256/$layer_digest"

  jq -cn --argjson cfg "$cfg" --arg diff "sha256:$layer_digest" --arg name "$name" '{
      architecture: "amd64", os: "linux", created: "1970-01-01T00:00:00Z",
      config: $cfg,
      rootfs: {type: "layers", diff_ids: [$diff]},
      history: [{created: "1970-01-01T00:00:00Z", created_by: ("selfhost hack/images/build.sh " + $name)}]
    }' > "$work/config.json"
  local cfg_digest cfg_size
  cfg_digest=$(_sha256 "$work/config.json")
  cfg_size=$(stat -c %s "$work/config.json")
  mv "$work/config.json" "$work/blobs/sha256/$cfg_digest"

  jq -cn --arg cd "sha256:$cfg_digest" --argjson cs "$cfg_size" \
    --arg ld "sha256:$layer_digest" --argjson ls "$layer_size" '{
      schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
      layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $ld, size: $ls}]
    }' > "$work/manifest.json"
  local man_digest man_size
  man_digest=$(_sha256 "$work/manifest.json")
  man_size=$(stat -c %s "$work/manifest.json")
  mv "$work/manifest.json" "$work/blobs/sha256/$man_digest"

  jq -cn --arg md "sha256:$man_digest" --argjson ms "$man_size" --arg name "$name" '{
      schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [{
        mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $md, size: $ms,
        platform: {architecture: "amd64", os: "linux"},
        annotations: {
          "io.containerd.image.name": $name,
          "org.opencontainers.image.ref.name": ($name | sub("^.*:"; ""))
        }
      }]
    }' > "$work/index.json"
  printf '{"imageLayoutVersion":"1.0.0"}' > "$work/oci-layout"

  mkdir -p "$(dirname "$out")"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$work" -cf "$out.tmp" \
    oci-layout index.json blobs
  mv "$out.tmp" "$out"
  rm -rf "$work"
  echo "sha256:$man_digest"
}
