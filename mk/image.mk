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

# The Dockerfile, proven here without an engine or a registry: buildah (Debian's) builds it against
# a locally assembled node:<.nvmrc>-slim (hack/images/node-base.sh, hack/images/dockerfile.sh).
IMAGE_DEBS := buildah debootstrap

.PHONY: image-deps
image-deps: ## Install buildah and debootstrap for the Dockerfile build (apt-get; no-op when installed).
	@missing=$$(for p in $(IMAGE_DEBS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "image-deps: installing $$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq $$missing >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq $$missing; }; \
	else echo "image-deps: all installed"; fi

.PHONY: image-dockerfile
image-dockerfile: setup image-deps ## Build the Dockerfile with buildah against a locally assembled node:<.nvmrc>-slim (cached layers); print the archive.
	@archive=$$(hack/images/dockerfile.sh); \
	echo "image:   $(SELFHOST_IMAGE) (from the Dockerfile, in buildah's storage under $(SELFHOST_CACHE)/buildah)"; \
	echo "archive: $$archive ($$(du -h "$$archive" | cut -f1))"; \
	echo "digest:  $$(cat "$$archive.digest")"

.PHONY: image-dockerfile-test
image-dockerfile-test: setup image-deps ## Prove the Dockerfile: build it and make image from this tree, compare them file by file and run both.
	@image=$$(hack/images/selfhost.sh); dockerfile=$$(hack/images/dockerfile.sh); \
	SELFHOST_IMAGE_ARCHIVE=$$image SELFHOST_DOCKERFILE_ARCHIVE=$$dockerfile \
	SELFHOST_NODE_BASE_ARCHIVE=$$(hack/images/node-base.sh 2>/dev/null) \
	npx vitest run --project image
