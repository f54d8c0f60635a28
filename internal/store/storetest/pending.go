package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// testPending covers documents written ahead of their summary: PutDocs,
// Pending, Head and ForeignEpoch, and Apply clearing the pending mark.
func testPending(t *testing.T, h *Harness) {
	ctx := context.Background()

	pending := func(t *testing.T, s store.Store) []string {
		t.Helper()
		var ids []string
		if err := s.Pending(ctx, func(id string) bool { ids = append(ids, id); return true }); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	putDocs := func(t *testing.T, s store.Store, id string, epoch int64, docs ...store.Doc) {
		t.Helper()
		if err := s.PutDocs(ctx, []store.DocPut{{TraceID: id, Epoch: epoch, Docs: docs}}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("DocsAheadOfSummary", func(t *testing.T) {
		s := h.New(t)
		id := TraceID(Base+40, 1)
		putDocs(t, s, id, Base+40, Doc("aaaaaaaaaaaaaaaa", "a1"), Doc("bbbbbbbbbbbbbbbb", "b1"))
		st, err := s.Trace(ctx, id)
		if err != nil || st.Summary != nil || len(st.Docs) != 2 || st.Epoch != Base+40 {
			t.Fatalf("pending trace = %+v, %v; want two documents and no summary", st, err)
		}
		if _, err := s.Head(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Head of a pending trace: %v, want ErrNotFound", err)
		}
		if got := pending(t, s); !equalIDs(got, []string{id}) {
			t.Errorf("Pending = %v, want [%s]", got, id)
		}
		if got := Collect(t, s, store.SummaryQuery{From: Base, To: Base + 100}); len(got) != 0 {
			t.Errorf("summaries of a pending trace = %v, want none", got)
		}

		sum := Summary(id, Base+40)
		if err := s.Apply(ctx, []store.TraceUpdate{{TraceID: id, Epoch: Base + 40, Summary: sum}}); err != nil {
			t.Fatal(err)
		}
		if got := pending(t, s); len(got) != 0 {
			t.Errorf("Pending after Apply = %v, want none", got)
		}
		head, err := s.Head(ctx, id)
		if err != nil || head.TraceID != id || head.Duration != 1.25 {
			t.Errorf("Head = %+v, %v", head, err)
		}
		st, err = s.Trace(ctx, id)
		if err != nil || st.Summary == nil || len(st.Docs) != 2 {
			t.Errorf("summarised trace = %+v, %v", st, err)
		}

		// A later document replaces one by id and marks the trace again.
		putDocs(t, s, id, Base+40, Doc("aaaaaaaaaaaaaaaa", "a2"))
		st, err = s.Trace(ctx, id)
		if err != nil || st.Summary == nil || len(st.Docs) != 2 || string(st.Docs[0].Raw) != "a2" {
			t.Errorf("after a replacing put, trace = %+v, %v", st, err)
		}
		if got := pending(t, s); !equalIDs(got, []string{id}) {
			t.Errorf("Pending after a second put = %v", got)
		}
	})

	t.Run("LatestEpoch", func(t *testing.T) {
		s := h.New(t)
		if ep, err := s.LatestEpoch(ctx); err != nil || ep != 0 {
			t.Errorf("LatestEpoch of an empty store = %d, %v; want 0", ep, err)
		}
		Put(t, s, Summary(TraceID(Base+70, 1), Base+70))
		Put(t, s, Summary(TraceID(Base+90, 2), Base+90))
		Put(t, s, Summary(TraceID(Base+80, 3), Base+80))
		putDocs(t, s, TraceID(Base+99, 4), Base+99, Doc("aaaaaaaaaaaaaaaa", "pending")) // no summary
		if ep, err := s.LatestEpoch(ctx); err != nil || ep != Base+90 {
			t.Errorf("LatestEpoch = %d, %v; want %d", ep, err, Base+90)
		}
	})

	t.Run("ForeignEpoch", func(t *testing.T) {
		s := h.New(t)
		own := TraceID(Base+50, 1)
		foreign := TraceID(0x0abcdef0, 2)
		putDocs(t, s, own, Base+50, Doc("aaaaaaaaaaaaaaaa", "own"))
		putDocs(t, s, foreign, Base+51, Doc("bbbbbbbbbbbbbbbb", "foreign"))
		if _, err := s.ForeignEpoch(ctx, own); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ForeignEpoch(own) = %v, want ErrNotFound", err)
		}
		if _, err := s.ForeignEpoch(ctx, TraceID(Base, 99)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ForeignEpoch(unknown) = %v, want ErrNotFound", err)
		}
		if ep, err := s.ForeignEpoch(ctx, foreign); err != nil || ep != Base+51 {
			t.Errorf("ForeignEpoch(foreign) = %d, %v, want %d", ep, err, Base+51)
		}
		st, err := s.Trace(ctx, foreign)
		if err != nil || len(st.Docs) != 1 || st.Epoch != Base+51 {
			t.Errorf("foreign pending trace = %+v, %v", st, err)
		}
	})

	t.Run("RetentionDropsPendingMarks", func(t *testing.T) {
		s := h.New(t)
		P := int64(store.PartitionSeconds)
		old := TraceID(Base-2*P, 1)
		keep := TraceID(Base+1, 2)
		putDocs(t, s, old, Base-2*P, Doc("aaaaaaaaaaaaaaaa", "old"))
		putDocs(t, s, keep, Base+1, Doc("aaaaaaaaaaaaaaaa", "keep"))
		// A summarised trace in the old partition lets DropBefore see it.
		Put(t, s, Summary(TraceID(Base-2*P, 3), Base-2*P), Doc("aaaaaaaaaaaaaaaa", "x"))
		if _, err := s.DropBefore(ctx, time.Unix(Base, 0)); err != nil {
			t.Fatal(err)
		}
		if got := pending(t, s); !equalIDs(got, []string{keep}) {
			t.Errorf("Pending after retention = %v, want [%s]", got, keep)
		}
		if _, err := s.Trace(ctx, old); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("dropped pending trace: %v, want ErrNotFound", err)
		}
	})

	t.Run("PendingSurvivesReopen", func(t *testing.T) {
		if h.Reopen == nil {
			t.Skip("the backend does not persist across Close (no WithReopen)")
		}
		s := h.Open(t)
		defer func() { s.Close() }()
		id := TraceID(Base+60, 1)
		putDocs(t, s, id, Base+60, Doc("aaaaaaaaaaaaaaaa", "a"))
		s = h.Reopen(t, s)
		if got := pending(t, s); !equalIDs(got, []string{id}) {
			t.Errorf("Pending after reopen = %v", got)
		}
		if st, err := s.Trace(ctx, id); err != nil || len(st.Docs) != 1 {
			t.Errorf("pending trace after reopen = %+v, %v", st, err)
		}
	})
}
