# Tier "ha": three kubeadm control-plane nodes on this machine behind haproxy (included by the
# root Makefile). See docs/testbed.md "Tier ha" and hack/ha/*.sh.

##@ Tier ha

.PHONY: ha-deps
ha-deps: node-deps ## Install tier ha's Debian packages: the node tier's plus haproxy (apt-get; no-op when installed).
	@dpkg-query -W -f='$${Status}\n' haproxy 2>/dev/null | grep -q 'install ok installed' || { \
	  echo "ha-deps: installing haproxy"; export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq haproxy >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq haproxy; }; }

.PHONY: cluster-up-ha
cluster-up-ha: ha-deps node-bins ## Start tier ha: three control-plane nodes (network, mount and UTS namespaces), haproxy in front [VERSION=...].
	hack/ha/up.sh $(VERSION)

.PHONY: cluster-down-ha
cluster-down-ha: ## Stop tier ha and restore the host (processes by PID, namespaces, cgroups, paths); no-op when it is not up.
	hack/ha/down.sh

.PHONY: ha-status
ha-status: ## Tier ha's nodes, etcd members and their health, and the load balancer's view (exit 1 unless 3 Ready nodes and 3 healthy members).
	hack/ha/status.sh

.PHONY: e2e-ha
e2e-ha: setup build ha-deps node-bins ## The e2e suite on tier ha (e2e/*.ha.ts): the tier itself (three Ready nodes, three etcd members, pod traffic between nodes, cluster-down restores the host).
	@mkdir -p $(E2E_RESULTS)
	npx vitest run --project e2e-ha --reporter=default --reporter=json --outputFile.json=$(E2E_RESULTS)/e2e-ha.json
