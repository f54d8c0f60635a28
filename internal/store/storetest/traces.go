package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

func testTraces(t *testing.T, h *Harness) {
	ctx := context.Background()

	t.Run("UnknownTraceIsNotFound", func(t *testing.T) {
		s := h.New(t)
		for _, id := range []string{TraceID(Base, 1), "not-a-trace-id", ""} {
			if _, err := s.Trace(ctx, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Trace(%q) error = %v, want ErrNotFound", id, err)
			}
		}
	})

	t.Run("RoundTrip", func(t *testing.T) {
		s := h.New(t)
		id := TraceID(Base+10, 1)
		sum := Summary(id, Base+10)
		sum.Revision = 3
		Put(t, s, sum, Doc("aaaaaaaaaaaaaaaa", `{"a":1}`), Doc("bbbbbbbbbbbbbbbb", `{"b":2}`))
		got, err := s.Trace(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != id || got.Epoch != Base+10 {
			t.Errorf("trace = %s epoch %d, want %s epoch %d", got.ID, got.Epoch, id, Base+10)
		}
		if len(got.Docs) != 2 || string(got.Docs[0].Raw) != `{"a":1}` || got.Docs[1].ID != "bbbbbbbbbbbbbbbb" {
			t.Errorf("docs = %+v", got.Docs)
		}
		if got.Summary == nil || got.Summary.TraceID != id || got.Summary.Revision != 3 || got.Summary.Duration != 1.25 ||
			len(got.Summary.Nodes) != 1 || got.Summary.Nodes[0].Name != "svc" {
			t.Errorf("summary = %+v", got.Summary)
		}
	})

	t.Run("ReplaceDocumentByID", func(t *testing.T) {
		s := h.New(t)
		id := TraceID(Base+20, 1)
		first := Summary(id, Base+20)
		Put(t, s, first, Doc("aaaaaaaaaaaaaaaa", `{"in_progress":true}`))
		second := Summary(id, Base+20)
		second.Revision = 1
		err := s.Apply(ctx, []store.TraceUpdate{{TraceID: id, Epoch: Base + 20, Summary: second, Previous: first,
			Docs: []store.Doc{Doc("aaaaaaaaaaaaaaaa", `{"end_time":2}`), Doc("cccccccccccccccc", `{"c":3}`)}}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Trace(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Docs) != 2 {
			t.Fatalf("docs = %d, want 2 (replaced, not added): %+v", len(got.Docs), got.Docs)
		}
		byID := map[string]string{}
		for _, d := range got.Docs {
			byID[d.ID] = string(d.Raw)
		}
		if byID["aaaaaaaaaaaaaaaa"] != `{"end_time":2}` || byID["cccccccccccccccc"] != `{"c":3}` {
			t.Errorf("docs = %v", byID)
		}
		if got.Summary.Revision != 1 {
			t.Errorf("summary revision = %d, want the new summary's 1", got.Summary.Revision)
		}
	})

	t.Run("ManyTracesInOneApply", func(t *testing.T) {
		s := h.New(t)
		var ups []store.TraceUpdate
		for i := range 20 {
			ep := Base + int64(i)*600 // spans several partitions
			id := TraceID(ep, i)
			ups = append(ups, store.TraceUpdate{TraceID: id, Epoch: ep, Summary: Summary(id, ep),
				Docs: []store.Doc{Doc("000000000000000"+string(rune('a'+i%6)), id)}})
		}
		if err := s.Apply(ctx, ups); err != nil {
			t.Fatal(err)
		}
		for _, u := range ups {
			got, err := s.Trace(ctx, u.TraceID)
			if err != nil {
				t.Fatalf("Trace(%s): %v", u.TraceID, err)
			}
			if len(got.Docs) != 1 || string(got.Docs[0].Raw) != u.TraceID {
				t.Errorf("trace %s docs = %+v (documents of another trace?)", u.TraceID, got.Docs)
			}
		}
	})

	t.Run("SimilarIDsDoNotMix", func(t *testing.T) {
		// A trace id that is a prefix of another must not see its documents.
		s := h.New(t)
		a := TraceID(Base+30, 1)
		b := a + "0"
		Put(t, s, Summary(a, Base+30), Doc("aaaaaaaaaaaaaaaa", "A"))
		Put(t, s, Summary(b, Base+30), Doc("bbbbbbbbbbbbbbbb", "B"))
		got, err := s.Trace(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Docs) != 1 || string(got.Docs[0].Raw) != "A" {
			t.Errorf("docs of %s = %+v", a, got.Docs)
		}
	})

	t.Run("ForeignEpoch", func(t *testing.T) {
		// W3C-derived ids: the id's epoch part is random, the trace is filed
		// under its first start.
		s := h.New(t)
		id := TraceID(0x12345678, 7)
		ep := Base + 100
		Put(t, s, Summary(id, ep), Doc("aaaaaaaaaaaaaaaa", "doc"))
		got, err := s.Trace(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Epoch != ep || len(got.Docs) != 1 {
			t.Errorf("trace epoch %d docs %d, want epoch %d with 1 doc", got.Epoch, len(got.Docs), ep)
		}
		if ids := Collect(t, s, store.SummaryQuery{From: Base, To: Base + 200}); !equalIDs(ids, []string{id}) {
			t.Errorf("summaries in the trace's window = %v", ids)
		}
		if ids := Collect(t, s, store.SummaryQuery{From: 0x12345678 - 10, To: 0x12345678 + 10}); len(ids) != 0 {
			t.Errorf("summaries at the id's own epoch = %v, want none", ids)
		}
	})

	t.Run("EpochMovesWithDocuments", func(t *testing.T) {
		// A later update may file a trace under another epoch; its earlier
		// documents and terms must follow.
		s := h.New(t)
		id := TraceID(0x0badcafe, 9)
		old := Summary(id, Base+50)
		Put(t, s, old, Doc("aaaaaaaaaaaaaaaa", "first"))
		moved := Summary(id, Base+7300)
		moved.Revision = 1
		if err := s.Apply(ctx, []store.TraceUpdate{{TraceID: id, Epoch: Base + 7300, Summary: moved, Previous: old,
			Docs: []store.Doc{Doc("bbbbbbbbbbbbbbbb", "second")}}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Trace(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Epoch != Base+7300 || len(got.Docs) != 2 {
			t.Errorf("after the move: epoch %d, docs %+v; want epoch %d and both docs", got.Epoch, got.Docs, Base+7300)
		}
		if ids := Collect(t, s, store.SummaryQuery{From: Base, To: Base + 100}); len(ids) != 0 {
			t.Errorf("old window still lists %v", ids)
		}
		if ids := Collect(t, s, store.SummaryQuery{From: Base, To: Base + 100, AnyOf: []store.Term{{Field: store.FieldService, Value: "svc"}}}); len(ids) != 0 {
			t.Errorf("old window's terms still list %v", ids)
		}
		if ids := Collect(t, s, store.SummaryQuery{From: Base + 7200, To: Base + 7400, AnyOf: []store.Term{{Field: store.FieldService, Value: "svc"}}}); !equalIDs(ids, []string{id}) {
			t.Errorf("new window's terms list %v", ids)
		}
	})

	t.Run("UpdateWithoutSummaryFails", func(t *testing.T) {
		s := h.New(t)
		id := TraceID(Base, 1)
		if err := s.Apply(ctx, []store.TraceUpdate{{TraceID: id, Epoch: Base}}); err == nil {
			t.Error("Apply without a summary succeeded")
		}
		if _, err := s.Trace(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a failed Apply left trace state behind: %v", err)
		}
	})
}
