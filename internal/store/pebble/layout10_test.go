package pebble

import (
	"log/slog"
	"maps"
	"reflect"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// A layout 9 store differs from a layout 10 one only in the summary forms
// it holds (which all still read): on a disk too full to upgrade it opens
// read-only and serves its statistics from where layout 9 keeps them, and
// with space it is marked 10 and serves the same.
func TestLayout9StoreUpgrades(t *testing.T) {
	dir := tmpfs(t, "64m")
	quiet := Options{ReserveBytes: 8 << 20, Logger: slog.New(slog.DiscardHandler), CombineStats: graph.CombineStats}
	s, err := Open(dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	addTestStats(t, s)
	wantStats := statCounts(t, s)
	id := storetest.TraceID(storetest.Base+5, 1)
	want := storetest.Summary(id, storetest.Base+5)
	storetest.Put(t, s, want)
	if err := s.main.Set([]byte{'v'}, []byte("9"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check := func(when, version string) {
		t.Helper()
		if v, _ := s.lookup([]byte{'v'}); string(v) != version {
			t.Fatalf("%s: layout %q, want %s", when, v, version)
		}
		if got := statCounts(t, s); !maps.Equal(got, wantStats) {
			t.Errorf("%s: statistics %v\nwant %v", when, got, wantStats)
		}
		var got []*trace.Summary
		q := store.SummaryQuery{From: storetest.Base, To: storetest.Base + 3600}
		if err := s.Summaries(t.Context(), q, func(x *trace.Summary) bool { got = append(got, x); return true }); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
			t.Errorf("%s: summaries %+v, want %+v", when, got, want)
		}
	}
	free := fillTo(t, dir, 2<<20)
	if s, err = Open(dir, quiet); err != nil {
		t.Fatalf("open a layout 9 store on a full disk: %v", err)
	}
	defer s.Close()
	check("read-only", "9")
	free()
	if !s.Writable() {
		t.Fatal("not writable after space was freed")
	}
	check("upgraded", layoutVersion)
}
