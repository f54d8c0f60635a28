# The two commands: `make run` builds everything (the console included) and
# runs Roentgen; `make test` installs what the tests need and runs them all.
.PHONY: run build ui test

# Pure Go by default: no C compiler needed, Pebble compresses with the
# pure-Go zstd (klauspost/compress), at the same ingest rate and peak RSS
# under the memory budget as the cgo build (BENCHMARKS.md, quiet side by
# side). `make build CGO_ENABLED=1` builds with the C zstd (DataDog/zstd);
# stores are compatible both ways.
CGO_ENABLED ?= 0

run: build
	./bin/roentgen $(ARGS)

# The version is git describe's; -buildvcs=true stamps the revision too,
# whatever GOFLAGS says (roentgen version falls back to it).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

build: ui
	CGO_ENABLED=$(CGO_ENABLED) go build -buildvcs=true -ldflags "-X main.version=$(VERSION)" -o bin/roentgen ./cmd/roentgen

ui:
	bash scripts/build-ui.sh

test:
	bash scripts/test.sh
