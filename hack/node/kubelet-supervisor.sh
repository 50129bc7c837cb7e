#!/usr/bin/env bash
# Supervise the kubelet the way kubeadm's systemd unit would (there is no systemd here):
# start it with the flags of kubeadm's drop-in (10-kubeadm.conf) once kubeadm has written its
# configuration, and restart it whenever it exits (RestartSec ~2 s).
#
# Usage: kubelet-supervisor.sh KUBELET_BINARY STATE_DIR
#   STATE_DIR/kubelet.pid       the running kubelet's PID
#   STATE_DIR/kubelet-binary    if present, the kubelet binary to run from the next restart on
#                               (upgrade tests swap it, then kill the kubelet by its PID)
#   STATE_DIR/logs/kubelet.log  its output
# SIGTERM/SIGINT stop the kubelet (SIGTERM, then SIGKILL after 10 s) and the supervisor.
set -uo pipefail
default_bin=${1:?usage: kubelet-supervisor.sh KUBELET_BINARY STATE_DIR}
state=${2:?usage: kubelet-supervisor.sh KUBELET_BINARY STATE_DIR}
log=$state/logs/kubelet.log
child=
stopping=

stop() {
  stopping=1
  if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
    kill -TERM "$child" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$child" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$child" 2>/dev/null
    wait "$child" 2>/dev/null
  fi
  rm -f "$state/kubelet.pid"
  echo "supervisor: stopped"
  exit 0
}
trap stop TERM INT

echo "supervisor: started (pid $$)"
while [ -z "$stopping" ]; do
  if [ ! -f /var/lib/kubelet/config.yaml ]; then
    sleep 1 & wait $!
    continue
  fi
  KUBELET_KUBEADM_ARGS=
  # shellcheck disable=SC1091
  [ -f /var/lib/kubelet/kubeadm-flags.env ] && source /var/lib/kubelet/kubeadm-flags.env
  bin=$default_bin
  [ -s "$state/kubelet-binary" ] && bin=$(cat "$state/kubelet-binary")
  args=(--config=/var/lib/kubelet/config.yaml --kubeconfig=/etc/kubernetes/kubelet.conf)
  [ -f /etc/kubernetes/bootstrap-kubelet.conf ] && args+=(--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf)
  # shellcheck disable=SC2206
  args+=($KUBELET_KUBEADM_ARGS)
  echo "supervisor: $(date -u +%FT%TZ) starting $bin ${args[*]}"
  "$bin" "${args[@]}" >>"$log" 2>&1 </dev/null &
  child=$!
  echo "$child" > "$state/kubelet.pid"
  # A signal interrupts `wait` and runs stop(), which exits.
  wait "$child"
  rc=$?
  echo "supervisor: $(date -u +%FT%TZ) kubelet $child exited ($rc); restarting in 2s"
  child=
  rm -f "$state/kubelet.pid"
  sleep 2 & wait $!
done
