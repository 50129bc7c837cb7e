# Tier "sim" (host-process control plane + kwok fake nodes): included by the root Makefile.
# See docs/testbed.md "Tier sim".

KWOK_VERSION := $(shell source hack/versions.sh && echo $$KWOK_VERSION)
# Where the harness (test/support/binaries.ts) finds kwok; exported for every recipe, so
# test-integration sees it too.
export SELFHOST_KWOK_BIN ?= $(SELFHOST_CACHE)/kwok/$(KWOK_VERSION)/bin
SIM_DIR := .cluster/sim
# `make cluster-up TIER=sim VERSION=...` runs that version's control plane.
SIM_UP_VERSION = $(VERSION)
SIM_UP_ETCD = $(shell source hack/versions.sh && etcd_version_for $(SIM_UP_VERSION))

##@ Tier sim

# The integration tier (test-integration) needs the whole sim control plane: the root Makefile's
# sim-bins builds kube-apiserver and etcd, this adds the rest as its prerequisite.
sim-bins: sim-bins-extra

.PHONY: sim-bins-extra
sim-bins-extra: ## Build the rest of tier sim: kube-controller-manager, kube-scheduler (SIM_VERSION), kwok.
	hack/build-k8s.sh $(SIM_VERSION) kube-controller-manager kube-scheduler
	hack/build-kwok.sh $(KWOK_VERSION)

.PHONY: cluster-up-sim
cluster-up-sim: setup tsbuild ## Start tier sim detached (3 control-plane + 2 worker kwok nodes) [VERSION=...] [SIM_NODES=N].
	hack/build-k8s.sh $(SIM_UP_VERSION) kube-apiserver kube-controller-manager kube-scheduler
	hack/build-etcd.sh $(SIM_UP_ETCD)
	hack/build-kwok.sh $(KWOK_VERSION)
	hack/sim-down.sh $(SIM_DIR) --if-stale
	SELFHOST_K8S_BIN=$(SELFHOST_CACHE)/k8s/$(SIM_UP_VERSION)/bin \
	SELFHOST_ETCD_BIN=$(SELFHOST_CACHE)/etcd/$(SIM_UP_ETCD)/bin \
	node .cache/tsbuild/test/sim/up.js --state-dir $(SIM_DIR) $(if $(SIM_NODES),--nodes $(SIM_NODES))

.PHONY: cluster-down-sim
cluster-down-sim: ## Stop tier sim started by cluster-up-sim (the PIDs in .cluster/sim/pids); no-op when none runs.
	hack/sim-down.sh $(SIM_DIR)

.PHONY: bench-sim
bench-sim: setup tsbuild sim-bins ## Benchmark: tier sim with 1000 kwok nodes; prints time to all Ready and memory [BENCH_NODES=1000].
	SELFHOST_K8S_BIN=$(SELFHOST_CACHE)/k8s/$(SIM_VERSION)/bin \
	SELFHOST_ETCD_BIN=$(SELFHOST_CACHE)/etcd/$(SIM_ETCD_VERSION)/bin \
	node .cache/tsbuild/test/sim/bench.js --nodes $(or $(BENCH_NODES),1000)

.PHONY: bench-memory
bench-memory: setup build tsbuild sim-bins ## Benchmark: the operator's memory (RSS, heap) idle on tier sim with 1000 nodes and thousands of other objects, vs. bare node and --help [BENCH_NODES=1000] [BENCH_MEMORY_ARGS=...].
	SELFHOST_K8S_BIN=$(SELFHOST_CACHE)/k8s/$(SIM_VERSION)/bin \
	SELFHOST_ETCD_BIN=$(SELFHOST_CACHE)/etcd/$(SIM_ETCD_VERSION)/bin \
	node .cache/tsbuild/test/sim/bench-memory.js --nodes $(or $(BENCH_NODES),1000) $(BENCH_MEMORY_ARGS)
