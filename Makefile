GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build test lint demo bench fuzz clean

## build: the driftload binary in ./bin
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/driftload ./cmd/driftload

## test: every test with the race detector (what CI runs). The end-to-end
## tests of ./cmd run after the unit tests, not beside them: several compare
## driftload's timing with the server's and need the CPU to themselves.
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 10m ./internal/... ./schema .
	$(GO) test -count=1 -run TestResultFileSizeOfLongSoaks ./schema
	$(GO) test -race -count=1 -parallel 4 -timeout 10m ./cmd/...

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

## lint: formatting, vet and staticcheck
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

## demo: a 20-second smoke test against the embedded reference server
demo: build
	./bin/driftload smoke --embedded-target --duration 20s

## bench: the Go benchmarks of the hot paths (short)
bench:
	$(GO) test -run '^$$' -bench . -benchtime 300ms ./internal/...

## fuzz: a short run of every fuzz target
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseDetectResponse -fuzztime 20s ./internal/driftlock
	$(GO) test -run '^$$' -fuzz FuzzAppendJSONString -fuzztime 20s ./internal/gen
	$(GO) test -run '^$$' -fuzz FuzzDecodeDetectRequest -fuzztime 20s ./internal/target
	$(GO) test -run '^$$' -fuzz FuzzHandler -fuzztime 20s ./internal/target
	$(GO) test -run '^$$' -fuzz '^FuzzParseFile$$' -fuzztime 20s ./internal/threshold
	$(GO) test -run '^$$' -fuzz '^FuzzParseExpr$$' -fuzztime 20s ./internal/threshold
	$(GO) test -run '^$$' -fuzz '^FuzzParseSelector$$' -fuzztime 20s ./internal/threshold
	$(GO) test -run '^$$' -fuzz '^FuzzParseStages$$' -fuzztime 20s ./internal/runner
	$(GO) test -run '^$$' -fuzz '^FuzzParseHeaders$$' -fuzztime 20s ./internal/scenario/http
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 20s ./internal/scenario/http
	$(GO) test -run '^$$' -fuzz '^FuzzReadResult$$' -fuzztime 20s ./internal/report
	$(GO) test -run '^$$' -fuzz '^FuzzHistogramSink$$' -fuzztime 20s ./internal/report
	$(GO) test -run '^$$' -fuzz FuzzResponseParser -fuzztime 20s -fuzzminimizetime 5s ./internal/runner/h1

clean:
	rm -rf bin
