package pebble

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// addTestStats adds statistics records to s at every resolution, for two
// groups and two entities, in two partitions: OK counts that differ by
// record.
func addTestStats(t *testing.T, s *Store) {
	t.Helper()
	var recs []store.StatRecord
	n := int64(1)
	for _, res := range store.StatResolutions {
		for _, at := range []int64{storetest.Base + 600, storetest.Base + store.PartitionSeconds + 60} {
			for _, group := range []string{"Default", "g"} {
				for _, entity := range []string{"a", "b"} {
					st := graph.Stats{OK: n, Response: graph.Histogram{{Ms: 5, Count: n}}}
					recs = append(recs, store.StatRecord{StatKey: store.StatKey{Resolution: res, Bucket: at - at%res, Group: group, Entity: entity}, Value: st.Encode()})
					n++
				}
			}
		}
	}
	if err := s.AddStats(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
}

// statCounts reads the OK counts of every record addTestStats writes.
func statCounts(t *testing.T, s *Store) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, res := range store.StatResolutions {
		for _, group := range []string{"Default", "g"} {
			q := store.StatQuery{Resolution: res, Group: group, From: storetest.Base, To: storetest.Base + 2*store.PartitionSeconds}
			err := s.Stats(context.Background(), q, func(r store.StatRecord) bool {
				var st graph.Stats
				if err := st.Decode(r.Value); err != nil {
					t.Fatal(err)
				}
				out[fmt.Sprintf("%d/%d/%s/%s", res, r.Bucket, group, r.Entity)] += st.OK
				return true
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}

func doubled(m map[string]int64) map[string]int64 {
	out := maps.Clone(m)
	for k := range out {
		out[k] *= 2
	}
	return out
}

// Opening a layout 8 store moves its statistics from tables G, H and I,
// before the summaries, to table u after them, each record's deltas summed
// once. A crash part-way (here: after table G moved) leaves every record
// in one place or the other, and the next open moves the rest without
// counting any twice.
func TestStatsMoveAfterSummaries(t *testing.T) {
	for _, crashed := range []bool{false, true} {
		t.Run(fmt.Sprintf("crashed=%v", crashed), func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{CombineStats: graph.CombineStats}
			s, err := Open(dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			addTestStats(t, s)
			id := storetest.TraceID(storetest.Base+5, 1)
			storetest.Put(t, s, storetest.Summary(id, storetest.Base+5))
			want := statCounts(t, s)
			if len(want) != 24 {
				t.Fatalf("%d records before the downgrade, want 24: %v", len(want), want)
			}
			var edit []func(*pebble.DB) error
			if crashed {
				edit = append(edit, func(main *pebble.DB) error { return copyTable(main, main, 'G', rekeyStat) })
			}
			downgrade(t, s, "8", edit...)
			if s, err = Open(dir, opts); err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if v, _ := s.lookup([]byte{'v'}); string(v) != textDocsLayout {
				t.Fatalf("layout after opening layout 8: %q", v)
			}
			for _, table := range oldStatTables {
				if n := tableKeys(t, s.main, table); n != 0 {
					t.Errorf("table %c still holds %d keys", table, n)
				}
			}
			if n := tableKeys(t, s.main, statTable); n != len(want) {
				t.Errorf("table %c holds %d keys, want %d", statTable, n, len(want))
			}
			if got := statCounts(t, s); !maps.Equal(got, doubled(want)) {
				t.Errorf("after the upgrade: %v\nwant every count doubled (two deltas each): %v", got, want)
			}
			// New deltas add to the moved records.
			addTestStats(t, s)
			for k, n := range want {
				want[k] = 3 * n
			}
			if got := statCounts(t, s); !maps.Equal(got, want) {
				t.Errorf("after more deltas: %v\nwant %v", got, want)
			}
		})
	}
}

// A layout 8 store on a disk too full to upgrade opens read-only and
// serves its statistics and metadata from the old tables; once space is
// freed it is upgraded and serves the same.
func TestLayout8TablesOnFullDisk(t *testing.T) {
	dir := tmpfs(t, "64m")
	quiet := Options{ReserveBytes: 8 << 20, Logger: slog.New(slog.DiscardHandler), CombineStats: graph.CombineStats}
	s, err := Open(dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	addTestStats(t, s)
	want := doubled(statCounts(t, s))
	ctx := context.Background()
	for _, k := range []string{"a", "b"} {
		if err := s.PutMeta(ctx, "rules", k, []byte("v"+k)); err != nil {
			t.Fatal(err)
		}
	}
	meta := func(when string) {
		t.Helper()
		got := map[string]string{}
		if err := s.ListMeta(ctx, "rules", func(k string, v []byte) bool { got[k] = string(v); return true }); err != nil {
			t.Fatal(err)
		}
		if v, err := s.GetMeta(ctx, "rules", "b"); err != nil || string(v) != "vb" || !maps.Equal(got, map[string]string{"a": "va", "b": "vb"}) {
			t.Errorf("%s: metadata listed %v, b is %q (%v)", when, got, v, err)
		}
	}
	downgrade(t, s, "8")
	free := fillTo(t, dir, 2<<20)
	s, err = Open(dir, quiet)
	if err != nil {
		t.Fatalf("open a layout 8 store on a full disk: %v", err)
	}
	defer s.Close()
	if v, _ := s.lookup([]byte{'v'}); string(v) != "8" {
		t.Fatalf("layout on a full disk: %q, want 8 as it was", v)
	}
	if got := statCounts(t, s); !maps.Equal(got, want) {
		t.Errorf("read-only layout 8 store: %v\nwant %v", got, want)
	}
	meta("read-only layout 8 store")
	free()
	if !s.Writable() {
		t.Fatal("not writable after space was freed")
	}
	if v, _ := s.lookup([]byte{'v'}); string(v) != textDocsLayout {
		t.Fatalf("layout after space was freed: %q, want %s", v, textDocsLayout)
	}
	if got := statCounts(t, s); !maps.Equal(got, want) {
		t.Errorf("upgraded: %v\nwant %v", got, want)
	}
	meta("upgraded")
}
