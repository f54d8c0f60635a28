package pebble

import (
	"context"
	"fmt"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// The main LSM's tables hold tombstones, summaries, or what sorts after
// the summaries (statistics, metadata, aliases), never two of them: a
// table running from a flush's summaries into its statistics spans every
// older summary between them (spans.go). Every flush here holds all
// three, at a later epoch than the flush before's, and what was written
// reads back the same after the flushes and after a full compaction.
func TestMainTablesApartFromSummaries(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir(), Options{CombineStats: graph.CombineStats})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tables := func(lo, hi byte) bool { return lo < 's' && hi >= 's' || lo < 't' && hi >= 't' }
	var kept, dropped []string
	check := func(when string) {
		t.Helper()
		levels, err := s.main.SSTables()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for l, ts := range levels {
			for _, tb := range ts {
				n++
				if lo, hi := tb.Smallest.UserKey, tb.Largest.UserKey; tables(lo[0], hi[0]) {
					t.Errorf("%s: L%d table %s runs from %q to %q", when, l, tb.FileNum, lo[:1], hi[:1])
				}
			}
		}
		if n < 3 {
			t.Fatalf("%s: %d tables, want tombstones, summaries and statistics apart", when, n)
		}
		for _, id := range kept {
			if h, err := s.Head(ctx, id); err != nil || h.TraceID != id {
				t.Fatalf("%s: Head(%s) = %v, %v", when, id, h, err)
			}
		}
		for _, id := range dropped {
			if _, err := s.Head(ctx, id); err == nil {
				t.Fatalf("%s: dropped trace %s has a summary", when, id)
			}
		}
		var got int64
		err = s.Stats(ctx, store.StatQuery{Resolution: 60, Group: "Default", From: storetest.Base, To: storetest.Base + 3600},
			func(r store.StatRecord) bool {
				var st graph.Stats
				if err := st.Decode(r.Value); err != nil {
					t.Fatal(err)
				}
				got += st.OK
				return true
			})
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(len(kept) + len(dropped)); got != want {
			t.Errorf("%s: statistics count %d traces, want %d", when, got, want)
		}
	}
	for f := range 4 {
		epoch := storetest.Base + int64(f)*10
		var ups []store.TraceUpdate
		for i := range 20 {
			id := storetest.TraceID(epoch, f*100+i+1)
			rec := store.StatRecord{StatKey: store.StatKey{Resolution: 60, Bucket: epoch - epoch%60, Group: "Default", Entity: "svc"},
				Value: (&graph.Stats{OK: 1, Response: graph.Histogram{{Ms: int64(i), Count: 1}}}).Encode()}
			u := store.TraceUpdate{TraceID: id, Epoch: epoch, Summary: storetest.Summary(id, epoch), Stats: []store.StatRecord{rec},
				Docs: []store.Doc{storetest.Doc(fmt.Sprintf("%016x", i+1), `{"n":1}`)}}
			if u.Drop = i%5 == 0; u.Drop {
				dropped = append(dropped, id)
			} else {
				kept = append(kept, id)
			}
			ups = append(ups, u)
		}
		if err := s.Apply(ctx, ups); err != nil {
			t.Fatal(err)
		}
		if err := s.PutMeta(ctx, "test", fmt.Sprint(f), []byte("v")); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	check("flushed")
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	check("compacted")
}
