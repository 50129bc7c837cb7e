#!/bin/sh
# selfhost CNI installer (the main container of the selfhost-cni DaemonSet; busybox sh).
# Copies the CNI plugins into the host's CNI bin dir and the network config (from the
# selfhost-cni ConfigMap) into the host's CNI conf dir, atomically, then waits to be stopped.
# Re-running is harmless: files are replaced only when they differ.
set -eu
BIN_SRC=/cni/bin
BIN_DST=${CNI_BIN_DIR:-/host/opt/cni/bin}
CONF_SRC=${CNI_CONF_SRC:-/etc/selfhost-cni}
CONF_DST=${CNI_CONF_DIR:-/host/etc/cni/net.d}

install_file() { # src dst mode
  if [ -f "$2" ] && cmp -s "$1" "$2"; then return; fi
  cp "$1" "$2.selfhost-tmp"
  chmod "$3" "$2.selfhost-tmp"
  mv -f "$2.selfhost-tmp" "$2"
  echo "installed $2"
}

mkdir -p "$BIN_DST" "$CONF_DST"
for p in "$BIN_SRC"/*; do install_file "$p" "$BIN_DST/$(basename "$p")" 0755; done
for c in "$CONF_SRC"/*.conflist; do install_file "$c" "$CONF_DST/$(basename "$c")" 0644; done
touch /tmp/ready
echo "selfhost-cni: installed; waiting"
trap 'echo "selfhost-cni: stopping"; exit 0' TERM INT
while :; do sleep 3600 & wait $! || true; done
