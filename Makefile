# KalamDB on Kubernetes. `make run` and `make test` are all a new user needs.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
export GOTOOLCHAIN := local

.PHONY: all build run test test-ts run-example test-short vet fmt pgdiff pgdiff-record bench bench-http bench-live-scale test-live-scale clean tools fuzz fuzz-short manifests generate build-manager test-upstream test-e2e e2e-bins run-manager docker-build docker-push install uninstall deploy undeploy chart plugin bench-pgwire chaos

all: build

## build: compile bin/kalamdb
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/kalamdb ./cmd/kalamdb

## run: single-node server on embedded defaults (data in ./data, 127.0.0.1:8080)
run: build
	./bin/kalamdb server

## tools: servers the integration tests run for real (MinIO; etcd and kube-apiserver for
## envtest), controller-gen, jq for test/upstream (gojq when no jq is installed) and the PostgreSQL
## clients of the wire-protocol tests (psql, psycopg2, node-postgres, the JDBC driver and a JDK), built from the Go module proxy
## or installed from the distribution once and cached in
## ~/.cache/kalamdb-tools/bin (about 10 min on a fresh machine)
tools:
	bash hack/minio.sh
	bash hack/go-tools.sh controller-gen helm kustomize
	bash hack/envtest.sh >/dev/null
	KUBE_BINS="kube-apiserver kube-controller-manager kubectl" bash hack/kube.sh
	bash hack/upstream-tools.sh
	bash hack/install-pg-clients.sh

TOOLS_BIN ?= $(or $(KALAMDB_TOOLS),$(HOME)/.cache/kalamdb-tools)/bin
CONTROLLER_GEN ?= $(TOOLS_BIN)/controller-gen

## test: every test (unit, integration against real servers, envtest, fuzz seeds)
test: tools e2e-bins
	$(GO) vet ./...
	KUBEBUILDER_ASSETS="$$(bash hack/envtest.sh)" $(GO) test -count=1 -timeout 30m ./...
	$(MAKE) fuzz-short
	$(MAKE) test-ts

## test-ts: the TypeScript client (clients/typescript) against real servers it starts, in Node
## and in headless Chromium (Node >= 20 and Chromium installed by hack/ts-client.sh; npm packages
## from package-lock.json). About 2-3 minutes.
test-ts: build
	bash hack/ts-client.sh
	cd clients/typescript && npm ci --no-audit --no-fund --loglevel=error && npm test

## run-example: the TypeScript client's chat example: page on http://127.0.0.1:5173, kalamdb on
## 127.0.0.1:8090 with a temporary data directory (PORT, KALAMDB_PORT override); Ctrl-C stops it
run-example: build
	bash hack/ts-client.sh node
	cd clients/typescript && npm ci --no-audit --no-fund --loglevel=error && npm run build && node examples/chat/serve.mjs

## chaos: the Jepsen-style HA test (test/chaos: three kalamdb processes on loopback, kill -9,
## leader kills and SIGSTOP pauses, porcupine linearizability check) for CHAOS_DURATION instead
## of the 50 fault cycles `make test` runs; e.g. make chaos CHAOS_DURATION=4h
CHAOS_DURATION ?= 30m
chaos:
	$(GO) test -count=1 -v -timeout 0 -run '^TestChaos$$' ./test/chaos -args -chaos.duration=$(CHAOS_DURATION)

## pgdiff: the SQL oracle against a live PostgreSQL (hack/pgdiff.sh installs PostgreSQL from the
## distribution's packages when missing and starts a private cluster); fails on any difference
## from PostgreSQL's answers not listed in test/pgdiff/allowlist.txt. `make test` checks the same
## corpus against the recorded answers in test/pgdiff/expected without PostgreSQL.
pgdiff:
	bash hack/pgdiff.sh

## pgdiff-record: re-record test/pgdiff/expected from a live PostgreSQL, then compare
pgdiff-record:
	bash hack/pgdiff.sh record

## test-upstream: the original KalamDB's own test scripts (vendored, URL and login adapted) and a
## port of its WebSocket tests, against fresh in-process servers (test/upstream/README.md). `make
## test` runs them too, as part of ./... ; about a minute (the TTL script waits 31 s).
test-upstream:
	bash hack/upstream-tools.sh
	$(GO) test -count=1 -timeout 10m ./test/upstream/...

