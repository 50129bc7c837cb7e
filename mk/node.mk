# Tier "node": a real single-node kubeadm cluster on this machine (included by the root Makefile).
# See docs/testbed.md "Tier node" and hack/node/*.sh.

CONTAINERD_VERSION := $(shell source hack/versions.sh && echo $$CONTAINERD_VERSION)
NODE_STATE := .cluster/node
# Debian packages the tier uses on the host and copies into images: runc (the OCI runtime),
# containernetworking-plugins (bridge/host-local/loopback/portmap for the CNI image), iptables and
# conntrack (host prep, kube-proxy image), nfacct (to remove kube-proxy's nfacct objects),
# busybox-static (CNI and test images), jq and curl (scripts talk to the apiserver), gcc and
# libc6-dev (the static pause binary).
NODE_DEBS := runc containernetworking-plugins iptables conntrack nfacct busybox-static jq curl gcc libc6-dev

##@ Tier node

.PHONY: node-deps
node-deps: ## Install the node tier's Debian packages (apt-get; no-op when installed).
	@missing=$$(for p in $(NODE_DEBS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "node-deps: installing $$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq $$missing >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq $$missing; }; \
	else echo "node-deps: all installed"; fi

.PHONY: node-bins
node-bins: ## Build containerd, ctr, the runc shim, crictl, and VERSION's node binaries + etcd (cached).
	hack/build-containerd.sh
	hack/build-k8s.sh $(VERSION) kubelet kubeadm kube-apiserver kube-controller-manager kube-scheduler kube-proxy
	hack/build-etcd.sh $$(source hack/versions.sh && etcd_version_for $(VERSION))

.PHONY: node-kubectl
node-kubectl: ## Build kubectl for VERSION (for humans: $(SELFHOST_CACHE)/k8s/VERSION/bin/kubectl).
	hack/build-k8s.sh $(VERSION) kubectl

.PHONY: node-images
node-images: node-deps node-bins ## Build VERSION's images as OCI archives (cached) without importing them.
	hack/images/build.sh $(VERSION)

.PHONY: cluster-up-node
cluster-up-node: node-deps node-bins ## Start tier node: a real kubeadm node (host prep, containerd, kubelet, CNI) [VERSION=...].
	hack/node/up.sh $(VERSION)

.PHONY: cluster-down-node
cluster-down-node: ## Stop tier node and restore the host (processes, mounts, sysctls, iptables, links, cgroups, paths).
	hack/node/down.sh

.PHONY: node-reboot
node-reboot: ## Simulate a cold reboot of the tier-node node and wait until the API answers and its control plane (static or self-hosted), kube-proxy and CNI pods run again.
	hack/node/reboot.sh

.PHONY: load-images
load-images: node-deps node-bins ## Build VERSION's images and import them into the running node (what a registry pull would do).
	@test -S /run/selfhost-node/containerd/containerd.sock || { echo "load-images: the node tier is not up (make cluster-up TIER=node)" >&2; exit 1; }
	hack/images/build.sh --import /run/selfhost-node/containerd/containerd.sock $(VERSION)

.PHONY: node-check
node-check: ## Show what differs on the host from its record taken before cluster-up (exit 1 if anything).
	hack/node/host.sh check

E2E_RESULTS := .cache/test-results

.PHONY: e2e-node
e2e-node: setup build node-deps node-bins image ## The e2e suite on tier node (starts the node; tears it down after unless SELFHOST_E2E_KEEP=1) [E2E_FILES=e2e/node-unpivot.test.ts ...].
	$(MAKE) -s node-bins VERSION=$(UPGRADE_FROM)
	$(MAKE) -s node-bins VERSION=$(MINOR_FROM)
	@mkdir -p $(E2E_RESULTS)
	SELFHOST_UPGRADE_FROM=$(UPGRADE_FROM) SELFHOST_UPGRADE_TO=$(VERSION) SELFHOST_MINOR_FROM=$(MINOR_FROM) \
	npx vitest run --project e2e $(E2E_FILES) --reporter=default --reporter=json --outputFile.json=$(E2E_RESULTS)/e2e.json

UPGRADE_FROM := $(shell source hack/versions.sh && echo $$UPGRADE_FROM)
MINOR_FROM := $(shell source hack/versions.sh && echo $$MINOR_FROM)

.PHONY: e2e-kind
e2e-kind: setup ## The in-cluster e2e spec against a kind cluster (needs Docker and kind; not on this project's CI machine) [KIND_NODE_IMAGE=kindest/node:vX.Y.Z KIND_FROM= KIND_TO=].
	hack/kind-e2e.sh

.PHONY: e2e-node-golden
e2e-node-golden: setup build node-deps node-bins image ## `make test`'s tier-node part: the smoke test, then the golden path (pivot at UPGRADE_FROM, patch upgrade to VERSION, a cold reboot, the unpivot).
	$(MAKE) -s node-bins VERSION=$(UPGRADE_FROM)
	@mkdir -p $(E2E_RESULTS)
	SELFHOST_UPGRADE_FROM=$(UPGRADE_FROM) SELFHOST_UPGRADE_TO=$(VERSION) \
	npx vitest run --project e2e e2e/node-smoke.test.ts e2e/node-golden.test.ts \
	  --reporter=default --reporter=json --outputFile.json=$(E2E_RESULTS)/e2e-golden.json

.PHONY: e2e-node-smoke
e2e-node-smoke: setup node-deps node-bins ## The node tier's smoke test only (for `make test`).
	@mkdir -p $(E2E_RESULTS)
	npx vitest run --project e2e e2e/node-smoke.test.ts --reporter=default --reporter=json --outputFile.json=$(E2E_RESULTS)/e2e-smoke.json

.PHONY: bench-upgrade
bench-upgrade: setup build tsbuild node-deps node-bins image ## Benchmark: one patch upgrade UPGRADE_FROM → VERSION by selfhost and by kubeadm on tier node; prints gaps, failures, ratios.
	$(MAKE) -s node-bins VERSION=$(UPGRADE_FROM)
	SELFHOST_UPGRADE_FROM=$(UPGRADE_FROM) SELFHOST_UPGRADE_TO=$(VERSION) node .cache/tsbuild/e2e/bench-upgrade.js

.PHONY: bench-pivot
bench-pivot: setup build tsbuild node-deps node-bins image ## Benchmark: one fresh pivot on tier node; prints wall time, handovers, API gaps, idle cost.
	node .cache/tsbuild/e2e/bench-pivot.js

.PHONY: bench-unpivot
bench-unpivot: setup build tsbuild node-deps node-bins image ## Benchmark: the pivot and the unpivot of tier node in one run; prints wall times, failed probes, longest gaps, per-step times.
	node .cache/tsbuild/e2e/bench-unpivot.js

.PHONY: bench-reboot
bench-reboot: setup build tsbuild node-deps node-bins image ## Benchmark: a cold reboot of tier node with static pods, then pivoted (checkpoints); prints times from power-on and ratios.
	node .cache/tsbuild/e2e/bench-reboot.js

.PHONY: node-stats
node-stats: ## Memory of the running node tier (RSS per component, kubepods cgroup usage).
	hack/node/stats.sh
