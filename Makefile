# The two everyday commands: `make run` (the whole pipeline on this machine)
# and `make test` (what CI runs, after .ci/run installed the tools).
GO ?= go
# Fuzzing runs a fixed number of inputs, not a duration: a duration ends
# with "context deadline exceeded" when it expires while a worker is still
# on a slow input (seen in CI on the 10,000-deep nesting seeds).
FUZZTIME ?= 150000x

.PHONY: run build test vet fuzz bench ui

run: ui
	$(GO) run ./cmd/wikistream run

build: ui
	$(GO) build -o bin/wikistream ./cmd/wikistream

# The dashboard: npm ci (only when the lock file changed) and vite's build
# into internal/web/ui/dist/app, which the binary embeds. Needs node and npm.
ui: ui/node_modules/.package-lock.json
	cd ui && npm run build

ui/node_modules/.package-lock.json: ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1)

test: vet ui
	$(GO) test -race -count=1 -timeout 20m ./...
	$(MAKE) fuzz

# Each fuzz target runs briefly; a crash fails the build and leaves the
# input in testdata/fuzz for a regression test.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./internal/recentchange
	$(GO) test -run '^$$' -fuzz '^FuzzParser$$' -fuzztime $(FUZZTIME) ./internal/wikimedia
	$(GO) test -run '^$$' -fuzz '^FuzzParseMatchesReference$$' -fuzztime $(FUZZTIME) ./internal/recentchange

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/recentchange ./internal/wikimedia ./internal/gen
