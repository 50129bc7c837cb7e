#!/usr/bin/env bash
# Host preparation of the node tier, recorded so that it can be undone exactly.
#
# Usage: hack/node/host.sh record|prep|net-reset|cgroups|undo|check
#   record     save what the host looks like before the tier touches it (once: a second
#              cluster-up keeps the first record), in $STATE/host/
#   prep       make / rshared, set forwarding/bridge-netfilter sysctls, create the node interface
#              (10.10.0.1/32 on a port-less bridge) with routes for the service and pod CIDRs to it,
#              and the FORWARD guard chain
#   net-reset  what a reboot does to the network and kernel settings: remove every iptables chain
#              and rule the tier or its components added, the interfaces, our conntrack entries,
#              restore sysctls and mount propagation (used by node-reboot before prep again)
#   cgroups    remove the kubepods (and k8s.io) cgroups the tier's pods left (a reboot's empty cgroupfs)
#   undo       net-reset plus removing cgroups and the paths the tier created (cluster-down)
#   check      print what still differs from the record (exit 1 if anything does)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
REC=$STATE/host

# Chains we own: anything kube-proxy, the kubelet, the CNI plugins or we create.
OUR_CHAINS='^(KUBE-|CNI-|SELFHOST-)'
IPT_FAMILIES=(iptables ip6tables)

