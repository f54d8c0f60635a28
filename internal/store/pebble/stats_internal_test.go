package pebble

import (
	"context"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
)

// Stores written before statistics were additive hold whole records,
// written with Set (and deleted when they emptied). Deltas merged onto them
// add to them, and onto a deleted one start from zero.
func TestStatsMergeOntoRecordsOfOlderStores(t *testing.T) {
	s, err := Open(t.TempDir(), Options{CombineStats: graph.CombineStats})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	set := store.StatKey{Resolution: 60, Bucket: 1_800_000_000, Group: "Default", Entity: "n1"}
	gone := set
	gone.Entity = "n2"
	for _, k := range []store.StatKey{set, gone} {
		key, err := statKey(k)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.main.Set(key, (&graph.Stats{OK: 40, Response: graph.Histogram{{Ms: 5, Count: 40}}}).Encode(), pebble.Sync); err != nil {
			t.Fatal(err)
		}
		if k == gone {
			if err := s.main.Delete(key, pebble.Sync); err != nil {
				t.Fatal(err)
			}
		}
	}
	delta := (&graph.Stats{OK: 2, Response: graph.Histogram{{Ms: 5, Count: 2}}}).Encode()
	for i := 0; i < 2; i++ { // before and after the memtable is flushed
		if err := s.AddStats(ctx, []store.StatRecord{{StatKey: set, Value: delta}, {StatKey: gone, Value: delta}}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := s.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	got := map[string]int64{}
	err = s.Stats(ctx, store.StatQuery{Resolution: 60, Group: "Default", From: set.Bucket, To: set.Bucket + 60}, func(r store.StatRecord) bool {
		var st graph.Stats
		if err := st.Decode(r.Value); err != nil {
			t.Fatal(err)
		}
		got[r.Entity] += st.OK
		if st.OK != st.Response.Total() {
			t.Errorf("%s: %d requests but %d in the histogram", r.Entity, st.OK, st.Response.Total())
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if got["n1"] != 44 || got["n2"] != 4 {
		t.Errorf("got %v, want n1 44 (40 set + 2×2 added), n2 4 (deleted, then 2×2)", got)
	}
}
