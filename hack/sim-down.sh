#!/usr/bin/env bash
# Stop tier sim started by `make cluster-up TIER=sim` (test/sim/up.ts): exactly the PIDs it
# recorded in <state-dir>/pids, each only if /proc still shows the same process start time
# (PIDs are reused). No-op when nothing runs.
#
# Usage: hack/sim-down.sh STATE_DIR [--if-stale]
#   --if-stale: leave a running tier alone; only clean up after one whose daemon is gone.
#
# Order: SIGTERM to the daemon, which stops its components and removes its temp dir; then any
# recorded component still alive (the daemon was killed) gets SIGTERM, then SIGKILL after 10 s;
# then the recorded temp dir and the state dir are removed.
set -euo pipefail
state=${1:?usage: sim-down.sh STATE_DIR [--if-stale]}
mode=${2:-}
pids="$state/pids"

# Field 22 (starttime) of /proc/PID/stat; comm (field 2) may contain spaces, so cut after ')'.
# A zombie (state Z/X) counts as gone: it has exited and only waits to be reaped.
starttime() {
  local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1; s=${s##*) }
  # shellcheck disable=SC2086 # split the fields on purpose
  set -- $s
  case "$1" in Z|X) return 1 ;; esac
  echo "${20}"
}
alive() { [ "$(starttime "$1" || true)" = "$2" ]; }
# Waits up to $3 seconds for PID $1 (start time $2) to be gone; returns 1 if it is still there.
wait_gone() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do alive "$1" "$2" || return 0; sleep 0.1; done
  return 1
}

if [ ! -s "$pids" ]; then
  if [ -d "$state" ] && [ "$mode" != --if-stale ]; then rm -rf "$state"; fi
  [ "$mode" = --if-stale ] || echo "cluster-down-sim: tier sim is not running"
  exit 0
fi

read -r dname dpid dstart < "$pids" || true
if [ "${dname:-}" = sim-daemon ] && alive "$dpid" "$dstart"; then
  if [ "$mode" = --if-stale ]; then exit 0; fi
  echo "cluster-down-sim: stopping the sim daemon (PID $dpid)"
  kill -TERM "$dpid"
  if ! wait_gone "$dpid" "$dstart" 60; then
    echo "cluster-down-sim: daemon $dpid did not stop in 60 s; killing it" >&2
    kill -KILL "$dpid" 2>/dev/null || true
  fi
fi

# Components the daemon did not stop (it was killed, or it is gone): newest first, so etcd and
# the apiserver go last.
if [ -f "$pids" ]; then
  tac "$pids" | while read -r name pid start; do
    [ "$name" = sim-daemon ] && continue
    if alive "$pid" "$start"; then
      echo "cluster-down-sim: stopping $name (PID $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      if ! wait_gone "$pid" "$start" 10; then kill -KILL "$pid" 2>/dev/null || true; wait_gone "$pid" "$start" 5 || true; fi
    fi
  done
fi

if [ -f "$state/tmpdir" ]; then
  tmp=$(cat "$state/tmpdir")
  case "$tmp" in
    */selfhost-sim-*) rm -rf "$tmp" ;;
    *) echo "cluster-down-sim: not removing unexpected temp dir '$tmp'" >&2 ;;
  esac
fi
rm -rf "$state"
echo "cluster-down-sim: tier sim stopped"
