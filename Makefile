GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build test lint demo bench fuzz clean image-context image image-test image-push

## build: the driftload binary in ./bin
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/driftload ./cmd/driftload

## test: every test with the race detector (what CI runs). The end-to-end
## tests of ./cmd run after the unit tests, not beside them: several compare
## driftload's timing with the server's and need the CPU to themselves; so do
## ./deploy's, which build the container image (skipped without buildah or
## root) and render the manifests (skipped without kubectl).
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 10m ./internal/... ./schema .
	$(GO) test -count=1 -run TestResultFileSizeOfLongSoaks ./schema
	$(GO) test -race -count=1 -parallel 4 -timeout 10m ./cmd/...
	$(GO) test -race -count=1 -timeout 10m ./deploy/...

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

## image: the container image $(IMAGE):$(VERSION) from Containerfile (a
## static binary on scratch), built offline with buildah into storage of its
## own ($(IMAGE_STORE): vfs driver, chroot isolation, so no daemon and no
## overlay mounts: it builds inside a container, as root), and saved as
## $(IMAGE_ARCHIVE) (docker-archive) to load into a cluster. image-push
## sends it to PUSH_TO (docker://registry/driftload:tag).
IMAGE ?= driftload
IMAGE_DIR ?= bin/image
IMAGE_STORE ?= $(CURDIR)/bin/containers
IMAGE_ARCHIVE ?= bin/driftload-$(VERSION).tar
CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt
BUILDAH = buildah --storage-driver vfs --root $(IMAGE_STORE)/root --runroot $(IMAGE_STORE)/run

## image-context: the build context: the static binary and the host's CA bundle
image-context:
	rm -rf $(IMAGE_DIR)
	mkdir -p $(IMAGE_DIR)/etc/ssl/certs
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w $(LDFLAGS)" -o $(IMAGE_DIR)/driftload ./cmd/driftload
	cp $(CA_BUNDLE) $(IMAGE_DIR)/etc/ssl/certs/ca-certificates.crt

image: image-context
	$(BUILDAH) bud --isolation chroot --build-arg VERSION=$(VERSION) -f Containerfile -t $(IMAGE):$(VERSION) $(IMAGE_DIR)
	rm -f $(IMAGE_ARCHIVE)
	$(BUILDAH) push --quiet $(IMAGE):$(VERSION) docker-archive:$(IMAGE_ARCHIVE):$(IMAGE):$(VERSION)
	@echo "image $(IMAGE):$(VERSION), saved as $(IMAGE_ARCHIVE)"

## image-test: build the image and run `driftload version` in it
image-test: image
	@c=$$($(BUILDAH) from --quiet $(IMAGE):$(VERSION)) || exit 1; \
	out=$$($(BUILDAH) run --isolation chroot $$c -- /driftload version 2>&1); rc=$$?; \
	$(BUILDAH) rm $$c >/dev/null; \
	echo "$$out"; \
	case "$$rc:$$out" in \
	"0:driftload $(VERSION) ("*) echo "image-test: ok";; \
	*) echo "image-test: exit $$rc, want 0 and 'driftload $(VERSION) (...)'"; exit 1;; \
	esac

image-push:
	@test -n "$(PUSH_TO)" || { echo "image-push: set PUSH_TO, e.g. PUSH_TO=docker://registry.example.com/driftload:$(VERSION)"; exit 1; }
	$(BUILDAH) push $(IMAGE):$(VERSION) $(PUSH_TO)

clean:
	rm -rf bin
