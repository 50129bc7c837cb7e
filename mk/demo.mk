# `make demo` (included by the root Makefile): hack/demo.sh.

##@ Demo

.PHONY: demo
demo: setup node-deps ## One command: tier node at UPGRADE_FROM, selfhost installed in it from deploy/default, the pivot and an upgrade shown live by `kubectl selfhost status --watch` (first run builds Kubernetes: ~1 h).
	hack/demo.sh
