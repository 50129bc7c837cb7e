# selfhost — run `make help` for the targets.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# A Node.js that satisfies .nvmrc: the host's when new enough, else fetched once into the cache.
NODE_BIN := $(shell hack/ensure-node.sh)
ifeq ($(NODE_BIN),)
$(error could not provide Node.js $(shell cat .nvmrc); see hack/ensure-node.sh)
endif
export PATH := $(NODE_BIN):$(PATH)
export SELFHOST_CACHE ?= $(HOME)/.cache/selfhost
SIM_VERSION := $(shell source hack/versions.sh && echo $$SIM_VERSION)
SIM_ETCD_VERSION := $(shell source hack/versions.sh && echo $$SIM_ETCD_VERSION)

NPM_STAMP := node_modules/.package-lock.json

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make \033[36m<target>\033[0m\n"} \
	  /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } \
	  /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: setup
setup: $(NPM_STAMP) ## Install the pinned Node.js (if needed) and the npm dependencies.

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

.PHONY: build
build: setup ## Compile TypeScript into dist/.
	npx tsc -p tsconfig.build.json

.PHONY: manifests
# The CRD is generated into crds/ (the project's top-level home of generated CRDs) and copied into
# the kustomize base that installs it (deploy/crd/): kustomize refuses files outside a
# kustomization's root. verify-manifests checks both.
manifests: build ## Generate crds/ (and its copy in deploy/crd/) from the TypeScript schema.
	node dist/api/gen-crd.js crds
	cp crds/*.yaml deploy/crd/

.PHONY: verify-manifests
verify-manifests: build ## Fail when crds/ or deploy/crd/ is not what `make manifests` generates.
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	node dist/api/gen-crd.js "$$tmp"; \
	for f in "$$tmp"/*; do for d in crds deploy/crd; do \
	  if ! diff -u "$$d/$${f##*/}" "$$f"; then \
	    echo "$$d/$${f##*/} is stale: run 'make manifests' and commit the result" >&2; exit 1; fi; \
	done; done; \
	echo "crds/ and deploy/crd/ are up to date"

.PHONY: lint
lint: setup ## Type-check (strict) and lint.
	npx tsc -p tsconfig.json --noEmit
	npx eslint .

.PHONY: fixtures
fixtures: ## Regenerate kubeadm static pod fixtures with real kubeadm (builds kubeadm once per version).
	hack/gen-fixtures.sh

##@ Test

.PHONY: test-unit
RESULTS := .cache/test-results

test-unit: setup ## Unit tests (no cluster, seconds) with coverage.
	@mkdir -p $(RESULTS)
	npx vitest run --project unit --coverage --reporter=default --reporter=json --outputFile.json=$(RESULTS)/unit.json

.PHONY: test-integration
test-integration: setup sim-bins ## Integration tests against a real etcd + kube-apiserver on loopback.
	@mkdir -p $(RESULTS)
	SELFHOST_K8S_BIN=$(SELFHOST_CACHE)/k8s/$(SIM_VERSION)/bin \
	SELFHOST_ETCD_BIN=$(SELFHOST_CACHE)/etcd/$(SIM_ETCD_VERSION)/bin \
	npx vitest run --project integration --reporter=default --reporter=json --outputFile.json=$(RESULTS)/integration.json

.PHONY: test
test: lint verify-manifests test-unit test-integration e2e-node-golden ## Everything CI runs: unit, integration (tier sim), node smoke and the golden path (tier node: pivot, patch upgrade, cold reboot, unpivot).
	@node hack/test-summary.mjs $(RESULTS)/unit.json $(RESULTS)/integration.json $(RESULTS)/e2e-golden.json

.PHONY: e2e
e2e: e2e-node ## The full e2e suite on a real kubeadm node (tier node).

##@ Test bed

TIER ?= sim
VERSION ?= $(shell source hack/versions.sh && echo $$DEFAULT_VERSION)
export VERSION

.PHONY: cluster-up
cluster-up: ## Start a test cluster: TIER=sim (host processes + kwok), TIER=node (real kubeadm node) or TIER=ha (three kubeadm control-plane nodes) [VERSION=...].
	$(MAKE) cluster-up-$(TIER)

.PHONY: cluster-down
cluster-down: ## Stop every test cluster this checkout started and restore the host.
	$(MAKE) cluster-down-sim cluster-down-node cluster-down-ha

# The test harness is TypeScript; humans' `make cluster-up` runs its compiled form (product code
# and harness only, so a type error in some test file cannot block bringing a cluster up).
.PHONY: tsbuild
tsbuild: setup
	npx tsc -p tsconfig.harness.json

-include mk/*.mk

##@ Kubernetes binaries

.PHONY: sim-bins
sim-bins: ## Build tier sim's binaries: kube-apiserver, kubectl (its kustomize: test/integration/deploy-kustomize.test.ts), etcd (+ controller-manager, scheduler, kwok via mk/sim.mk).
	hack/build-k8s.sh $(SIM_VERSION) kube-apiserver kubectl
	hack/build-etcd.sh $(SIM_ETCD_VERSION)

.PHONY: k8s-bins
k8s-bins: ## Build every pinned Kubernetes version's binaries and paired etcd [VERSIONS="v1.37.2 ..."].
	source hack/versions.sh; \
	for v in $${VERSIONS:-$$TESTBED_VERSIONS}; do \
	  hack/build-k8s.sh $$v; hack/build-etcd.sh $$(etcd_version_for $$v); \
	done
