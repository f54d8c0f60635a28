package ingest

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// After a load the pending set is empty but its maps keep the room they
// grew to; trim gives it back (the live heap drops), and the set works on.
func TestPendingTrimFreesMaps(t *testing.T) {
	p := newPendingSet()
	const n = 100_000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("1-6935f000-%024x", i)
		p.add(&staged{id: ids[i], docs: trace.Trace{ID: ids[i]}})
	}
	es := p.take(nil)
	p.land(es)
	if !p.idle() {
		t.Fatal("the set is not empty after taking and landing everything")
	}
	es = nil
	before := liveHeap()
	p.trim()
	after := liveHeap()
	if before-after < 1<<20 {
		t.Fatalf("live heap %d before the trim, %d after: want at least 1 MiB of map room freed", before, after)
	}
	t.Logf("live heap %d before the trim, %d after", before, after)

	// Entries added after the trim are taken as before.
	p.add(&staged{id: ids[0], docs: trace.Trace{ID: ids[0]}})
	if got := p.takeReady(time.Now().Add(time.Hour), time.Now(), 1<<30); len(got) != 1 || got[0].id != ids[0] {
		t.Fatalf("after the trim: took %v", got)
	}
	runtime.KeepAlive(ids)
}

// trim leaves a set that holds entries as it is.
func TestPendingTrimKeepsEntries(t *testing.T) {
	p := newPendingSet()
	p.add(&staged{id: "a", docs: trace.Trace{ID: "a"}})
	p.claim([]string{"a"}, nil, true)
	p.trim()
	if p.get("a") == nil || p.writers("a") != 1 || len(p.queue) != 1 {
		t.Fatal("trim dropped a pending entry or a writer's claim")
	}
	p.releaseIDs([]string{"a"})
}

func liveHeap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
