#!/usr/bin/env bash
# Unmount everything the node tier's runtime mounted (deepest first): kubelet volumes
# (/var/lib/kubelet), container root filesystems, shm and network namespaces (containerd's
# state and root dirs). A reboot drops these; down.sh and reboot.sh both call this.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
set +e
prefixes="^(/var/lib/kubelet|$CTRD_STATE|$CTRD_ROOT|/run/selfhost-node)(/|$)"
for pass in 1 2 3; do
  mapfile -t mounts < <(findmnt -rn -o TARGET | grep -E "$prefixes" | awk '{print length, $0}' | sort -rn | cut -d' ' -f2-)
  [ ${#mounts[@]} -gt 0 ] || exit 0
  for m in "${mounts[@]}"; do
    m=$(printf '%b' "$m")
    umount "$m" 2>/dev/null || { [ "$pass" = 3 ] && umount -l "$m" 2>/dev/null; }
  done
done
left=$(findmnt -rn -o TARGET | grep -cE "$prefixes")
[ "$left" = 0 ] || log "warning: $left mounts left under the tier's directories"