record() {
  if [ -f "$REC/recorded" ]; then
    log "host record exists ($REC); keeping the original"
    return
  fi
  mkdir -p "$REC"
  findmnt -rn -o TARGET,PROPAGATION > "$REC/propagation"
  : > "$REC/sysctl"
  local k p
  for k in "${SYSCTLS[@]}"; do
    p=/proc/sys/${k//.//}
    [ -f "$p" ] && echo "$k=$(cat "$p")" >> "$REC/sysctl"
  done
  : > "$REC/paths"
  for p in "${OWNED_PATHS[@]}"; do
    if [ -e "$p" ] || [ -L "$p" ]; then echo "$p" >> "$REC/paths"; fi
  done
  for c in /sys/fs/cgroup/*/; do find "$c" -mindepth 1 -maxdepth 1 -type d; done | sort > "$REC/cgroups"
  local f
  for f in "${IPT_FAMILIES[@]}"; do "$f-save" > "$REC/$f.save" 2>/dev/null || true; done
  nft list tables 2>/dev/null | sort > "$REC/nft-tables" || true
  nfacct_names > "$REC/nfacct"
  ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | sort > "$REC/links"
  date -u +%FT%TZ > "$REC/recorded"
  log "recorded host state in $REC"
}

prep() {
  [ -f "$REC/recorded" ] || die "host state not recorded (run: hack/node/host.sh record)"
  # HostToContainer/Bidirectional propagation of kubelet volumes needs a shared root mount.
  mount --make-rshared /
  sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1
  if ! ip link show "$NODE_IF" >/dev/null 2>&1; then
    ip link add "$NODE_IF" type bridge
    ip link set "$NODE_IF" up
  fi
  ip addr replace "$NODE_IP/32" dev "$NODE_IF"
  # Un-NATed service traffic and traffic to pod ranges not on this node die on the port-less bridge.
  ip route replace "$SERVICE_CIDR" dev "$NODE_IF"
  ip route replace "$POD_CIDR" dev "$NODE_IF"
  # Guard: forwarded traffic may only go pod to pod on the pod bridge (pods reach the host and
  # services via INPUT/DNAT); nothing is forwarded from pods elsewhere or from elsewhere to pods.
  # In mangle/FORWARD, which runs before filter/FORWARD, so kube-proxy's ACCEPT rules there
  # cannot pre-empt it.
  if ! iptables -w -t mangle -S "$GUARD_CHAIN" >/dev/null 2>&1; then
    iptables -w -t mangle -N "$GUARD_CHAIN"
    iptables -w -t mangle -A "$GUARD_CHAIN" -i "$POD_BRIDGE" -o "$POD_BRIDGE" -j RETURN
    iptables -w -t mangle -A "$GUARD_CHAIN" -i "$POD_BRIDGE" -j DROP
    iptables -w -t mangle -A "$GUARD_CHAIN" -o "$POD_BRIDGE" -j DROP
    iptables -w -t mangle -A "$GUARD_CHAIN" -s "$POD_CIDR" -j DROP
    iptables -w -t mangle -A "$GUARD_CHAIN" -d "$POD_CIDR" -j DROP
  fi
  iptables -w -t mangle -C FORWARD -j "$GUARD_CHAIN" 2>/dev/null \
    || iptables -w -t mangle -I FORWARD 1 -j "$GUARD_CHAIN"
  log "host prepared: / rshared, forwarding on, $NODE_IF $NODE_IP (routes $SERVICE_CIDR, $POD_CIDR), guard chain"
}

# Remove our chains and every rule that jumps to them, keeping everything else as it is.
clean_iptables() {
  local f tmp orig_chains
  for f in "${IPT_FAMILIES[@]}"; do
    command -v "$f-save" >/dev/null || continue
    tmp=$(mktemp)
    "$f-save" > "$tmp" 2>/dev/null || { rm -f "$tmp"; continue; }
    # Chains that existed before the tier are not ours, whatever their name.
    orig_chains=$(sed -n 's/^:\([^ ]*\) .*/\1/p' "$REC/$f.save" 2>/dev/null | sort -u | paste -sd'|' || true)
    awk -v ours="$OUR_CHAINS" -v keep="^(${orig_chains:-^$})\$" '
      function mine(c) { return c ~ ours && c !~ keep }
      /^:/ { c = substr($1, 2); if (mine(c)) next }
      /^-A / { if (mine($2)) next
               for (i = 3; i <= NF; i++) if (($i == "-j" || $i == "-g") && mine($(i+1))) next }
      { print }' "$tmp" > "$tmp.new"
    if ! cmp -s "$tmp" "$tmp.new"; then "$f-restore" -w < "$tmp.new"; fi
    rm -f "$tmp" "$tmp.new"
  done
  # Tables iptables-nft created for us (absent before) and now empty: drop them.
  local fam name
  nft list tables 2>/dev/null | while read -r _ fam name; do
    grep -qx "table $fam $name" "$REC/nft-tables" 2>/dev/null && continue
    # Only table/chain/type lines and braces: no rule of anyone's is left in it.
    if ! nft list table "$fam" "$name" 2>/dev/null | grep -vE '^[[:space:]]*(table |chain |type |}|$)' | grep -q .; then
      nft delete table "$fam" "$name" 2>/dev/null || true
    fi
  done
}

# Names of the kernel's nfacct objects (kube-proxy creates ct_state_invalid_dropped_pkts and
# localhost_nps_accepted_pkts for its rules' counters).
nfacct_names() {
  command -v nfacct >/dev/null || return 0
  nfacct list 2>/dev/null | sed -n 's/.* = \(.*\);$/\1/p' | sort
}

clean_nfacct() {
  local n
  for n in $(nfacct_names); do
    grep -qx "$n" "$REC/nfacct" 2>/dev/null || nfacct del "$n" >/dev/null 2>&1 || true
  done
}

restore_sysctls() {
  local line k v p
  [ -f "$REC/sysctl" ] || return 0
  while IFS= read -r line; do
    k=${line%%=*}
    v=${line#*=}
    p=/proc/sys/${k//.//}
    [ -f "$p" ] || continue
    [ "$(cat "$p")" = "$v" ] || echo "$v" > "$p" 2>/dev/null || log "warning: cannot restore $k=$v"
  done < "$REC/sysctl"
}

restore_propagation() {
  [ -f "$REC/propagation" ] || return 0
  if ! grep -qv ' private$' "$REC/propagation"; then
    mount --make-rprivate /
  else
    local t p
    while read -r t p; do
      t=$(printf '%b' "$t")
      mountpoint -q "$t" 2>/dev/null || continue
      case "$p" in
        private) mount --make-private "$t" ;;
        shared) mount --make-shared "$t" ;;
        slave) mount --make-slave "$t" ;;
        unbindable) mount --make-unbindable "$t" ;;
        "private,slave"|"shared,slave") mount --make-slave "$t" ;;
      esac 2>/dev/null || true
    done < "$REC/propagation"
  fi
}

