#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: installs what it needs
# (Debian packages, npm packages: the console's and the Node.js X-Ray SDK
# the end-to-end tests drive), builds the console, then runs Go tests,
# brief fuzzing, console unit tests and browser end-to-end tests.
#
# What waits on the network or on a server's start (apt, npm ci, ClickHouse)
# runs in the background beside go vet; the CPU-bound stages run one after
# another (CI has 2 cores). Each stage's wall time is printed as it ends and
# all of them at the end, so a CI log shows where the time goes.
set -euo pipefail
cd "$(dirname "$0")/.."
# -ldflags=-w: no DWARF in the binaries `go test -c` and `go build` link
# here (the 21 instrumented fuzz binaries, the servers and SDK drivers tests
# build); go test links its own test binaries without it already. Nothing
# reads it (tracebacks use the pclntab, which stays), and leaving it out
# takes ~30% off each link's CPU (docs/performance.md, "`make test`'s own
# time").
# -trimpath: no checkout path in what is compiled, so a clone at a new path
# (as CI makes) finds its packages, vet results and instrumented fuzz
# binaries in the build cache an earlier clone filled, instead of compiling
# them all again (the path is part of each cache key otherwise).
export GOFLAGS="${GOFLAGS:-} -buildvcs=false -trimpath -ldflags=-w"

# stage NAME ends the stage before it (printing its wall time) and starts NAME.
stage_name=""
stage_start=$SECONDS
stage_times=()
stage() {
  stage_done
  stage_name="$1"
  stage_start=$SECONDS
  echo "== $1"
}
stage_done() {
  if [ -n "$stage_name" ]; then
    local took=$((SECONDS - stage_start))
    stage_times+=("$(printf '%5d s  %s' "$took" "$stage_name")")
    echo "   ($took s: $stage_name)"
    stage_name=""
  fi
}

# bg NAME CMD... runs CMD in the background with its output in a log of its
# own; join NAME waits for it, shows that log in one piece and fails the
# script if CMD failed.
bgdir="$(mktemp -d)"
bg() {
  local name="$1"
  shift
  ("$@") >"$bgdir/$name.log" 2>&1 &
  echo $! >"$bgdir/$name.pid"
}
join() {
  local name="$1" status=0 since=$SECONDS
  wait "$(cat "$bgdir/$name.pid")" || status=$?
  echo "-- background: $name (waited $((SECONDS - since)) s for it)"
  cat "$bgdir/$name.log"
  if [ "$status" -ne 0 ]; then
    echo "== background job failed (exit $status): $name"
    exit "$status"
  fi
}

shards_env=(env CLICKHOUSE_SHARDS=2 CLICKHOUSE_HTTP_PORT=18124 CLICKHOUSE_TCP_PORT=19001)
finish() {
  local status=$?
  # The later stages' builds are not needed any more if the script ends
  # before they do: stop them (the loop and its go command).
  local builds
  builds="$(cat "$bgdir/laterbuilds.pid" 2>/dev/null || true)"
  if [ -n "$builds" ] && kill -0 "$builds" 2>/dev/null; then
    local kids
    kids="$(pgrep -P "$builds" || true)"
    kill "$builds" $kids 2>/dev/null || true
  fi
  # Other background jobs end on their own (an install, a server's start);
  # wait, so that the servers they start are there to be stopped.
  wait || true
  bash scripts/clickhouse.sh stop || true
  "${shards_env[@]}" bash scripts/clickhouse.sh stop || true
  rm -rf "$bgdir"
  stage_done
  echo "== wall time per stage"
  printf '%s\n' "${stage_times[@]}"
  printf '%5d s  total%s\n' "$SECONDS" "$([ "$status" -eq 0 ] || echo ", FAILED (exit $status)")"
  exit "$status"
}
trap finish EXIT

# apt, then ClickHouse: one job, as both may install Debian packages.
setup_servers() {
  if [ -d ui/e2e ] && [ ! -x /usr/bin/chromium ]; then
    echo "installing chromium"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
  # A private server for internal/store/clickhouse, and a two-shard cluster.
  bash scripts/clickhouse.sh start >"$bgdir/clickhouse.url"
  "${shards_env[@]}" bash scripts/clickhouse.sh start >"$bgdir/clickhouse-shards.url"
  echo "ClickHouse: $(cat "$bgdir/clickhouse.url"), two shards: $(cat "$bgdir/clickhouse-shards.url")"
}

echo "== in the background: Chromium and ClickHouse (apt, scripts/clickhouse.sh), npm ci of the console and of the Node.js X-Ray SDK (for internal/e2e)"
bg servers setup_servers
bg npm-console bash scripts/build-ui.sh deps
bg npm-nodesdk bash -c 'cd internal/e2e/testdata/nodesdk && npm ci --no-audit --no-fund --loglevel=error'

