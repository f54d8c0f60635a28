package storetest

import (
	"context"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

func testDurability(t *testing.T, h *Harness) {
	if h.Reopen == nil {
		t.Skip("the backend does not persist across Close (no WithReopen)")
	}
	ctx := context.Background()
	s := h.Open(t)
	defer func() { s.Close() }()

	id := TraceID(Base+5, 1)
	foreign := TraceID(0x0abcdef0, 2)
	Put(t, s, annotated(id, Base+5, "svc", map[string]any{"k": "v"}), Doc("aaaaaaaaaaaaaaaa", "doc-a"))
	Put(t, s, Summary(foreign, Base+6), Doc("bbbbbbbbbbbbbbbb", "doc-b"))
	if err := s.PutMeta(ctx, "groups", "g", []byte("filter")); err != nil {
		t.Fatal(err)
	}
	s = h.Reopen(t, s)

	for _, tc := range []struct{ id, doc string }{{id, "doc-a"}, {foreign, "doc-b"}} {
		st, err := s.Trace(ctx, tc.id)
		if err != nil || len(st.Docs) != 1 || string(st.Docs[0].Raw) != tc.doc {
			t.Errorf("after reopen, trace %s = %+v, %v", tc.id, st, err)
		}
	}
	q := store.SummaryQuery{From: Base, To: Base + 10, AnyOf: []store.Term{annTerm("k", "v")}}
	if got := Collect(t, s, q); !equalIDs(got, []string{id}) {
		t.Errorf("after reopen, term scan = %v", got)
	}
	if v, err := s.GetMeta(ctx, "groups", "g"); err != nil || string(v) != "filter" {
		t.Errorf("after reopen, metadata = %q, %v", v, err)
	}
	if s.DiskUsage() <= 0 {
		t.Errorf("DiskUsage = %d for a store with data on disk", s.DiskUsage())
	}
}