delete_links() {
  local l
  for l in "$POD_BRIDGE" "$NODE_IF"; do
    if ip link show "$l" >/dev/null 2>&1 && ! grep -qx "$l" "$REC/links" 2>/dev/null; then
      ip link del "$l"
    fi
  done
  # veth host ends left by pods whose network namespaces are gone vanish with them; any other
  # veth created since the record and attached to nothing of the host's is a CNI leftover.
  for l in $(ip -o link show type veth 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
    grep -qx "$l" "$REC/links" 2>/dev/null || ip link del "$l" 2>/dev/null || true
  done
}

flush_conntrack() {
  command -v conntrack >/dev/null || return 0
  local c
  for c in "$POD_CIDR" "$SERVICE_CIDR" "$NODE_IP"; do
    conntrack -D -s "$c" >/dev/null 2>&1 || true
    conntrack -D -d "$c" >/dev/null 2>&1 || true
  done
}

net_reset() {
  [ -f "$REC/recorded" ] || { log "no host record: nothing to reset"; return 0; }
  clean_iptables
  clean_nfacct
  delete_links
  flush_conntrack
  restore_sysctls
  restore_propagation
}

remove_cgroups() {
  local d
  for d in $(for c in /sys/fs/cgroup/*/; do find "$c" -mindepth 1 -maxdepth 1 -type d \( -name kubepods -o -name 'kubepods.slice' -o -name k8s.io \); done); do
    grep -qx "$d" "$REC/cgroups" 2>/dev/null && continue
    # Depth first; a cgroup with processes left refuses (reported by check).
    find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}

remove_paths() {
  local p
  for p in "${OWNED_PATHS[@]}"; do
    grep -qx "$p" "$REC/paths" 2>/dev/null && continue
    if [ -e "$p" ] || [ -L "$p" ]; then
      if findmnt -rn -o TARGET | grep -q "^$p\(/\|$\)"; then
        log "warning: $p still has mounts; not removed"
        continue
      fi
      rm -rf "$p"
    fi
  done
  # Parents created for our paths (e.g. /opt/cni -> /opt stays; /var/lib/selfhost-node removed above).
}

undo() {
  [ -f "$REC/recorded" ] || { log "no host record: nothing to undo"; return 0; }
  net_reset
  remove_cgroups
  remove_paths
}

check() {
  [ -f "$REC/recorded" ] || { echo "no host record"; return 0; }
  local bad=0 tmp
  tmp=$(mktemp -d)
  findmnt -rn -o TARGET,PROPAGATION > "$tmp/propagation"
  diff -u "$REC/propagation" "$tmp/propagation" >&2 || bad=1
  local line k v p
  while IFS= read -r line; do
    k=${line%%=*}; v=${line#*=}; p=/proc/sys/${k//.//}
    [ -f "$p" ] && [ "$(cat "$p")" != "$v" ] && { echo "sysctl $k is $(cat "$p"), was $v" >&2; bad=1; }
  done < "$REC/sysctl"
  for p in "${OWNED_PATHS[@]}"; do
    if { [ -e "$p" ] || [ -L "$p" ]; } && ! grep -qx "$p" "$REC/paths"; then echo "path $p left" >&2; bad=1; fi
  done
  for c in /sys/fs/cgroup/*/; do find "$c" -mindepth 1 -maxdepth 1 -type d; done | sort > "$tmp/cgroups"
  diff -u "$REC/cgroups" "$tmp/cgroups" >&2 || bad=1
  local f
  for f in "${IPT_FAMILIES[@]}"; do
    "$f-save" 2>/dev/null | grep -E '^[:-]' | grep -E "${OUR_CHAINS#^}" >&2 && bad=1
  done
  nft list tables 2>/dev/null | sort > "$tmp/nft-tables"
  diff -u "$REC/nft-tables" "$tmp/nft-tables" >&2 || bad=1
  ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | sort > "$tmp/links"
  diff -u "$REC/links" "$tmp/links" >&2 || bad=1
  nfacct_names > "$tmp/nfacct"
  diff -u "$REC/nfacct" "$tmp/nfacct" >&2 || bad=1
  rm -rf "$tmp"
  return $bad
}

case "${1:-}" in
  record) record ;;
  prep) prep ;;
  net-reset) net_reset ;;
  undo) undo ;;
  cgroups) [ -f "$REC/recorded" ] && remove_cgroups ;;
  check) check ;;
  *) echo "usage: $0 record|prep|net-reset|cgroups|undo|check" >&2; exit 2 ;;
esac