stage "gofmt, go vet"
unformatted=$(gofmt -l $(git ls-files '*.go') 2>/dev/null || true)
if [ -n "$unformatted" ]; then echo "gofmt would change:"; echo "$unformatted"; exit 1; fi
go vet ./...

stage "console build"
join npm-console
bash scripts/build-ui.sh

stage "go test: the default build (pure Go), and the cgo build's packages beside it"
# The later stages' binaries — the fuzz stage's instrumented test binaries
# (go test -c -fuzz, one per fuzzed package: go refuses -fuzz with more than
# one package) and bin/roentgen for the browser tests — are built from here
# on, one after another, at SCHED_IDLE: they take only CPU the go tests
# leave idle (they wait on ClickHouse, SDK timers and servers), so the fuzz
# stage finds them ready instead of building each next package beside the
# fuzz workers (docs/performance.md, "`make test`'s own time"). The fuzz
# stage raises what is left of them to the normal policy, to be built
# beside its targets as before rather than waited for one by one (an idle
# build gets nothing while fuzz workers or other work keep the cores busy).
# Not earlier: they embed the console just built.
mapfile -t fuzzdirs < <(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -r -n1 dirname | sort -u)
# sched POLICY PID sets chrt's POLICY (--idle, --other) on PID and every
# process under it (children inherit it when they start).
sched() {
  local kid
  chrt "$1" -a --pid 0 "$2" 2>/dev/null || true
  for kid in $(pgrep -P "$2"); do sched "$1" "$kid"; done
}
laterbuilds() {
  local i
  if command -v chrt >/dev/null; then sched --idle "$BASHPID"; fi
  for i in "${!fuzzdirs[@]}"; do
    CGO_ENABLED=0 go test -c -fuzz=. -o "$bgdir/fuzz-$i.test" "./${fuzzdirs[$i]#./}" >"$bgdir/fuzz-$i.log" 2>&1 ||
      { cat "$bgdir/fuzz-$i.log"; return 1; }
    touch "$bgdir/fuzz-$i.ok"
  done
  CGO_ENABLED=0 go build -o bin/roentgen ./cmd/roentgen >"$bgdir/roentgen.log" 2>&1 ||
    { cat "$bgdir/roentgen.log"; return 1; }
  touch "$bgdir/roentgen.ok"
}
bg laterbuilds laterbuilds
# built NAME waits until laterbuilds has built NAME (fuzz-I, roentgen),
# and shows its build's output; a failed build ends the script with it.
built() {
  local since=$SECONDS
  if [ ! -e "$bgdir/$1.ok" ]; then
    while [ ! -e "$bgdir/$1.ok" ]; do
      if ! kill -0 "$(cat "$bgdir/laterbuilds.pid")" 2>/dev/null; then
        join laterbuilds # shows the failed build's output and exits
        echo "== the builds ended before $1"
        exit 1
      fi
      sleep 0.2
    done
    echo "   (waited $((SECONDS - since)) s for the build of $1)"
  fi
  cat "$bgdir/$1.log"
}
join npm-nodesdk
join servers
ROENTGEN_CLICKHOUSE_URL="$(cat "$bgdir/clickhouse.url")"
ROENTGEN_CLICKHOUSE_SHARDS_URL="$(cat "$bgdir/clickhouse-shards.url")"
export ROENTGEN_CLICKHOUSE_URL ROENTGEN_CLICKHOUSE_SHARDS_URL
# Most of this stage waits (ClickHouse's answers, the Go SDK's 10 s
# sampling reports, servers the end-to-end tests start), so its go tests
# run side by side, the longest first (docs/performance.md, "`make test`'s
# own time"): one go test per package waits only for its own. go test
# starts test runs in the order its packages are named.
# - internal/store/clickhouse, the longest, in a go test of its own: its
#   tests wait on the servers' latency, many at once (-parallel).
# - the cgo build (C zstd, Pebble's memory outside the Go heap, malloc_trim
#   at idle), which differs only below these packages.
# - the rest, the long ones first, three at a time (one of them, sampling,
#   mostly asleep).
clickhouse_pkgs=(./internal/store/clickhouse/...)
bg gotest-clickhouse env CGO_ENABLED=0 go test -count=1 -timeout 25m -parallel 8 "${clickhouse_pkgs[@]}"
# Under cgo only Pebble's compression (C zstd) and its memtables' and block
# cache's memory (C malloc, handed back by malloc_trim) differ, so Pebble's
# tests run here only where those are exercised: the conformance suite
# (every read and write, across reopens), trims (closing and reopening
# LSMs frees their C memory), the cache beside full memtables, compactions
# into blob files and the store the cgo build wrote. The whole package runs
# in the pure-Go go test; the rest of it, under cgo, took ~15 s of CPU to
# test query logic the C parts do not reach (docs/performance.md).
# Each name must still name a test: a rename fails here, not silently.
cgo_pebble_tests=(TestConformance TestTrim TestBlockCache TestCompactions TestDroppedPartitions TestReadsStoreCompressed)
cgo_tests() {
  local run listed t
  run="^($(IFS='|'; echo "${cgo_pebble_tests[*]}"))"
  CGO_ENABLED=1 go test -count=1 -timeout 10m ./internal/cmem ./internal/budget
  listed="$(CGO_ENABLED=1 go test -list "$run" ./internal/store/pebble)"
  for t in "${cgo_pebble_tests[@]}"; do
    grep -q "^$t" <<<"$listed" || { echo "cgo tests: no Pebble test named $t*"; return 1; }
  done
  CGO_ENABLED=1 go test -count=1 -timeout 10m -run "$run" ./internal/store/pebble
}
cgo=""
if command -v "$(go env CC)" >/dev/null 2>&1; then
  cgo=1
  bg gotest-cgo cgo_tests
