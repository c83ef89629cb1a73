# gosio — make test runs everything CI runs.
GO ?= go
NPM ?= npm

.PHONY: test vet fmt-check conformance-deps browser-deps unit conformance vuln fuzz-short bench bench-go bench-deps redis-deps chat

test: fmt-check vet conformance-deps bench-deps browser-deps
	# Allocation-count tests skip under -race (sync.Pool drops items at
	# random there); this pass runs them for real.
	$(GO) test -count=1 -run 'Allocs' ./adapter/memory ./engineio/parser ./socketio/parser
	$(GO) test -race -count=1 ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './conformance/node_modules/*'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# The conformance tests drive our server with the official JS clients,
# installed exactly as pinned by conformance/package-lock.json.
conformance-deps:
	@command -v node >/dev/null || { echo "error: node (>= 20) is required for the conformance tests"; exit 1; }
	@command -v $(NPM) >/dev/null || { echo "error: npm is required for the conformance tests"; exit 1; }
	@if [ ! -f conformance/node_modules/.package-lock.json ] || [ conformance/package-lock.json -nt conformance/node_modules/.package-lock.json ]; then \
		$(NPM) ci --prefix conformance --no-audit --no-fund; \
	fi

# The Node reference server of the benchmark (bench/node: socket.io and
# the redis adapter, pinned by bench/node/package-lock.json); make test
# needs it for bench/server's parity tests, make bench to run it.
bench-deps:
	@command -v node >/dev/null || { echo "error: node (>= 20) is required for bench/node"; exit 1; }
	@command -v $(NPM) >/dev/null || { echo "error: npm is required for bench/node"; exit 1; }
	@if [ ! -f bench/node/node_modules/.package-lock.json ] || [ bench/node/package-lock.json -nt bench/node/node_modules/.package-lock.json ]; then \
		$(NPM) ci --prefix bench/node --no-audit --no-fund; \
	fi

# The chat example's browser test (examples/chat/browser_test.go) drives
# the system Chromium with playwright-core (pinned in conformance/, so
# conformance-deps installs it; playwright's own browser downloads are
# never used). Installed with apt when missing, with sudo unless root.
# GOSIO_CHROMIUM points the test at another build; it must then exist.
CHROMIUM ?= $(or $(GOSIO_CHROMIUM),/usr/bin/chromium)
APT_GET ?= apt-get
browser-deps:
	@if [ -n "$(GOSIO_CHROMIUM)" ]; then \
		[ -x "$(CHROMIUM)" ] || { echo "error: GOSIO_CHROMIUM=$(GOSIO_CHROMIUM) is not an executable"; exit 1; }; \
	elif [ ! -x "$(CHROMIUM)" ]; then \
		if [ "$$(id -u)" = 0 ]; then sudo=; \
		elif command -v sudo >/dev/null; then sudo=sudo; \
		else echo "error: $(CHROMIUM) is missing; installing it needs root: apt-get install -y chromium"; exit 1; fi; \
		command -v $(firstword $(APT_GET)) >/dev/null || { echo "error: $(CHROMIUM) is missing and there is no apt-get: install Chromium, then set GOSIO_CHROMIUM"; exit 1; }; \
		echo "browser-deps: installing chromium for examples/chat's browser test"; \
		$$sudo env DEBIAN_FRONTEND=noninteractive $(APT_GET) update && \
		$$sudo env DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y chromium || exit 1; \
		[ -x "$(CHROMIUM)" ] || { echo "error: chromium installed but $(CHROMIUM) is still missing"; exit 1; }; \
	fi

# Go tests with -race that need no Node: everything but the conformance
# suite (conformance/cmd/testserver needs no Node and stays),
# examples/chat's browser test and bench/server's parity tests.
unit:
	$(GO) test -race -count=1 -skip '^(TestBrowser|TestParity_.*)$$' $$($(GO) list ./... | grep -v '/conformance$$')

# Just the conformance suite: the official JS clients against our servers
# (conformance/README.md lists the scenarios).
conformance: conformance-deps
	$(GO) test -race -count=1 ./conformance/...

# Known vulnerabilities in the code's dependencies and the Go toolchain
# (needs the network: it fetches govulncheck and reads vuln.go.dev).
vuln:
	$(GO) run golang.org/x/vuln/cmd/govulncheck@latest ./...

# A short run of every fuzz target (CI uses it; run longer by hand).
FUZZTIME ?= 10s
fuzz-short:
	$(GO) test ./engineio/parser -run '^$$' -fuzz '^FuzzDecodePacket$$' -fuzztime $(FUZZTIME)
	$(GO) test ./engineio/parser -run '^$$' -fuzz '^FuzzDecodePayload$$' -fuzztime $(FUZZTIME)
	$(GO) test ./socketio/parser -run '^$$' -fuzz '^FuzzDecoder$$' -fuzztime $(FUZZTIME)
	$(GO) test ./socketio/parser -run '^$$' -fuzz '^FuzzUnmarshal$$' -fuzztime $(FUZZTIME)
	$(GO) test ./socketio/parser -run '^$$' -fuzz '^FuzzMarshalFlat$$' -fuzztime $(FUZZTIME)
	$(GO) test ./socketio -run '^$$' -fuzz '^FuzzServerFrames$$' -fuzztime $(FUZZTIME)
	$(GO) test ./adapter/nats/internal/wire -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./adapter/nats/internal/wire -run '^$$' -fuzz '^FuzzJSON$$' -fuzztime $(FUZZTIME)
	$(GO) test ./adapter/nats -run '^$$' -fuzz '^FuzzMessages$$' -fuzztime $(FUZZTIME)

# The Go micro-benchmarks (go test -bench).
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./engineio/... ./socketio/... ./adapter/...

# The side-by-side benchmark of gosio and Node's socket.io (bench/cmd/bench):
# every scenario on both servers, alternating, 3 runs; prints the table and
# writes bench/RESULTS.md. Not part of make test. BENCHFLAGS passes flags,
# e.g. make bench BENCHFLAGS='-quick -servers gosio' for a smoke run.
BENCHFLAGS ?=
bench: bench-deps redis-deps
	$(GO) run ./bench/cmd/bench $(BENCHFLAGS)

# redis-server for the Node cluster scenario (@socket.io/redis-adapter),
# installed with apt when missing, with sudo unless root.
redis-deps:
	@if ! command -v redis-server >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then sudo=; \
		elif command -v sudo >/dev/null; then sudo=sudo; \
		else echo "error: redis-server is missing; installing it needs root: apt-get install -y redis-server"; exit 1; fi; \
		command -v $(firstword $(APT_GET)) >/dev/null || { echo "error: redis-server is missing and there is no apt-get: install Redis"; exit 1; }; \
		echo "redis-deps: installing redis-server for the benchmark's Node cluster"; \
		$$sudo env DEBIAN_FRONTEND=noninteractive $(APT_GET) update && \
		$$sudo env DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y redis-server || exit 1; \
		command -v redis-server >/dev/null || { echo "error: redis-server installed but not on PATH"; exit 1; }; \
	fi
