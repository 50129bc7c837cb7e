# Pinned Kubernetes versions (sourced by the Makefile and hack/ scripts).
#
# FIXTURE_VERSIONS: kubeadm releases whose static pod manifests are committed under
# src/convert/testdata/kubeadm/ and tested by the conversion core: the three newest minors
# the Go module proxy serves (1.35, 1.36, 1.37), newest patch of each.
FIXTURE_VERSIONS="v1.35.5 v1.36.4 v1.37.2"

# SIM_VERSION: Kubernetes version of the integration tier's host-process control plane (newest
# fixture minor); SIM_ETCD_VERSION: the etcd kubeadm pairs with it (images.txt: etcd 3.7.0-0).
SIM_VERSION="v1.37.2"
SIM_ETCD_VERSION="3.7.0"

# Test bed (issue "Real Kubernetes for tests"): two consecutive minors and two patches of the
# newer one, the newest the Go module proxy serves. v1.37.2 is the default for every tier;
# v1.36.4 → v1.37.x and v1.37.1 → v1.37.2 are the upgrade paths the upgrade tests use.
TESTBED_VERSIONS="v1.36.4 v1.37.1 v1.37.2"
DEFAULT_VERSION="v1.37.2"
# The patch upgrade of `make test`'s golden path (e2e/node-golden.test.ts): UPGRADE_FROM → DEFAULT_VERSION.
UPGRADE_FROM="v1.37.1"
# The minor upgrade of `make e2e` (e2e/node-minor-upgrade.test.ts): MINOR_FROM → DEFAULT_VERSION, etcd
# through etcd_upgrade_via_for.
MINOR_FROM="v1.36.4"
# etcd kubeadm pairs with each minor (images.txt of the fixtures): used for the etcd build.
etcd_version_for() {
  case "$1" in
    v1.35.*) echo 3.6.6 ;;
    v1.36.*) echo 3.6.8 ;;
    v1.37.*) echo 3.7.0 ;;
    *) echo "versions.sh: no etcd pairing for $1" >&2; return 1 ;;
  esac
}
# etcd patches an upgrade to this minor steps through (src/versions/table.ts etcdUpgradeVia, kept
# equal by src/versions/table.test.ts): `make load-images VERSION=...` builds and imports them too,
# as a registry would serve them.
etcd_upgrade_via_for() {
  case "$1" in
    v1.37.*) echo 3.6.11 ;;
    *) ;;
  esac
}
# Node runtime and tools, built from their Go modules (no prebuilt downloads on this machine).
# containerd 2.x: Kubernetes >= 1.35 needs containerd >= 1.7 and Debian ships 1.6.
CONTAINERD_VERSION="v2.4.2"
CRICTL_VERSION="v1.37.0"
KWOK_VERSION="v0.8.0"
