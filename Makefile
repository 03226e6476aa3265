# quaykeeper: `make run` brings the whole pipeline up on local defaults and syncs a sample
# organization; `make test` runs every test. See README.md.

TEMPORAL_CLI_VERSION := v1.5.1
STATICCHECK_VERSION := v0.8.2
BIN := $(CURDIR)/bin
GO_PACKAGES := ./...

.PHONY: all build run stop test lint bench record-histories clean

all: build

build:
	go build -o $(BIN)/worker ./worker
	go build -o $(BIN)/starter ./starter
	go build -o $(BIN)/quaysim ./cmd/quaysim

# The Temporal CLI serves the local dev server; built from the Go module proxy on first use.
$(BIN)/temporal:
	@echo "building the Temporal CLI $(TEMPORAL_CLI_VERSION) into bin/ (several minutes, once)"
	GOBIN=$(BIN) go install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_CLI_VERSION)

run: build $(BIN)/temporal
	scripts/ensure-postgres.sh
	scripts/run.sh

stop:
	scripts/run.sh stop

$(BIN)/staticcheck:
	GOBIN=$(BIN) go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

lint: $(BIN)/staticcheck
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	go vet $(GO_PACKAGES)
	$(BIN)/staticcheck $(GO_PACKAGES)

test: lint $(BIN)/temporal
	scripts/ensure-postgres.sh
	QUAYKEEPER_TEMPORAL_CLI=$(BIN)/temporal go test -count=1 -timeout 20m $(GO_PACKAGES)

# A full sync of 1,000 repositories × 200 tags through a worker process, and the policy on 1M
# tags. QUAYKEEPER_BENCH_REPOS and QUAYKEEPER_BENCH_TAGS change the organization's size; the
# worker's per-host request bound is lifted (QUAYKEEPER_QUAY_RPS=0) to measure the pipeline.
BENCH_RPS ?= 0
bench: $(BIN)/temporal
	scripts/ensure-postgres.sh
	go test -run '^$$' -bench . -benchmem ./internal/policy
	QUAYKEEPER_QUAY_RPS=$(BENCH_RPS) QUAYKEEPER_TEMPORAL_CLI=$(BIN)/temporal \
		go test -run '^$$' -bench BenchmarkFullSync -benchtime 1x -timeout 30m ./internal/e2e

# Re-record the workflow histories that the replay test holds the code to. Run it only when
# a workflow change is meant to be incompatible (and say so in the commit).
record-histories: $(BIN)/temporal
	scripts/ensure-postgres.sh
	rm -f workflows/testdata/histories/*.json
	QUAYKEEPER_TEMPORAL_CLI=$(BIN)/temporal \
		QUAYKEEPER_RECORD_HISTORIES=$(CURDIR)/workflows/testdata/histories \
		go test -count=1 -run TestHistoriesReplay ./internal/e2e

clean: stop
	rm -rf $(BIN) .run