## fuzz-short: the SQL front-end, HTTP request-body and WebSocket MessagePack fuzz targets, and the
## differential SQL fuzz target FuzzWhere (random typed conditions and arithmetic, every table kind and
## read path must agree), for a bounded number of executions (part of `make test`). Counts, not durations: Go 1.26's fuzz coordinator can report
## a spurious "context deadline exceeded" when a -fuzztime duration expires mid-execution
## (go.dev/issue/75804, fixed in Go 1.27); a count has no deadline to race.
fuzz-short:
	$(GO) test ./dataplane/sql/parse -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 600000x
	$(GO) test ./dataplane/sql/parse -run '^$$' -fuzz '^FuzzOneTypedRound$$' -fuzztime 100000x
	$(GO) test ./dataplane/sql/pgfn -run '^$$' -fuzz '^FuzzPatterns$$' -fuzztime 60000x
	$(GO) test ./dataplane/sql/expr -run '^$$' -fuzz '^FuzzCompile$$' -fuzztime 100000x
	$(GO) test ./dataplane/live/wire -run '^$$' -fuzz '^FuzzJSONFromMsgpack$$' -fuzztime 150000x
	$(GO) test ./dataplane/live/wire -run '^$$' -fuzz '^FuzzRoundTrip$$' -fuzztime 60000x
	$(GO) test ./dataplane/server -run '^$$' -fuzz '^FuzzSQLRequestFast$$' -fuzztime 30000x
	$(GO) test ./dataplane/client -run '^$$' -fuzz '^FuzzFieldFast$$' -fuzztime 30000x
	$(GO) test ./dataplane/pgwire -run '^$$' -fuzz '^FuzzMessageDecoder$$' -fuzztime 50000x
	$(GO) test ./dataplane/replication -run '^$$' -fuzz '^FuzzDecodeEntry$$' -fuzztime 20000x
	$(GO) test ./dataplane/replication -run '^$$' -fuzz '^FuzzRecoverFromSnapshot$$' -fuzztime 20000x
	$(GO) test ./test/pgdiff -run '^$$' -fuzz '^FuzzWhere$$' -fuzztime 300x

## fuzz: longer fuzzing of the SQL front end and the MessagePack transcoder (FUZZTIME=5m by default)
FUZZTIME ?= 5m
fuzz:
	$(GO) test ./dataplane/sql/parse -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./dataplane/sql/parse -run '^$$' -fuzz '^FuzzRewrite$$' -fuzztime $(FUZZTIME)
	$(GO) test ./dataplane/sql/parse -run '^$$' -fuzz '^FuzzOneTypedRound$$' -fuzztime $(FUZZTIME)
	$(GO) test ./dataplane/live/wire -run '^$$' -fuzz '^FuzzJSONFromMsgpack$$' -fuzztime $(FUZZTIME)
	$(GO) test ./dataplane/live/wire -run '^$$' -fuzz '^FuzzRoundTrip$$' -fuzztime $(FUZZTIME)
	$(GO) test ./dataplane/server -run '^$$' -fuzz '^FuzzSQLRequestFast$$' -fuzztime $(FUZZTIME)
	$(GO) test ./dataplane/pgwire -run '^$$' -fuzz '^FuzzMessageDecoder$$' -fuzztime $(FUZZTIME)
	$(GO) test ./test/pgdiff -run '^$$' -fuzz '^FuzzWhere$$' -fuzztime $(FUZZTIME)

## manifests: CRDs into config/crd/bases and the operator's ClusterRole into config/rbac
manifests:
	bash hack/go-tools.sh controller-gen
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths=./api/... paths=./controllers/... \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

## generate: deepcopy functions of the API types
generate:
	bash hack/go-tools.sh controller-gen
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths=./api/...

## build-manager: compile bin/manager (the operator)
build-manager:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/manager ./cmd/manager

