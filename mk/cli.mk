# The CLI as a kubectl plugin (included by the root Makefile): kubectl runs any `kubectl-<name>`
# on PATH for `kubectl <name>`, so `kubectl-selfhost` in PREFIX/bin gives `kubectl selfhost status`.
# (`npm install -g .` after `make build` installs the same two commands from package.json's bin.)

PREFIX ?= /usr/local
PLUGIN_BIN = $(DESTDIR)$(PREFIX)/bin/kubectl-selfhost

##@ CLI

# The installed file is a two-line launcher, not a bare link to dist/cli/main.js: it runs the
# Node.js this checkout builds with (the host's may be too old), on dist/bin/kubectl-selfhost, a
# link whose name tells the CLI it runs as the plugin (its usage says `kubectl selfhost`).
.PHONY: install-plugin
install-plugin: build ## Build the CLI and link kubectl-selfhost into PREFIX/bin (default /usr/local): `kubectl selfhost status|plan`.
	@chmod +x dist/cli/main.js
	@mkdir -p dist/bin "$(dir $(PLUGIN_BIN))"
	@ln -sfn ../cli/main.js dist/bin/kubectl-selfhost
	@printf '#!/bin/sh\n# kubectl plugin selfhost: `make install-plugin` in %s\nexec '\''%s'\'' '\''%s'\'' "$$@"\n' \
	  "$(CURDIR)" "$(NODE_BIN)/node" "$(CURDIR)/dist/bin/kubectl-selfhost" > "$(PLUGIN_BIN).tmp"
	@chmod 755 "$(PLUGIN_BIN).tmp" && mv -f "$(PLUGIN_BIN).tmp" "$(PLUGIN_BIN)"
	@echo "installed $(PLUGIN_BIN) → $(CURDIR)/dist/cli/main.js"
	@"$(PLUGIN_BIN)" --help | head -n 1
	@case ":$$PATH:" in *":$(PREFIX)/bin:"*) ;; *) echo "note: $(PREFIX)/bin is not on PATH; add it for kubectl to find the plugin" ;; esac
	@echo "try: kubectl selfhost status --watch"

.PHONY: uninstall-plugin
uninstall-plugin: ## Remove kubectl-selfhost from PREFIX/bin.
	rm -f "$(PLUGIN_BIN)"
