# podid developer tasks. `make test` is the command CI runs.
GO ?= go
CONTROLLER_TOOLS_VERSION ?= v0.19.0
TOOLS_DIR ?= $(HOME)/.cache/podid/tools/controller-tools-$(CONTROLLER_TOOLS_VERSION)
CONTROLLER_GEN := $(TOOLS_DIR)/controller-gen

.PHONY: all build test unit lint generate bins bench fuzz soak clean images

all: build

## build: compile podid, mic and nmi into bin/
build:
	$(GO) build -o bin/ ./cmd/...

## images: podid's images (linux/amd64 and arm64 in one index, reproducible digests) as
## OCI layouts and docker archives in IMAGES_OUT; the podid image carries Debian's
## iptables for each platform (fetched with apt-get download once, then cached)
IMAGES_OUT ?= bin/images
images:
	$(GO) run ./cmd/podid images build --out $(IMAGES_OUT)

## bins: build and cache kube-apiserver, kube-scheduler, kube-controller-manager, etcd and kwok (minutes cold, instant warm)
bins:
	@hack/k8s-bin.sh

## lint: gofmt and go vet
lint:
	@out="$$(gofmt -l $$(git ls-files '*.go'))"; if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## unit: tests that need no control plane
unit:
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /test/)

## test: lint, then every test, including those on a real apiserver, etcd and kwok.
## Packages run one at a time (-p 1): `podid up` in test/e2e owns fixed agent
## addresses (127.32.0.x:2579) that other packages' checks may probe.
test: lint bins
	$(GO) test -p 1 -count=1 -timeout 30m ./...

## bench: scale and latency benchmarks (about 20 minutes; PODID_BENCH_SCALE=0.1 for a
## quick look). Each scale benchmark runs BENCH_COUNT times on a fresh cluster:
## on a shared 2-core machine one run's ratio varies by about ±0.15.
BENCH_COUNT ?= 3
bench: bins
	$(GO) test -run '^$$' -bench . -benchtime=1x -count=$(BENCH_COUNT) -timeout 90m ./test/bench/
	$(GO) test -run '^$$' -bench . ./internal/agent/server/
	$(GO) test -count=1 -run '^$$' -bench ACRPullsThroughTheProvider -benchtime=1x -timeout 30m ./test/e2e/

## fuzz: each fuzz target for FUZZTIME (60s); `make test` runs their seed corpora.
FUZZTIME ?= 60s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

## soak: every node agent under steady load with pod churn for PODID_SOAK_DURATION
## (10m); prints RSS, goroutines and open descriptors after warm-up and at the end.
PODID_SOAK_DURATION ?= 10m
soak: bins
	PODID_SOAK_DURATION=$(PODID_SOAK_DURATION) $(GO) test -count=1 -run '^$$' -bench BenchmarkSoak -benchtime=1x -timeout 60m ./test/agent/

## generate: deepcopy and CRDs from api/v1, then the legacy field spellings
generate: $(CONTROLLER_GEN)
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths=./api/...
	$(CONTROLLER_GEN) crd:crdVersions=v1 paths=./api/... output:crd:artifacts:config=config/crd
	$(GO) run ./hack/crd-legacy config/crd

$(CONTROLLER_GEN):
	GOBIN=$(TOOLS_DIR) $(GO) install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)

clean:
	rm -rf bin
