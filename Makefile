# gosio — make test runs everything CI runs.
GO ?= go
NPM ?= npm

.PHONY: test vet fmt-check conformance-deps unit fuzz-short bench chat

test: fmt-check vet conformance-deps
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

unit:
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /conformance)

# A short run of every fuzz target (CI uses it; run longer by hand).
FUZZTIME ?= 10s
fuzz-short:
	$(GO) test ./engineio/parser -run '^$$' -fuzz '^FuzzDecodePacket$$' -fuzztime $(FUZZTIME)
	$(GO) test ./engineio/parser -run '^$$' -fuzz '^FuzzDecodePayload$$' -fuzztime $(FUZZTIME)
	$(GO) test ./socketio/parser -run '^$$' -fuzz '^FuzzDecoder$$' -fuzztime $(FUZZTIME)
	$(GO) test ./socketio/parser -run '^$$' -fuzz '^FuzzUnmarshal$$' -fuzztime $(FUZZTIME)
	$(GO) test ./socketio -run '^$$' -fuzz '^FuzzServerFrames$$' -fuzztime $(FUZZTIME)

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./engineio/... ./socketio/... ./adapter/...
