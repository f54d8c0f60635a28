package pebble_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// layout7Trace is the i-th trace of testdata/layout7: ten seconds of six
// traces each, services a and b in turn; in each second traces 0 (of a)
// and 3 (of b) share their first 3 random bytes, and trace 5 has them
// zero (an id numbered, not random).
func layout7Trace(i int) *trace.Summary {
	ep := storetest.Base + int64(i/6)
	prefix := uint32(0x9e3779b9 * uint32(i+1))
	switch i % 6 {
	case 3:
		prefix = uint32(0x9e3779b9 * uint32(i-2)) // trace i-3's
	case 5:
		prefix = 0
	}
	sum := storetest.Summary(fmt.Sprintf("1-%08x-%08x%016x", ep, prefix, i), ep)
	sum.Nodes[0].Name = []string{"a", "b"}[i%2]
	return sum
}

const layout7Traces = 60

// testdata/layout7 is a store written by a layout 7 build (commit
// fa0cadd), whose posting lists name every X-Ray id whole, fully
// compacted. This build marks it 8 on opening and must find every trace by
// its terms, and then traces added to the same seconds' lists, in the
// short form, as well. ROENTGEN_WRITE_LAYOUT7_FIXTURE=1 rewrites it, which
// only a layout 7 build may do.
func TestLayout7StoreSearches(t *testing.T) {
	ctx := context.Background()
	fixture := filepath.Join("testdata", "layout7")
	if os.Getenv("ROENTGEN_WRITE_LAYOUT7_FIXTURE") != "" {
		os.RemoveAll(fixture)
		s := open(t, fixture)
		for i := range layout7Traces {
			storetest.Put(t, s, layout7Trace(i))
		}
		if err := s.Compact(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(fixture)); err != nil {
		t.Fatal(err)
	}
	s := open(t, dir)
	defer s.Close()
	// What a search must find: every summary of the service, as a scan of
	// the window (no index) lists them.
	window := store.SummaryQuery{From: storetest.Base, To: storetest.Base + 3600}
	want := func(service string) []string {
		var ids []string
		if err := s.Summaries(ctx, window, func(sum *trace.Summary) bool {
			if sum.Nodes[0].Name == service {
				ids = append(ids, sum.TraceID)
			}
			return true
		}); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	check := func(when string, n int) {
		t.Helper()
		for _, service := range []string{"a", "b"} {
			q := window
			q.AnyOf = []store.Term{{Field: store.FieldService, Value: service}}
			got, w := storetest.Collect(t, s, q), want(service)
			if len(w) != n || !slices.Equal(got, w) {
				t.Errorf("service %s %s: %v, want %v (%d)", service, when, got, w, n)
			}
		}
	}
	check("in the layout 7 store", layout7Traces/2)
	// Traces added after the upgrade go into the same seconds' lists,
	// short; one of them shares a stored trace's first 3 random bytes.
	for i := range 6 {
		sum := layout7Trace(i)
		sum.TraceID = fmt.Sprintf("1-%08x-%08x%016x", sum.Epoch, 0x5bd1e995*uint32(i+1), 1000+i)
		if i == 1 { // of b, sharing a's trace 0's prefix
			sum.TraceID = layout7Trace(0).TraceID[:19] + fmt.Sprintf("%016x", 1000+i)
		}
		storetest.Put(t, s, sum)
	}
	check("after traces were added", layout7Traces/2+3)
}
