package app_test

import (
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// stallDumpEnv names a file prefix: when a PutTraceSegments call of the
// two-server benchmark has waited stallAfter, the senders (a child) signal
// this process, which writes every goroutine's stack to <prefix>.<n>, so
// that a call that hangs says where it waits (docs/clickhouse.md, "Writes
// that stalled").
const (
	stallDumpEnv = "ROENTGEN_BENCH_STALL_DUMP"
	stallAfter   = 10 * time.Second
	stallDumps   = 3 // at most, a run
)

// dumpStallsOnSignal makes this process write its goroutines' stacks on
// SIGUSR1 while the benchmark runs, when stallDumpEnv is set.
func dumpStallsOnSignal(b *testing.B) {
	prefix := os.Getenv(stallDumpEnv)
	if prefix == "" {
		return
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	done := make(chan struct{})
	b.Cleanup(func() { signal.Stop(sig); close(done) })
	go func() {
		for n := 0; ; n++ {
			select {
			case <-done:
				return
			case <-sig:
			}
			f, err := os.Create(fmt.Sprintf("%s.%d", prefix, n))
			if err != nil {
				continue
			}
			fmt.Fprintf(f, "stall dump at %s\n", time.Now().UTC().Format(time.RFC3339Nano))
			_ = pprof.Lookup("goroutine").WriteTo(f, 2)
			f.Close()
		}
	}()
}

// stallWatch is the child's side: it signals the parent when a call has
// waited stallAfter, at most stallDumps times.
type stallWatch struct{ left atomic.Int32 }

func newStallWatch() *stallWatch {
	w := &stallWatch{}
	if os.Getenv(stallDumpEnv) != "" {
		w.left.Store(stallDumps)
	}
	return w
}

// start watches one call; the returned func ends the watch.
func (w *stallWatch) start(what string) func() {
	if w.left.Load() <= 0 {
		return func() {}
	}
	began := time.Now()
	t := time.AfterFunc(stallAfter, func() {
		if w.left.Add(-1) >= 0 {
			fmt.Fprintf(os.Stderr, "senders: %s waiting %v (since %s); dumping the servers' goroutines\n",
				what, time.Since(began).Round(time.Millisecond), began.UTC().Format(time.RFC3339Nano))
			_ = syscall.Kill(os.Getppid(), syscall.SIGUSR1)
		}
	})
	return func() {
		t.Stop()
		if d := time.Since(began); d > stallAfter {
			fmt.Fprintf(os.Stderr, "senders: %s took %v\n", what, d.Round(time.Millisecond))
		}
	}
}
