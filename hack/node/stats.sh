#!/usr/bin/env bash
# Memory of the running node tier (make node-stats): resident memory (RSS) of containerd, the
# kubelet and its supervisor, the shims and every container process, per component and in all;
# and the kubepods memory cgroup's usage (RSS + page cache of the pods).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
set +e
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
total=0
line() { printf '%-28s %8d MiB\n' "$1" $(($2 / 1024)); total=$((total + $2)); }
for f in containerd kubelet kubelet-supervisor; do
  alive "$STATE/$f.pid" && line "$f" "$(rss_kb "$(cat "$STATE/$f.pid")")"
done
shims=0
for p in $(runtime_shim_pids); do shims=$((shims + $(rss_kb "$p"))); done
line "containerd shims ($(runtime_shim_pids | wc -l))" "$shims"
declare -A by
for p in /proc/[0-9]*; do
  grep -qE ':memory:/kubepods' "$p/cgroup" 2>/dev/null || continue
  name=$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null | awk '{print $1}'); name=${name##*/}
  by[$name]=$(( ${by[$name]:-0} + $(rss_kb "${p#/proc/}") ))
done
for n in $(printf "%s\n" "${!by[@]}" | sort); do line "  container: $n" "${by[$n]}"; done

printf '%-28s %8d MiB\n' "total RSS" $((total / 1024))
u=/sys/fs/cgroup/memory/kubepods/memory.usage_in_bytes
[ -f "$u" ] && printf '%-28s %8d MiB\n' "kubepods cgroup usage" $(($(cat "$u") / 1048576))
