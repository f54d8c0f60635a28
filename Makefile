# The two commands: `make run` builds everything (the console included) and
# runs Roentgen; `make test` installs what the tests need and runs them all.
.PHONY: run build ui test

# No cgo: Pebble then compresses with the pure-Go zstd (klauspost/compress),
# so a cold build compiles no C. Stores are compatible both ways;
# `make build CGO_ENABLED=1` builds with the C zstd, which compresses ~3x and
# decompresses ~7x faster (BENCHMARKS.md).
CGO_ENABLED ?= 0

run: build
	./bin/roentgen $(ARGS)

build: ui
	CGO_ENABLED=$(CGO_ENABLED) go build -o bin/roentgen ./cmd/roentgen

ui:
	bash scripts/build-ui.sh

test:
	bash scripts/test.sh
