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
