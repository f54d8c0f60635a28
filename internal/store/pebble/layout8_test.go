package pebble

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// testdata/layout8 is a store written by a layout 8 build (commit
// 04b8596, a test since removed): one summary; statistics of
// storetest.Base+600 at every resolution for entities a and b of group
// Default, in two flushes of deltas res and 2×res (so two operands per
// record, in two tables); metadata rules a -> va, b -> vb. This build
// moves the statistics and metadata after the summaries on opening and
// must read them back summed.
func TestLayout8StoreUpgrades(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "layout8"))); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, Options{CombineStats: graph.CombineStats})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.lookup([]byte{'v'}); string(v) != textDocsLayout {
		t.Fatalf("layout after opening: %q, want %s", v, textDocsLayout)
	}
	for _, table := range append([]byte{oldMetaTable}, oldStatTables...) {
		if n := tableKeys(t, s.main, table); n != 0 {
			t.Errorf("old table %c still holds %d keys", table, n)
		}
	}
	for _, res := range store.StatResolutions {
		got := map[string]int64{}
		q := store.StatQuery{Resolution: res, Group: "Default", From: storetest.Base, To: storetest.Base + 3600}
		if err := s.Stats(ctx, q, func(r store.StatRecord) bool {
			var st graph.Stats
			if err := st.Decode(r.Value); err != nil {
				t.Fatal(err)
			}
			got[r.Entity] += st.OK
			return true
		}); err != nil {
			t.Fatal(err)
		}
		if want := map[string]int64{"a": 3 * res, "b": 3 * res}; !maps.Equal(got, want) {
			t.Errorf("resolution %d: %v, want %v", res, got, want)
		}
	}
	meta := map[string]string{}
	if err := s.ListMeta(ctx, "rules", func(k string, v []byte) bool { meta[k] = string(v); return true }); err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"a": "va", "b": "vb"}; !maps.Equal(meta, want) {
		t.Errorf("metadata: %v, want %v", meta, want)
	}
	id := storetest.TraceID(storetest.Base+5, 1)
	if tr, err := s.Trace(ctx, id); err != nil || tr.Summary == nil || tr.Summary.TraceID != id {
		t.Errorf("the layout 8 store's trace: %+v, %v", tr, err)
	}
}