fi
first=(./internal/sampling ./internal/e2e ./internal/store/pebble ./internal/ingest ./internal/app)
mod="$(go list -m)"
rest=()
for p in $(go list ./...); do
  p="./${p#"$mod"/}"
  case " ${first[*]} " in *" $p "*) continue ;; esac
  case "$p" in ./internal/store/clickhouse | ./internal/store/clickhouse/*) continue ;; esac
  rest+=("$p")
done
CGO_ENABLED=0 go test -count=1 -timeout 25m -p 3 "${first[@]}" "${rest[@]}"
join gotest-clickhouse
if [ -n "$cgo" ]; then join gotest-cgo; fi

# Each package's instrumented test binary is built once (go test -c -fuzz)
# and run once per target, as go test -fuzz runs it (in the package's
# directory, with the fuzz cache under GOCACHE): a go test -fuzz per target
# would link the same binary again for every target of its package. The
# default build (pure Go) is fuzzed: no C zstd to instrument, no external link.
# The binaries are built in the background (laterbuilds).
fuzztime="${FUZZTIME:-8s}"
# Each new input a worker finds is minimised before fuzzing goes on, for up
# to -test.fuzzminimizetime (60 s by default, made for long runs), and those
# executions are not fuzzing: in 8 s most targets stopped after their first
# new inputs ("0/sec" in their last lines). A thousand executions minimise
# an input well enough and leave the target's time to fuzzing
# (docs/performance.md, "`make test`'s own time").
fuzzminimize="${FUZZMINIMIZE:-1000x}"
stage "fuzzing (brief): $fuzztime per target"
if command -v chrt >/dev/null && kill -0 "$(cat "$bgdir/laterbuilds.pid")" 2>/dev/null; then
  sched --other "$(cat "$bgdir/laterbuilds.pid")"
fi
fuzzcache="$(go env GOCACHE)/fuzz"
for i in "${!fuzzdirs[@]}"; do
  dir="${fuzzdirs[$i]}"
  pkg="./${dir#./}"
  bin="$bgdir/fuzz-$i.test"
  built "fuzz-$i"
  importpath="$(go list "$pkg")"
  for fn in $(cat "$dir"/*_test.go | grep -o '^func Fuzz[A-Za-z0-9_]*' | sed 's/^func //'); do
    echo "-- $pkg $fn"
    log="$bgdir/fuzz.log"
    status=0
    since=$SECONDS
    (cd "$dir" && "$bin" -test.run='^$' -test.fuzz="^${fn}\$" -test.fuzztime="$fuzztime" \
      -test.fuzzminimizetime="$fuzzminimize" \
      -test.fuzzcachedir="$fuzzcache/$importpath" -test.paniconexit0) >"$log" 2>&1 || status=$?
    cat "$log"
    echo "   ($((SECONDS - since)) s)"
    # Go 1.26's fuzz coordinator can report its own -fuzztime deadline as a
    # failure, with no failing input (golang/go#75804, fixed in Go 1.27).
    # Any real failure writes its input under testdata/fuzz and says so.
    if [ "$status" -ne 0 ]; then
      if grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
        echo "   (the fuzz coordinator's deadline race, golang/go#75804: not a failure of $fn)"
      else
        exit "$status"
      fi
    fi
  done
  rm -f "$bin"
done

if [ -f ui/package.json ] && grep -q '"test"' ui/package.json; then
  stage "console unit tests"
  (cd ui && npm test)
fi
if [ -f ui/package.json ] && grep -q '"e2e"' ui/package.json; then
  stage "console end-to-end tests (headless Chromium)"
  built roentgen
  (cd ui && npm run e2e)
fi
stage_done
echo "== all tests passed"
