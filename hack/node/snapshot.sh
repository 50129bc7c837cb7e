#!/usr/bin/env bash
# Print what the node tier may change on the host, in a stable text form, so that two snapshots
# can be diffed: before cluster-up and after cluster-down must be equal (e2e/node-down.test.ts).
# Independent of host.sh's own record on purpose: it checks that record's completeness too.
#
# Usage: hack/node/snapshot.sh            (to stdout)
#        hack/node/snapshot.sh --procs    (only: processes of the tier still running, one a line)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
set +e +o pipefail

procs() {
  # Recorded PIDs still alive; containerd shims of ours; processes in the pods' cgroups.
  local f p
  for f in containerd kubelet kubelet-supervisor; do
    if alive "$STATE/$f.pid"; then echo "$f $(cat "$STATE/$f.pid")"; fi
  done
  for p in $(runtime_shim_pids); do echo "shim $p"; done
  for p in /proc/[0-9]*; do
    if grep -qE ':/(kubepods|k8s\.io)(/|$)' "$p/cgroup" 2>/dev/null; then
      echo "pod-process ${p#/proc/} $(tr '\0' ' ' < "$p/cmdline" 2>/dev/null | cut -c1-80)"
    fi
  done
  for p in /proc/[0-9]*; do
    case "$(readlink "$p/exe" 2>/dev/null)" in
      "$CONTAINERD_BIN"/*) echo "runtime ${p#/proc/} $(readlink "$p/exe")" ;;
    esac
  done
}

if [ "${1:-}" = --procs ]; then
  procs | sort -u
  exit 0
fi

section() { printf '\n## %s\n' "$1"; }
section mounts
findmnt -rn -o TARGET,FSTYPE,PROPAGATION
section links
ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | sort
section addresses
ip -o addr show | awk '{print $2, $3, $4}' | sort
section routes
ip -4 route show table all | sort
ip -6 route show table main | sort
section iptables
for f in iptables ip6tables; do
  "$f-save" 2>/dev/null | grep -v -E '^#' | sed -E 's/\[[0-9]+:[0-9]+\]//'
done
section nft-tables
nft list tables 2>/dev/null | sort
section nfacct
nfacct list 2>/dev/null | sed -n 's/.* = \(.*\);$/\1/p' | sort
section sysctls
for k in "${SYSCTLS[@]}"; do
  p=/proc/sys/${k//.//}
  if [ -f "$p" ]; then echo "$k = $(cat "$p")"; fi
done
sysctl -a 2>/dev/null | grep -E '^net\.ipv4\.conf\.(all|default)\.' | sort
section cgroups
for c in /sys/fs/cgroup/*/; do find "$c" -mindepth 1 -maxdepth 1 -type d; done | sort
section paths
for p in "${OWNED_PATHS[@]}"; do
  if [ -e "$p" ] || [ -L "$p" ]; then echo "$p"; fi
done
section netns
find /run/netns -mindepth 1 -maxdepth 1 -printf "%f\n" 2>/dev/null | sort
section processes
procs | sort -u
