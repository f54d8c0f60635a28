//go:build !cgo

package pebble

import (
	"context"
	"runtime"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// Without cgo (the default build) Pebble's memtables and block cache are
// Go memory: a trim must leave nothing referencing the closed LSMs', so
// that the next collection frees them and debug.FreeOSMemory can return
// them. The live heap after the trim drops by most of what Pebble said it
// held.
func TestTrimFreesGoHeap(t *testing.T) {
	s := openQuiet(t, t.TempDir(), Options{MemTableBytes: 4 << 20, CacheBytes: 8 << 20})
	defer s.Close()
	ctx := context.Background()
	const traces = 400
	for i := range traces {
		if err := s.PutDocs(ctx, []store.DocPut{docPut(testTraceID(i), 10, 10<<10)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range traces {
		assertDocs(t, s, testTraceID(i), 10)
	}
	mem, cache := memoryHeld(s)
	before := liveHeap()
	trimWhenQuiet(t, s)
	after := liveHeap()
	if held := mem + cache; before-after < held/2 {
		t.Fatalf("live heap %d before the trim, %d after: freed %d of the %d Pebble held (memtables %d, cache %d)",
			before, after, before-after, held, mem, cache)
	}
	t.Logf("live heap %d before the trim, %d after; Pebble held %d in memtables, %d in its cache", before, after, mem, cache)
	assertDocs(t, s, testTraceID(0), 10)
}

// liveHeap is the heap's live bytes after a full collection.
func liveHeap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
