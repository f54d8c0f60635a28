package pebble

import (
	"context"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
)

// Pebble reserves every memtable's memory, and one spent memtable kept for
// reuse, from the block cache. A busy store's memtables grow to their full
// size (then 64-128 MiB each), which took the whole 128 MiB cache: every read
// decompressed every block it touched, again and again (service-graph
// queries spent half their CPU in zstd). The cache is sized so the memtables
// leave it its CacheBytes.
func TestBlockCacheKeptBesideFullMemtables(t *testing.T) {
	s, err := Open(t.TempDir(), Options{CombineStats: graph.CombineStats})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	rec := func(i int) store.StatRecord {
		return store.StatRecord{StatKey: store.StatKey{Resolution: 60, Bucket: 1_800_000_000 + 60*int64(i%100), Group: "Default", Entity: fmt.Sprintf("n%d", i/100)},
			Value: (&graph.Stats{OK: 1, Response: graph.Histogram{{Ms: int64(i), Count: 1}}}).Encode()}
	}
	// A flush of a memtable more than half full doubles the next one, up
	// to its full size: as a server's memtables are once it has taken a few
	// hundred MiB. (The filler is one key overwritten, so little reaches
	// the disk.)
	filler := make([]byte, 256<<10)
	full := memTableBytes(mainLSM, DefaultMemTableBytes)
	for size := int64(256 << 10); size <= full; size *= 2 {
		for n := int64(0); n < size*6/10; n += int64(len(filler)) {
			if err := s.main.Set(metaKey("test.filler", ""), filler, pebble.NoSync); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.main.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if m := s.main.Metrics().MemTable; int64(m.Size+m.ZombieSize) < 2*full {
		t.Fatalf("memtables hold %d bytes, want the full %d and a spent one", m.Size+m.ZombieSize, full)
	}
	var recs []store.StatRecord
	for i := 0; i < 20_000; i++ {
		recs = append(recs, rec(i))
	}
	if err := s.AddStats(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	read := func() int {
		n := 0
		err := s.Stats(ctx, store.StatQuery{Resolution: 60, Group: "Default", From: 1_800_000_000, To: 1_800_000_000 + 6000}, func(store.StatRecord) bool { n++; return true })
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := read(); n != 20_000 {
		t.Fatalf("read %d records, want 20000", n)
	}
	before := s.main.Metrics().BlockCache
	read()
	after := s.main.Metrics().BlockCache
	if after.Hits == before.Hits || after.Misses != before.Misses {
		t.Fatalf("second read of the same blocks: %d cache hits, %d misses (cache holds %d blocks, %d bytes)",
			after.Hits-before.Hits, after.Misses-before.Misses, after.Count, after.Size)
	}
}
