package pebble

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/roentgen-tracing/roentgen/internal/filter"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// A store of layout 5 (no numeric terms; statuses and annotation numbers
// under their old terms) upgraded, then written to (new traces, and old
// ones summarised again with other numbers): numeric filters over windows
// before, after and across the upgrade find what a scan finds, whole and
// in pages.
func TestLegacyPartitionsAnswerAsTheScan(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(29, 3))
	const n, span = 300, 2 * store.PartitionSeconds
	cur := map[string]*trace.Summary{}
	var oldIDs []string
	write := func(s *Store, ids []string, eps map[string]int64) {
		var ups []store.TraceUpdate
		for _, id := range ids {
			next := randomTimed(r, id, eps[id])
			prev := cur[id]
			if prev != nil {
				next.Revision = prev.Revision + 1
			}
			ups = append(ups, store.TraceUpdate{TraceID: id, Epoch: eps[id], Summary: next, Previous: prev})
			cur[id] = next
		}
		if err := s.Apply(ctx, ups); err != nil {
			t.Fatal(err)
		}
	}
	eps := map[string]int64{}
	for i := range n {
		ep := storetest.Base + int64(r.IntN(span))
		id := storetest.TraceID(ep, i)
		eps[id] = ep
		oldIDs = append(oldIDs, id)
	}
	restore := WithLayout5Terms()
	write(s, oldIDs, eps)
	write(s, oldIDs[:100], eps) // summarised again under layout 5
	restore()
	textSumKeys(t, s) // as layout 5 keyed them
	if err := s.main.Set([]byte{'v'}, []byte("5"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, dir, "5")
	if want := storetest.Base + span; s.numericFrom != want {
		t.Fatalf("numeric terms begin at %d, want %d", s.numericFrom, want)
	}
	var newIDs []string
	for i := range n {
		ep := storetest.Base + span + int64(r.IntN(span))
		id := storetest.TraceID(ep, n+i)
		eps[id] = ep
		newIDs = append(newIDs, id)
	}
	write(s, newIDs, eps)
	write(s, oldIDs[50:150], eps) // old traces summarised by this build

	// Equality filters on values some traces have, and random ranges.
	var filters []string
	for _, id := range append(slices.Clone(oldIDs[:40]), newIDs[:40]...) {
		sum := cur[id]
		if sum.HTTP.Status != 0 {
			filters = append(filters, fmt.Sprintf("http.status = %d", sum.HTTP.Status))
		}
		for _, a := range sum.Annotations {
			if f, ok := a.Value.(float64); ok {
				filters = append(filters, fmt.Sprintf("annotation.%s = %v", a.Key, f))
			}
		}
	}
	for range 150 {
		filters = append(filters, randomNumericFilter(r, 2))
	}
	windows := []store.SummaryQuery{
		{From: storetest.Base, To: storetest.Base + 2*span},
		{From: storetest.Base + 100, To: storetest.Base + span},
		{From: storetest.Base + span - 500, To: storetest.Base + span + 500},
		{From: storetest.Base + span, To: storetest.Base + 2*span},
	}
	narrowed := 0
	for _, src := range filters {
		e, err := filter.Parse(src, filter.Options{})
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		terms, ok := e.Terms()
		if !ok || terms.Empty() {
			continue
		}
		narrowed++
		for _, w := range windows {
			want := matching(t, s, w, e)
			q := w
			q.AnyOf, q.AnyIn = terms.Terms, terms.Ranges
			if got := matching(t, s, q, e); !slices.Equal(got, want) {
				t.Errorf("%s in [%d, %d): %d traces, a scan finds %d\nmissing: %v", src, w.From-storetest.Base, w.To-storetest.Base, len(got), len(want), missing(want, got))
			}
			if got := matchingInPages(t, s, q, e, 1+r.IntN(20)); !slices.Equal(got, want) {
				t.Errorf("%s in [%d, %d), in pages: %d traces, a scan finds %d", src, w.From-storetest.Base, w.To-storetest.Base, len(got), len(want))
			}
		}
	}
	if narrowed < 100 {
		t.Fatalf("only %d filters narrowed", narrowed)
	}
}

// A status or annotation number has its layout 5 term; a range has none.
func TestLegacyTerm(t *testing.T) {
	for _, c := range []struct {
		in   store.Term
		want store.Term
		ok   bool
	}{
		{store.Term{Field: store.FieldHTTPStatus, Value: store.CodeValue(503)}, store.Term{Field: store.FieldStatus, Value: "503"}, true},
		{store.Term{Field: store.FieldHTTPStatus, Value: store.CodeValue(600)}, store.Term{}, false}, // 600 to 999
		{store.Term{Field: store.FieldAnnNumber, Value: store.AnnotationNumberValue("k", -2.5)}, store.Term{Field: store.FieldAnnValue, Value: "k\x00n-2.5"}, true},
		{store.Term{Field: store.FieldAnnNumber, Value: store.AnnotationNumberValue("a\x00b", 3)}, store.Term{Field: store.FieldAnnValue, Value: "a\x00b\x00n3"}, true},
		{store.Term{Field: store.FieldResponseTime, Value: store.CodeValue(3)}, store.Term{}, false},
	} {
		got, ok := legacyTerm(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("%q: %q %v, want %q %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
