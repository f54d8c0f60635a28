# The two commands: `make run` builds everything (the console included) and
# runs Roentgen; `make test` installs what the tests need and runs them all.
.PHONY: run build ui test

run: build
	./bin/roentgen $(ARGS)

build: ui
	go build -o bin/roentgen ./cmd/roentgen

ui:
	bash scripts/build-ui.sh

test:
	bash scripts/test.sh
