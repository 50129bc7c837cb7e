# selfhost's own container image, built locally (included by the root Makefile).
# See docs/testbed.md "The selfhost image" and hack/images/selfhost.sh.

# The name every manifest uses (deploy/manager/operator.yaml; src/deploy.test.ts checks they agree).
SELFHOST_IMAGE := localhost/selfhost/selfhost:dev
# The node tier's containerd (hack/node/lib.sh: CTRD_SOCK), as `make load-images` uses it.
SELFHOST_IMAGE_SOCK := /run/selfhost-node/containerd/containerd.sock

##@ Image

.PHONY: image
image: setup ## Build the selfhost image localhost/selfhost/selfhost:dev as an OCI archive (cached); print its path and digest.
	@archive=$$(hack/images/selfhost.sh); \
	echo "image:   $(SELFHOST_IMAGE)"; \
	echo "archive: $$archive ($$(du -h "$$archive" | cut -f1))"; \
	echo "digest:  $$(cat "$$archive.digest")"

.PHONY: load-selfhost-image
load-selfhost-image: setup ## Build the selfhost image and import it into the running node tier (pinned).
	@test -S $(SELFHOST_IMAGE_SOCK) || { echo "load-selfhost-image: the node tier is not up (make cluster-up TIER=node)" >&2; exit 1; }
	@archive=$$(hack/images/selfhost.sh --import $(SELFHOST_IMAGE_SOCK)); \
	echo "image:   $(SELFHOST_IMAGE) in the node's containerd (k8s.io, pinned)"; \
	echo "digest:  $$(cat "$$archive.digest")"
