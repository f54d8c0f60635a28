package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// testDrop covers TraceUpdate.Drop (keep policies) on stores that honour
// it: the trace's documents, summary and index terms go, its statistics
// are added, and a tombstone answers for it (Head's ErrDropped, Trace's
// Dropped for documents that arrive later) until retention drops its
// partition.
func testDrop(t *testing.T, h *Harness) {
	ctx := context.Background()
	s := h.Open(t)
	defer func() { s.Close() }()
	if !store.CanDrop(s) {
		t.Skip("the store does not drop traces")
	}
	const ep = Base + 50
	drop, kept := TraceID(ep, 1), TraceID(ep, 2)
	err := s.PutDocs(ctx, []store.DocPut{
		{TraceID: drop, Epoch: ep, Docs: []store.Doc{Doc("aaaaaaaaaaaaaaaa", "a"), Doc("bbbbbbbbbbbbbbbb", "b")}},
		{TraceID: kept, Epoch: ep, Docs: []store.Doc{Doc("aaaaaaaaaaaaaaaa", "a")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	stat := store.StatRecord{StatKey: store.StatKey{Resolution: 60, Bucket: ep - ep%60, Group: "Default", Entity: "n"}, Value: []byte{1}}
	err = s.Apply(ctx, []store.TraceUpdate{
		{TraceID: drop, Epoch: ep, Summary: Summary(drop, ep), Stats: []store.StatRecord{stat}, Drop: true},
		{TraceID: kept, Epoch: ep, Summary: Summary(kept, ep)},
	})
	if err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, s store.Store) {
		t.Helper()
		if tr, err := s.Trace(ctx, drop); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("dropped trace: Trace = %+v, %v; want ErrNotFound", tr, err)
		}
		if _, err := s.Head(ctx, drop); !errors.Is(err, store.ErrDropped) {
			t.Errorf("dropped trace: Head err %v; want ErrDropped", err)
		}
		if _, err := s.Head(ctx, kept); err != nil {
			t.Errorf("kept trace: Head err %v", err)
		}
		if got := Collect(t, s, store.SummaryQuery{From: Base, To: Base + 100}); !equalIDs(got, []string{kept}) {
			t.Errorf("Summaries = %v; want only %s", got, kept)
		}
		terms := []store.Term{{Field: store.FieldService, Value: "svc"}}
		if got := Collect(t, s, store.SummaryQuery{From: Base, To: Base + 100, AnyOf: terms}); !equalIDs(got, []string{kept}) {
			t.Errorf("Summaries by term = %v; want only %s", got, kept)
		}
		n := 0
		err := s.Stats(ctx, store.StatQuery{Resolution: 60, Group: "Default", From: Base, To: Base + 3600}, func(r store.StatRecord) bool {
			n += len(r.Value)
			return true
		})
		if err != nil || n != 1 {
			t.Errorf("statistics of the dropped trace: %d bytes, %v; want its delta", n, err)
		}
		if e, err := s.LatestEpoch(ctx); err != nil || e != ep {
			t.Errorf("LatestEpoch = %d, %v; want %d", e, err, ep)
		}
	}
	check(t, s)
	if h.Reopen != nil {
		s = h.Reopen(t, s)
		check(t, s)
	}

	// A late document: pending, named dropped, then dropped as well.
	if err := s.PutDocs(ctx, []store.DocPut{{TraceID: drop, Epoch: ep, Docs: []store.Doc{Doc("cccccccccccccccc", "c")}}}); err != nil {
		t.Fatal(err)
	}
	tr, err := s.Trace(ctx, drop)
	if err != nil || !tr.Dropped || tr.Summary != nil || len(tr.Docs) != 1 || tr.Docs[0].ID != "cccccccccccccccc" {
		t.Errorf("late document of a dropped trace: Trace = %+v, %v; want it alone, Dropped", tr, err)
	}
	if r, ok := s.(store.TraceReader); ok {
		m, err := r.Traces(ctx, []string{drop, kept})
		if err != nil || m[drop] == nil || !m[drop].Dropped || m[kept] == nil || m[kept].Dropped {
			t.Errorf("Traces = %+v, %v; want the late document Dropped, the kept trace not", m, err)
		}
	}
	if err := s.Apply(ctx, []store.TraceUpdate{{TraceID: drop, Epoch: ep, Summary: Summary(drop, ep), Drop: true}}); err != nil {
		t.Fatal(err)
	}
	if tr, err := s.Trace(ctx, drop); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("late document after its drop: Trace = %+v, %v; want ErrNotFound", tr, err)
	}

	// Retention takes the tombstone with its partition.
	if _, err := s.DropBefore(ctx, time.Unix(Base+store.PartitionSeconds, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Head(ctx, drop); !errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrDropped) {
		t.Errorf("after retention: Head err %v; want ErrNotFound, no tombstone", err)
	}
}
