package pebble

import (
	"bytes"
	"context"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// A stored summary leaves out the trace id its key holds, and every read
// (by id, by scan, by index term) gives it back.
func TestSummaryValueLeavesOutTraceID(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ep := storetest.Base + 5
	id := storetest.TraceID(ep, 1)
	sum := storetest.Summary(id, ep)
	storetest.Put(t, s, sum)
	v, err := s.lookup(s.summaryKey(ep, id))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(v, []byte(id)) {
		t.Fatalf("the stored summary holds its trace id: %q", v)
	}
	if h, err := s.Head(context.Background(), id); err != nil || h.TraceID != id {
		t.Fatalf("head: %+v, %v", h, err)
	}
	q := store.SummaryQuery{From: storetest.Base, To: storetest.Base + 3600}
	if got := storetest.Collect(t, s, q); len(got) != 1 || got[0] != id {
		t.Fatalf("scan: %v", got)
	}
	q.AnyOf = []store.Term{{Field: store.FieldService, Value: sum.Nodes[0].Name}}
	if got := storetest.Collect(t, s, q); len(got) != 1 || got[0] != id {
		t.Fatalf("search by term: %v", got)
	}
}
