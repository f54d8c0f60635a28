# The two commands: `make run` builds everything (the console included) and
# runs Roentgen; `make test` installs what the tests need and runs them all.
.PHONY: run build ui test

# No cgo: Pebble then compresses with the pure-Go zstd (klauspost/compress),
# so a cold build compiles no C. Stores are compatible both ways. The C zstd
# (`make build CGO_ENABLED=1`) compresses ~3x and decompresses ~7x faster:
# with it roentgen-bench stored ~2x the segments/s wall, at the same CPU
# per segment and ~600 MB less peak RSS, as memtable flushes kept up.
CGO_ENABLED ?= 0

run: build
	./bin/roentgen $(ARGS)

build: ui
	CGO_ENABLED=$(CGO_ENABLED) go build -o bin/roentgen ./cmd/roentgen

ui:
	bash scripts/build-ui.sh

test:
	bash scripts/test.sh
