package pebble

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

func openQuiet(t *testing.T, dir string, o Options) *Store {
	t.Helper()
	o.Logger = slog.New(slog.DiscardHandler)
	s, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// setTrimHook sets trimHook for the test.
func setTrimHook(t *testing.T, f func(step string)) {
	t.Helper()
	trimHook = f
	t.Cleanup(func() { trimHook = nil })
}

// memoryHeld is what Pebble holds in memory across the LSMs: memtables'
// arenas (live, queued and the spent ones kept for reuse) and the shared
// block cache's contents.
func memoryHeld(s *Store) (memtables, cache int64) {
	defer s.read()()
	for _, db := range s.lsms() {
		m := db.Metrics()
		memtables += int64(m.MemTable.Size + m.MemTable.ZombieSize)
		cache = m.BlockCache.Size
	}
	return memtables, cache
}

// After a load Pebble holds full-size memtables (a live and a recycled one
// per LSM) and a full block cache; a trim gives them back, and the store
// serves and takes writes as before, across a restart too.
func TestTrimReleasesMemtablesAndCache(t *testing.T) {
	dir := t.TempDir()
	s := openQuiet(t, dir, Options{MemTableBytes: 4 << 20, CacheBytes: 8 << 20})
	closed := false
	t.Cleanup(func() {
		if !closed {
			s.Close()
		}
	})
	ctx := context.Background()
	// Memtables start at 256 KiB and double at each rotation: 40 MiB of
	// documents take the documents LSM's to its 4 MiB, twice over.
	const traces = 400
	for i := range traces {
		if err := s.PutDocs(ctx, []store.DocPut{docPut(testTraceID(i), 10, 10<<10)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range traces { // reads fill the block cache
		assertDocs(t, s, testTraceID(i), 10)
	}
	memBefore, cacheBefore := memoryHeld(s)
	if memBefore < 8<<20 || cacheBefore < 1<<20 {
		t.Fatalf("before the trim: memtables %d, cache %d: the load did not grow them", memBefore, cacheBefore)
	}
	trimWhenQuiet(t, s)
	memAfter, cacheAfter := memoryHeld(s)
	// A reopened LSM's memtables start at 256 KiB (a live one, and ones
	// kept from replaying its log): 2.25 MiB for the three measured.
	if memAfter > 3<<20 || cacheAfter > cacheBefore/4 {
		t.Fatalf("after the trim: memtables %d (were %d), cache %d (was %d)", memAfter, memBefore, cacheAfter, cacheBefore)
	}
	assertDocs(t, s, testTraceID(0), 10)
	if err := s.PutDocs(ctx, []store.DocPut{docPut(testTraceID(traces), 3, 100)}); err != nil {
		t.Fatal(err)
	}
	closed = true
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openQuiet(t, dir, Options{})
	defer s.Close()
	for i := range traces + 1 {
		n := 10
		if i == traces {
			n = 3
		}
		assertDocs(t, s, testTraceID(i), n)
	}
}

// trimWhenQuiet trims once the compactions the load started are done, as
// the app does at its next idle check.
func trimWhenQuiet(t *testing.T, s *Store) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute) // a guard, not a wait
	for {
		err := s.Trim()
		if err == nil {
			return
		}
		if !errors.Is(err, ErrTrimBusy) || time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Calls arriving while the LSMs are closed wait for the reopen, then run
// on the new LSMs; none completes in between (it would find them closed).
func TestTrimHoldsCallsArrivingMidTrim(t *testing.T) {
	s := openQuiet(t, t.TempDir(), Options{})
	defer s.Close()
	ctx := context.Background()
	if err := s.PutDocs(ctx, []store.DocPut{docPut(testTraceID(1), 4, 500)}); err != nil {
		t.Fatal(err)
	}
	type result struct {
		op  string
		err error
	}
	results := make(chan result, 2)
	var wg sync.WaitGroup
	setTrimHook(t, func(step string) {
		switch step {
		case "closed":
			wg.Add(2)
			go func() {
				defer wg.Done()
				results <- result{"write", s.PutDocs(ctx, []store.DocPut{docPut(testTraceID(2), 2, 500)})}
			}()
			go func() {
				defer wg.Done()
				got, err := s.Trace(ctx, testTraceID(1))
				if err == nil && len(got.Docs) != 4 {
					err = errWrongDocs
				}
				results <- result{"read", err}
			}()
		case "reopened":
			// Still under the write lock: neither call can have run.
			select {
			case r := <-results:
				t.Errorf("%s completed while the LSMs were closed (err %v)", r.op, r.err)
			default:
			}
		}
	})
	trimWhenQuiet(t, s)
	wg.Wait()
	close(results)
	for r := range results {
		if r.err != nil {
			t.Errorf("%s arriving mid-trim: %v", r.op, r.err)
		}
	}
	assertDocs(t, s, testTraceID(2), 2)
}

var errWrongDocs = errorString("wrong number of documents")

type errorString string

func (e errorString) Error() string { return string(e) }

// A call in flight when a trim starts, here a scan paused in its callback,
// keeps the LSMs open until it returns: the trim closes them after.
func TestTrimWaitsForCallsInFlight(t *testing.T) {
	s := openQuiet(t, t.TempDir(), Options{})
	defer s.Close()
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c"} {
		if err := s.PutMeta(ctx, "trim", k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	inside, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var scanned []string
	scanDone := make(chan error, 1)
	go func() {
		scanDone <- s.ListMeta(ctx, "trim", func(key string, _ []byte) bool {
			mu.Lock()
			scanned = append(scanned, key)
			first := len(scanned) == 1
			mu.Unlock()
			if first {
				close(inside)
				<-release
			}
			return true
		})
	}()
	<-inside
	var once sync.Once
	setTrimHook(t, func(step string) {
		switch step {
		case "flushed": // the scan goes on while the trim waits for it
			once.Do(func() { close(release) })
		case "closed":
			mu.Lock()
			defer mu.Unlock()
			if len(scanned) != 3 {
				t.Errorf("LSMs closed with a scan in flight: %d of 3 keys scanned", len(scanned))
			}
		}
	})
	trimWhenQuiet(t, s)
	if err := <-scanDone; err != nil {
		t.Fatal(err)
	}
	if v, err := s.GetMeta(ctx, "trim", "b"); err != nil || string(v) != "b" {
		t.Fatalf("after the trim: %q, %v", v, err)
	}
}

// A store that is closed, or was opened read-only, is left alone.
func TestTrimLeavesClosedStores(t *testing.T) {
	s := openQuiet(t, t.TempDir(), Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Trim(); err != nil {
		t.Fatalf("trim of a closed store: %v", err)
	}
}

// BenchmarkTrim is the idle trim of a store holding 20 MiB of documents:
// its time is how long a call arriving mid-trim can wait (the flush is
// empty after the first).
func BenchmarkTrim(b *testing.B) {
	s, err := Open(b.TempDir(), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for i := range 200 {
		if err := s.PutDocs(context.Background(), []store.DocPut{docPut(testTraceID(i), 10, 10<<10)}); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if err := s.Trim(); err != nil && !errors.Is(err, ErrTrimBusy) {
			b.Fatal(err)
		}
	}
}
