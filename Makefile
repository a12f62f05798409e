# relgen's build, test and lint targets; .ci/run calls these.
GO      ?= go
BIN     := $(CURDIR)/bin
GOLANGCI_LINT_VERSION := v2.15.0
KUBECTL_VALIDATE_VERSION := v0.0.4

.PHONY: build test race e2e lint fuzz docs verify tools

build:
	$(GO) build -o $(BIN)/relgen ./cmd/relgen

# go test ./..., through hack/testreport: the usual output, then every
# skipped test with its reason and the slowest tests. The test binaries share
# one temporary directory for the run (RELGEN_TEST_SHARED: Debian packages,
# the relgen binary; internal/testutil.Shared). The e2e package alone builds
# its images and runs eighteen simulated clusters, four at a time: minutes on
# a loaded machine, beyond go test's default 10m.
test:
	$(GO) run ./hack/testreport -timeout 30m ./...

# The same run under the race detector: every package's code compiled a
# second time with -race, and the tests several times slower. CI runs it
# after make test; make test stays the quick one a developer runs.
race:
	$(GO) run ./hack/testreport -race -timeout 30m ./...

# The end-to-end proof on its own, with every step and the report line of
# each variant (root, Linux; e2e/README.md). make test runs it as well.
e2e:
	$(GO) test -race -count=1 -timeout 30m -v -run TestCluster ./e2e

$(BIN)/golangci-lint:
	GOBIN=$(BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

# kubectl-validate checks emitted manifests against the Kubernetes schemas
# offline; the example tests use it when it is on PATH or in bin/.
$(BIN)/kubectl-validate:
	GOBIN=$(BIN) $(GO) install sigs.k8s.io/kubectl-validate@$(KUBECTL_VALIDATE_VERSION)

tools: $(BIN)/golangci-lint $(BIN)/kubectl-validate

lint: $(BIN)/golangci-lint
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(BIN)/golangci-lint run ./...

# Every fuzz target as package:Target (go test -fuzz runs one at a time);
# internal/testutil's TestMakeFuzzRunsEveryTarget keeps the list complete.
# CI runs a short pass counted in executions (FUZZTIME=50x): a duration
# budget can end a loaded run with a spurious "context deadline exceeded"
# from Go's fuzz coordinator (go.dev/issue/75804, fixed after Go 1.26).
# Inputs that fail are written to the package's testdata/fuzz/<Target> and
# stay there as seeds.
FUZZTIME ?= 15s
FUZZ_TARGETS := \
	./vmargs:FuzzParse ./vmargs:FuzzResolve \
	./cmd/relgen/cli:FuzzLoadConfig ./release/scaffold:FuzzParseMix \
	./manifests:FuzzBundleRoundTrip ./manifests:FuzzVMArgsTemplate ./manifests:FuzzCheckBundle \
	./manifests/discovery:FuzzParseConfig

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $$t for $(FUZZTIME)"; \
		$(GO) test -run='^$$' -fuzz="^$${t#*:}\$$" -fuzztime=$(FUZZTIME) "$${t%%:*}"; \
	done

docs:
	$(GO) run ./hack/gendocs docs/reference

verify: docs
	$(GO) mod tidy -diff
	@git diff --exit-code -- docs/reference || { echo "docs/reference is stale: run make docs"; exit 1; }
