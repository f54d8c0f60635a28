package pebble_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// An update with Drop (keep policies) deletes the trace's documents, the
// summary and alias an earlier update stored, writes no summary or index
// terms, and clears the pending mark; other traces of the batch are kept.
func TestApplyDrop(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	defer s.Close()
	const ep = 1767225600
	drop, kept, moved := "1-69559e00-000000000000000000000001", "1-69559e00-000000000000000000000002", "1-00000000-000000000000000000000003"
	sum := func(id string, epoch int64) *trace.Summary {
		return &trace.Summary{TraceID: id, Epoch: epoch, EntryPoint: -1, Users: []trace.User{{Name: "alice"}}}
	}
	err := s.PutDocs(ctx, []store.DocPut{
		{TraceID: drop, Epoch: ep, Docs: []store.Doc{{ID: "a", Raw: []byte(`{}`)}, {ID: "b", Raw: []byte(`{}`)}}},
		{TraceID: kept, Epoch: ep, Docs: []store.Doc{{ID: "a", Raw: []byte(`{}`)}}},
		{TraceID: moved, Epoch: ep, Docs: []store.Doc{{ID: "a", Raw: []byte(`{}`)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// moved was summarised (kept) under ep, then dropped under ep+7200.
	if err := s.Apply(ctx, []store.TraceUpdate{{TraceID: moved, Epoch: ep, Summary: sum(moved, ep)}}); err != nil {
		t.Fatal(err)
	}
	err = s.Apply(ctx, []store.TraceUpdate{
		{TraceID: drop, Epoch: ep, Summary: sum(drop, ep), Drop: true},
		{TraceID: kept, Epoch: ep, Summary: sum(kept, ep)},
		{TraceID: moved, Epoch: ep + 7200, Summary: sum(moved, ep+7200), Previous: sum(moved, ep), Drop: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{drop, moved} {
		if tr, err := s.Trace(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: Trace = %+v, %v; want ErrNotFound", id, tr, err)
		}
		if _, err := s.Head(ctx, id); !errors.Is(err, store.ErrDropped) {
			t.Errorf("%s: Head err %v; want ErrDropped (the tombstone)", id, err)
		}
	}
	// A foreign epoch's alias stays, naming where the tombstone is.
	for id, want := range map[string]int64{drop: ep, moved: ep + 7200} {
		if e, err := s.ForeignEpoch(ctx, id); err != nil || e != want {
			t.Errorf("%s: alias = %d, %v; want %d", id, e, err, want)
		}
	}
	if e, err := s.LatestEpoch(ctx); err != nil || e != ep+7200 {
		t.Errorf("LatestEpoch = %d, %v; want the tombstone's %d", e, err, ep+7200)
	}
	// A late document of a dropped trace: Trace names it dropped.
	if err := s.PutDocs(ctx, []store.DocPut{{TraceID: drop, Epoch: ep, Docs: []store.Doc{{ID: "c", Raw: []byte(`{}`)}}}}); err != nil {
		t.Fatal(err)
	}
	if tr, err := s.Trace(ctx, drop); err != nil || !tr.Dropped || tr.Summary != nil || len(tr.Docs) != 1 {
		t.Errorf("late document: Trace = %+v, %v; want it Dropped", tr, err)
	}
	if tr, err := s.Trace(ctx, kept); err != nil || tr.Dropped {
		t.Errorf("kept: %+v, %v", tr, err)
	}
	if err := s.Apply(ctx, []store.TraceUpdate{{TraceID: drop, Epoch: ep, Summary: sum(drop, ep), Drop: true}}); err != nil {
		t.Fatal(err)
	}
	if tr, err := s.Trace(ctx, kept); err != nil || tr.Summary == nil || len(tr.Docs) != 1 {
		t.Errorf("kept: %+v, %v", tr, err)
	}
	var listed []string
	q := store.SummaryQuery{From: 0, To: ep + 10000, AnyOf: []store.Term{{Field: "user", Value: "alice"}}}
	for _, qq := range []store.SummaryQuery{q, {From: 0, To: ep + 10000}} {
		listed = listed[:0]
		if err := s.Summaries(ctx, qq, func(sm *trace.Summary) bool { listed = append(listed, sm.TraceID); return true }); err != nil {
			t.Fatal(err)
		}
		if len(listed) != 1 || listed[0] != kept {
			t.Errorf("Summaries(%+v) = %v; want only %s", qq.AnyOf, listed, kept)
		}
	}
	n := 0
	if err := s.Pending(ctx, func(string) bool { n++; return true }); err != nil || n != 0 {
		t.Errorf("%d pending, %v", n, err)
	}
}

// Tombstones go with their partition.
func TestDropTombstoneRetention(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	defer s.Close()
	const ep = 1767225600
	id := "1-69559e00-000000000000000000000001"
	sum := &trace.Summary{TraceID: id, Epoch: ep, EntryPoint: -1}
	if err := s.Apply(ctx, []store.TraceUpdate{{TraceID: id, Epoch: ep, Summary: sum, Drop: true}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Head(ctx, id); !errors.Is(err, store.ErrDropped) {
		t.Fatalf("Head err %v; want ErrDropped", err)
	}
	if _, err := s.DropBefore(ctx, time.Unix(ep+store.PartitionSeconds, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Head(ctx, id); !errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrDropped) {
		t.Errorf("after retention: Head err %v; want ErrNotFound without the tombstone", err)
	}
	if e, err := s.LatestEpoch(ctx); err != nil || e != 0 {
		t.Errorf("LatestEpoch = %d, %v; want 0", e, err)
	}
}