## plugin: compile bin/kubectl-kalam, the kubectl plugin (`kubectl kalam status|sql|backup|restore|approve|logs`;
## docs/kubectl-plugin.md). Put bin/ on PATH or copy the binary into it.
plugin:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/kubectl-kalam ./cmd/kubectl-kalam

## run-manager: the operator against the cluster of the current kubeconfig
run-manager: build-manager
	./bin/manager --metrics-bind-address=127.0.0.1:8082 --health-probe-bind-address=127.0.0.1:8083

## test-e2e: the end-to-end suite (real etcd, kube-apiserver, kube-controller-manager, MinIO,
## the operator and a node agent running the data plane; see e2e/README.md) and packaging checks
test-e2e: tools e2e-bins
	$(GO) test -count=1 -timeout 20m -v ./e2e/...

## e2e-bins: compile kalamdb, manager and kubectl-kalam once, with the flags e2e/harness uses (CGO_ENABLED=0,
## -trimpath), so the e2e test binaries running in parallel hit the build cache instead of
## all compiling them at once from a cold cache
e2e-bins:
	CGO_ENABLED=0 $(GO) build -trimpath ./cmd/kalamdb ./cmd/manager ./cmd/kubectl-kalam

## chart: sync the Helm chart's CRDs and ClusterRole from config/ (CI fails when out of date)
chart: manifests
	bash hack/chart-sync.sh

IMG ?= ghcr.io/kalamdb/kalamdb:$(VERSION)
KUBECTL ?= kubectl
KUSTOMIZE ?= $(TOOLS_BIN)/kustomize

## docker-build: the image with /kalamdb and /manager (needs a Docker engine)
docker-build:
	docker build --build-arg VERSION=$(VERSION) -t $(IMG) .

docker-push:
	docker push $(IMG)

## install / uninstall: the CRDs into the cluster of the current kubeconfig
install: manifests
	bash hack/go-tools.sh kustomize
	$(KUSTOMIZE) build config/crd | $(KUBECTL) apply --server-side -f -

uninstall:
	bash hack/go-tools.sh kustomize
	$(KUSTOMIZE) build config/crd | $(KUBECTL) delete --ignore-not-found -f -

## deploy / undeploy: CRDs, RBAC and the operator Deployment (config/default) with image IMG
deploy: manifests
	bash hack/go-tools.sh kustomize
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default | $(KUBECTL) apply --server-side -f -

undeploy:
	bash hack/go-tools.sh kustomize
	$(KUSTOMIZE) build config/default | $(KUBECTL) delete --ignore-not-found -f -

test-short:
	$(GO) test -short -count=1 ./...

vet:
	$(GO) vet ./...

fmt:
	gofmt -l -w $$(git ls-files '*.go')

## bench: Go micro-benchmarks (incl. backup/restore throughput to MinIO) plus the HTTP load tool against a fresh server
bench: build tools
	$(GO) test -run '^$$' -bench . -benchtime 2s ./dataplane/... | tee bench.out
	$(GO) run ./hack/loadbench --bin bin/kalamdb
	$(GO) run ./hack/livebench --bin bin/kalamdb

## test-live-scale: the scale run alone (TestScaleSubscribersFlood: 10,000 subscribers, one
## connection each, over 100 users, and a flood of inserts; also part of `make test`, ~1 min);
## asserts bounded memory and another user's SELECT answering throughout (docs/benchmarks.md)
test-live-scale:
	KALAMDB_SCALE_CONNS=10000 $(GO) test -count=1 -run '^TestScaleSubscribersFlood$$' -v -timeout 20m ./dataplane/node/

## bench-pgwire: peerbench's W1/W2/W3/W5 over pgx against the PostgreSQL listener and against a
## private PostgreSQL (hack/pg-private.sh) in one sitting (docs/benchmarks.md); about 3 minutes
bench-pgwire:
	bash hack/pg-private.sh $(GO) run ./hack/pgwirebench

## bench-live-scale: 1M live subscriptions (10,000 connections x 100) on one server; reports RSS per subscription
bench-live-scale: build
	$(GO) run ./hack/livebench --bin bin/kalamdb --mode scale --conns 10000 --per 100 --users 100

clean:
	rm -rf bin data bench.out
