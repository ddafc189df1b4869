# biaogan — make run, make test.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/biaogan/biaogan/internal/app.Version=$(VERSION)
BIN     := bin/biaogan
VENDOR  := internal/web/static/vendor
DATA    ?= ./data
PGDIR   ?= $(CURDIR)/tmp/pg

.PHONY: run build test test-sqlite test-postgres test-browser bench lint assets clean

## run: build with assets and serve the demo city office at http://127.0.0.1:8080
run: build
	BIAOGAN_DATA=$(DATA) ./$(BIN) serve --demo

## build: the single binary in bin/
build: assets
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/biaogan

## assets: htmx and ECharts from npm (committed package-lock.json)
assets: $(VENDOR)/htmx.min.js $(VENDOR)/echarts.min.js

node_modules/.package-lock.json: package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

$(VENDOR)/htmx.min.js: node_modules/.package-lock.json
	@mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $@

$(VENDOR)/echarts.min.js: node_modules/.package-lock.json
	@mkdir -p $(VENDOR)
	cp node_modules/echarts/dist/echarts.min.js $@

## test: lint, Go tests with -race on SQLite and (when reachable) PostgreSQL, browser test
test: lint assets test-sqlite test-postgres test-browser

test-sqlite:
	$(GO) test -race -count=1 ./...

# Uses BIAOGAN_TEST_DATABASE_URL when set; otherwise starts a throw-away
# PostgreSQL under tmp/ if the server binaries are installed.
test-postgres:
	@url="$$BIAOGAN_TEST_DATABASE_URL"; \
	if [ -z "$$url" ] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then url=$$(.ci/pg-start $(PGDIR)); fi; \
	if [ -z "$$url" ]; then echo "PostgreSQL not installed: skipping the PostgreSQL run (CI always runs it)"; exit 0; fi; \
	echo "PostgreSQL: $$url"; \
	BIAOGAN_TEST_DATABASE_URL="$$url" $(GO) test -race -count=1 ./...

test-browser: build
	BIAOGAN_BROWSER_TEST=1 BIAOGAN_TEST_BINARY=$(CURDIR)/$(BIN) $(GO) test -count=1 -run Browser ./internal/e2e/

## bench: the benchmarks named by the issues; results go to BENCHMARKS.md
bench: build
	$(GO) run ./internal/bench/cmd -bin $(CURDIR)/$(BIN) -out BENCHMARKS.md

## lint: gofmt and go vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin tmp $(VENDOR)
