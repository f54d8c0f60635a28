package pebble

import (
	"bytes"
	"context"
	"fmt"
	"slices"
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

// statDeltas stages one merge per record in order of first arrival: the
// combined values of its deltas in arrival order, or each delta without a
// combiner; a released and reused one stages as a new one does.
func TestStatDeltasStage(t *testing.T) {
	k := func(e string, bucket int64) store.StatKey {
		return store.StatKey{Resolution: 60, Bucket: bucket, Group: "Default", Entity: e}
	}
	recs := []store.StatRecord{
		{StatKey: k("a", 60), Value: []byte("1")}, {StatKey: k("b", 60), Value: []byte("2")},
		{StatKey: k("a", 60), Value: []byte("3")}, {StatKey: k("a", 120), Value: []byte("4")},
		{StatKey: k("c", 60)}, // empty: skipped
		{StatKey: k("b", 60), Value: []byte("5")}, {StatKey: k("a", 60), Value: []byte("6")},
	}
	join := func(vs [][]byte) []byte { return bytes.Join(vs, []byte("+")) }
	type op struct{ key, value string }
	for round := range 3 {
		combine := join
		want := []op{{"a60", "1+3+6"}, {"b60", "2+5"}, {"a120", "4"}}
		if round == 1 {
			combine = nil
			want = []op{{"a60", "1"}, {"a60", "3"}, {"a60", "6"}, {"b60", "2"}, {"b60", "5"}, {"a120", "4"}}
		}
		d := getStatDeltas()
		if err := d.add(recs[:3]); err != nil {
			t.Fatal(err)
		}
		if err := d.add(recs[3:]); err != nil {
			t.Fatal(err)
		}
		var sb stagedBatch
		d.stage(&sb, combine)
		var got []op
		for _, o := range sb.ops {
			name := ""
			for _, w := range []store.StatKey{k("a", 60), k("b", 60), k("a", 120)} {
				if key, _ := statKey(w); bytes.Equal(key, o.key) {
					name = fmt.Sprint(w.Entity, w.Bucket)
				}
			}
			if o.kind != opMerge {
				t.Fatalf("round %d: staged kind %d", round, o.kind)
			}
			got = append(got, op{name, string(o.value)})
		}
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: staged %q, want %q", round, got, want)
		}
		d.release()
	}
	if err := getStatDeltas().add([]store.StatRecord{{StatKey: store.StatKey{Resolution: 7}, Value: []byte("x")}}); err == nil {
		t.Fatal("a delta of resolution 7 s was taken")
	}
}
