# ordo — the verbs a newcomer guesses. `make` alone lists them.
#
# PostgreSQL and Redis are found at ORDO_DATABASE_URL / ORDO_REDIS_URL
# (defaults 127.0.0.1:5432 and :6379) or started privately by ordo-infra,
# with their data in .ordo/. Tools (sqlc, golangci-lint) are pinned in
# tools/go.mod and run with `go tool`.

SHELL        := /bin/bash
.SHELLFLAGS  := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO         ?= go
BENCHTIME  ?= 2s
BENCH_ORDERS ?= 200
BENCH_WORKERS ?= 8
ORDO_INFRA := bin/ordo-infra
SQLC_DIR   := pkg/eventstore/postgres
# Workspace modules, from go.work.
MODULES     = $(shell $(GO) list -m -f '{{.Dir}}')

.PHONY: help test e2e generate generate-check lint bench run up down infra infra-stop reset tidy $(ORDO_INFRA)

help: ## list the targets
	@echo "usage: make <target>"
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-15s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

test: generate-check $(ORDO_INFRA) ## everything CI runs: generated code is fresh, then all tests with -race
	$(ORDO_INFRA) exec -- $(GO) test -race -count=1 -timeout 25m work

e2e: $(ORDO_INFRA) ## only the end-to-end tests (platform, browser, saga scenarios, crash and chaos tests; ORDO_CRASH_SEED, ORDO_TOXIC_SEED, ...: see e2e/doc.go)
	$(ORDO_INFRA) exec -- $(GO) test -count=1 -race -timeout 20m ./e2e/...

generate: ## regenerate the sqlc code of the PostgreSQL event store
	cd tools && GOWORK=off $(GO) tool sqlc generate -f ../$(SQLC_DIR)/sqlc.yaml

generate-check: generate ## fail when committed generated code differs from a fresh generate
	@if ! git diff --exit-code --stat -- $(SQLC_DIR) || [ -n "$$(git status --porcelain --untracked-files=all -- $(SQLC_DIR))" ]; then \
		git status --short --untracked-files=all -- $(SQLC_DIR); \
		echo "generated code is stale: run make generate and commit" >&2; \
		exit 1; \
	fi

lint: ## golangci-lint (config .golangci.yml) over every workspace module
	@lint="$$(cd tools && GOWORK=off $(GO) tool -n golangci-lint)"; \
	status=0; \
	for m in $(MODULES); do \
		if [ -z "$$(cd $$m && $(GO) list ./... 2>/dev/null)" ]; then echo "lint: $$m has no packages yet"; continue; fi; \
		echo "lint: $$m"; \
		(cd $$m && "$$lint" run -c $(CURDIR)/.golangci.yml ./...) || status=1; \
	done; \
	exit $$status

bench: $(ORDO_INFRA) ## event store, gateway and saga benchmarks, each beside its baseline (BENCHTIME=2s, BENCH_ORDERS=200, BENCH_WORKERS=8), then a load run
	$(ORDO_INFRA) exec -- $(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count 1 ./$(SQLC_DIR)/
	$(GO) run ./gateway/cmd/gateway-bench -duration 10s # finds or starts what it needs itself, through the launcher; 16 workers, then 1 (latency without queueing)
	ORDO_BENCH_ORDERS=$(BENCH_ORDERS) ORDO_BENCH_WORKERS=$(BENCH_WORKERS) $(ORDO_INFRA) exec -- $(GO) test -run '^$$' -bench BenchmarkSaga -benchtime 1x -timeout 20m ./e2e/
	$(GO) run ./e2e/cmd/ordo-load -workload checkout-heavy,browse-heavy -rate 60,300 -duration 30s -doc docs/benchmarks.md -html docs/load/index.html # starts the platform itself; writes the "## Load" section
	@echo "bench: record these results, with the machine and date, in docs/benchmarks.md"

run: ## the whole platform on loopback; ARGS="-reset" for a fresh shop, ARGS="-help" for more
	@$(GO) build -o bin/ordo-run ./launcher/cmd/ordo-run
	@exec bin/ordo-run $(ARGS)

up: ## the platform in containers with KurrentDB (docker compose; see docs/deploy.md)
	docker compose -f deploy/docker-compose.yml up -d --build

down: ## stop the containers of make up (their volumes stay; add -v by hand to drop them)
	docker compose -f deploy/docker-compose.yml down

infra: $(ORDO_INFRA) ## find or start PostgreSQL and Redis and leave them running; eval "$(make -s infra)"
	@$(ORDO_INFRA) ensure

infra-stop: $(ORDO_INFRA) ## stop the private PostgreSQL and Redis that ordo-infra started
	@$(ORDO_INFRA) stop

reset: $(ORDO_INFRA) ## stop the private servers and delete their data (.ordo/)
	@$(ORDO_INFRA) reset

tidy: ## go mod tidy in every module and in tools/
	@for m in $(MODULES); do echo "tidy: $$m"; (cd $$m && $(GO) mod tidy); done
	cd tools && GOWORK=off $(GO) mod tidy

# Built rather than `go run` so that `exec` hands back the command's own
# exit code (go run turns every failure into 1).
$(ORDO_INFRA):
	@$(GO) build -o $(ORDO_INFRA) ./pkg/cmd/ordo-infra
