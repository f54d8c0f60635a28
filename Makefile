# The two commands: `make run` builds everything (the console included) and
# runs Roentgen; `make test` installs what the tests need and runs them all.
.PHONY: run build ui test

# With cgo Pebble compresses with the C zstd, which compresses ~3x and
# decompresses ~7x faster than the pure-Go one: roentgen-bench stored ~2x the
# segments/s wall with it, at ~600 MB less peak RSS, as memtable flushes kept
# up. `make build CGO_ENABLED=0` builds without a C compiler (the pure-Go
# zstd, klauspost/compress); stores are compatible both ways.
CGO_ENABLED ?= 1

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
