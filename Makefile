# The two commands: `make run` builds everything (the console included) and
# runs Roentgen; `make test` installs what the tests need and runs them all.
.PHONY: run build ui test

run: build
	./bin/roentgen $(ARGS)

# The version is git describe's; -buildvcs=true stamps the revision too,
# whatever GOFLAGS says (roentgen version falls back to it).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

build: ui
	go build -buildvcs=true -ldflags "-X main.version=$(VERSION)" -o bin/roentgen ./cmd/roentgen

ui:
	bash scripts/build-ui.sh

test:
	bash scripts/test.sh
