# lbwatch build. `make build` installs what is missing and builds everything; it is quick when
# nothing changed. `make demo`, `make test` and `make bench` run it first.
SHELL := /bin/bash
.DEFAULT_GOAL := build

DEB_PACKAGES := clang llvm libbpf-dev libelf-dev zlib1g-dev pkg-config iproute2 bpftool \
                haproxy nginx-light libnginx-mod-stream util-linux procps python3 make g++ \
                etcd-server etcd-client prometheus redis-server
STAMPS := .build-stamps
BPF_OBJ := bpf/lbwatch.bpf.o
ADDON := native/build/Release/lbwatch.node
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

.PHONY: build deps demo demo-cluster test test-unit lint bench bench-quick bench-full soak clean install uninstall deb

# make install / make uninstall / make deb (README "Install").
PREFIX ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
BUILD := build
VERSION = $(shell node -p 'require("./package.json").version')
DEB_ARCH = $(shell dpkg --print-architecture)
DEB_MAINTAINER ?= lbwatch maintainers <maintainers@lbwatch.invalid>
# The production node_modules, named by the lock file's content: a new lock gets a new directory,
# so a concurrent install never sees one half-replaced.
RUNTIME = $(BUILD)/runtime-$(shell cat package.json package-lock.json | sha256sum | cut -c1-16)

build: $(STAMPS)/deps $(STAMPS)/npm $(BPF_OBJ) $(ADDON) $(STAMPS)/tsc

# Debian packages: installed only when one is missing, so a warm machine never touches apt.
$(STAMPS)/deps:
	@mkdir -p $(STAMPS)
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  if [ "$$(id -u)" != 0 ]; then echo "error: packages missing ($$missing) and not root: run 'make deps' as root or install them with apt-get" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@touch $@

deps: $(STAMPS)/deps

# npm ci also builds the addon (package.json "install" runs node-gyp).
$(STAMPS)/npm: package-lock.json $(STAMPS)/deps
	npm ci --no-audit --no-fund
	@touch $@

$(BPF_OBJ): bpf/lbwatch.bpf.c bpf/lbwatch.h $(wildcard bpf/*.h) $(STAMPS)/deps
	clang -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) -I bpf -c bpf/lbwatch.bpf.c -o $@

$(ADDON): $(wildcard native/*.cc native/*.h native/binding.gyp) bpf/lbwatch.h | $(STAMPS)/npm
	npm run install --silent
	@touch $@

$(STAMPS)/tsc: $(shell find src -name '*.ts') tsconfig.json $(STAMPS)/npm
	npx tsc -p tsconfig.json
	@touch $@

lint: build
	npx biome check .
	npx tsc -p tsconfig.test.json

# VITEST_FLAGS lets CI add a JSON report without changing what `make test` runs.
test: build lint
	npx vitest run $(VITEST_FLAGS)

demo: build
	npx tsx examples/demo/demo.ts

# etcd, three simulated hosts (network namespaces) with an agent each, HAProxy and lbwatch run.
demo-cluster: build
	npx tsx examples/demo-cluster/demo.ts

bench: build
	npx tsx bench/run.ts

bench-quick: build
	npx tsx bench/run.ts --quick

# The 100,000-backend sizes and more trials (about 30 minutes).
bench-full: build
	npx tsx bench/run.ts --full

# Issue 8's fault soak (3 minutes; SOAK_FLAGS=--minutes=N for longer).
soak: build
	npx tsx bench/soak.ts $(SOAK_FLAGS)

# npm ci in a staging directory, without scripts (the root package's own install script builds the
# addon, which install-tree.sh takes from native/build), without the packages' command links (nothing
# runs them at run time); then the directories of older locks go.
$(BUILD)/runtime-%: | $(STAMPS)/deps
	@mkdir -p $(BUILD)
	@tmp=$$(mktemp -d $(BUILD)/.runtime.XXXXXX) && cp package.json package-lock.json $$tmp/ && \
	(cd $$tmp && npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error) && \
	find $$tmp/node_modules -name .bin -type d -prune -exec rm -rf {} + && \
	{ mv -T $$tmp $@ 2>/dev/null || rm -rf $$tmp; }
	@find $(BUILD) -maxdepth 1 -name 'runtime-*' ! -name '$(notdir $@)' -exec rm -rf {} +

install: build $(RUNTIME)
	DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' SYSCONFDIR='$(SYSCONFDIR)' UNITDIR='$(UNITDIR)' \
	  RUNTIME='$(RUNTIME)' packaging/install-tree.sh install

uninstall:
	DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' SYSCONFDIR='$(SYSCONFDIR)' UNITDIR='$(UNITDIR)' \
	  packaging/install-tree.sh uninstall

deb: build $(RUNTIME)
	VERSION='$(VERSION)' ARCH='$(DEB_ARCH)' MAINTAINER='$(DEB_MAINTAINER)' \
	  packaging/deb/build-deb.sh $(BUILD)/lbwatch_$(VERSION)_$(DEB_ARCH).deb $(RUNTIME)

clean:
	rm -rf dist native/build $(BPF_OBJ) $(STAMPS) $(BUILD)
