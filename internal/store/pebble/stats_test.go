package pebble_test

import (
	"context"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// Statistics deltas are merged, not rewritten: without the graph's
// combiner Pebble keeps them concatenated (still summed by readers); with
// it, a record reads back as one delta however many were added, and stores
// written either way open with the other.
func TestStatsCombiner(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	k := store.StatKey{Resolution: 60, Bucket: storetest.Base, Group: "Default", Entity: "n1"}
	delta := (&graph.Stats{OK: 1, ResponseMicros: 5}).Encode()
	read := func(t *testing.T, s *pebble.Store) (graph.Stats, int) {
		t.Helper()
		var sum graph.Stats
		size := 0
		err := s.Stats(ctx, store.StatQuery{Resolution: 60, Group: "Default", From: k.Bucket, To: k.Bucket + 60}, func(r store.StatRecord) bool {
			var st graph.Stats
			if err := st.Decode(r.Value); err != nil {
				t.Fatal(err)
			}
			sum.Add(&st, 1)
			size += len(r.Value)
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		return sum, size
	}
	for i, o := range []pebble.Options{{}, {CombineStats: graph.CombineStats}} {
		s, err := pebble.Open(dir, o)
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j < 100; j++ {
			if err := s.AddStats(ctx, []store.StatRecord{{StatKey: k, Value: delta}}); err != nil {
				t.Fatal(err)
			}
		}
		sum, size := read(t, s)
		if want := int64(100 * (i + 1)); sum.OK != want || sum.ResponseMicros != 5*want {
			t.Errorf("run %d: sum %+v, want %d requests", i, sum, want)
		}
		if o.CombineStats != nil {
			if want := len((&graph.Stats{OK: sum.OK, ResponseMicros: sum.ResponseMicros}).Encode()); size != want {
				t.Errorf("with the combiner the record is %d bytes, want one delta's %d", size, want)
			}
		} else if size < 100*len(delta) {
			t.Errorf("without the combiner the record is %d bytes; want the %d deltas concatenated", size, 100)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
