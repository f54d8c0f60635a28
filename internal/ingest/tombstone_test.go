package ingest_test

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/keep"
	"github.com/roentgen-tracing/roentgen/internal/store"
)

// countSegments is a deriver whose statistics record counts the segments
// of every summarised trace (the contribution of Summary minus that of
// Previous, as the graph's deriver computes its deltas).
func countSegments(ups []store.TraceUpdate) {
	for i := range ups {
		u := &ups[i]
		n := int64(u.Summary.SegmentCount)
		if u.Previous != nil {
			n -= int64(u.Previous.SegmentCount)
		}
		u.Stats = []store.StatRecord{{StatKey: store.StatKey{Resolution: 60, Bucket: u.Epoch - u.Epoch%60, Group: "Default", Entity: "segments"},
			Value: binary.BigEndian.AppendUint64(nil, uint64(n))}}
	}
}

// countedSegments sums what countSegments stored (without a combiner the
// store concatenates the deltas of a record).
func countedSegments(t *testing.T, st store.Store) int64 {
	t.Helper()
	var n int64
	q := store.StatQuery{Resolution: 60, Group: "Default", From: 0, To: now.Unix() + 3600}
	err := st.Stats(context.Background(), q, func(r store.StatRecord) bool {
		for v := r.Value; len(v) >= 8; v = v[8:] {
			n += int64(binary.BigEndian.Uint64(v))
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A dropped trace leaves a tombstone in the store, so a late document that
// arrives when no process holds the decision in memory (after a restart,
// after the cache let the trace go, or pending across a crash) is dropped
// too, though on its own it matches a policy that keeps it; its segments
// are still counted in the statistics.
func TestLateDocumentOfDroppedTraceFindsTombstone(t *testing.T) {
	policies := keep.Policies{Policies: []keep.Policy{{Name: "faults", FilterExpression: "fault", KeepRate: 1}}, DefaultRate: 0}
	ctx := context.Background()
	for _, how := range []string{"restart", "evicted", "recovered"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			cfg := ingest.Config{FlushDelay: time.Hour}
			if how == "evicted" {
				cfg.CacheBytes = 1 // nothing stays cached
			}
			h := newHooked(t, dir, cfg)
			h.in.AddDeriver(countSegments)
			h.in.SetKeeper(newTestKeeper(t, policies))
			drop, kept := traceID(1), traceID(2)
			h.send(t, seg(drop, "aaaaaaaaaaaaaaaa", "web", ""), sub(drop, "bbbbbbbbbbbbbbbb"))
			h.send(t, seg(kept, "aaaaaaaaaaaaaaaa", "web", `,"fault":true`))
			h.in.Sync(ctx)
			gone(t, h.st, drop)
			late := seg(drop, "cccccccccccccccc", "late", `,"fault":true`)

			switch how {
			case "restart", "recovered":
				h.in.Close()
				h.st.Close()
				h = newHooked(t, dir, cfg)
				h.in.AddDeriver(countSegments)
				h.in.SetKeeper(newTestKeeper(t, policies))
			}
			if how == "recovered" {
				// Stored and marked pending, then a crash before its
				// summary: the next start summarises it from the store.
				err := h.st.PutDocs(ctx, []store.DocPut{{TraceID: drop, Epoch: now.Unix() - 30,
					Docs: []store.Doc{{ID: "cccccccccccccccc", Raw: []byte(late)}}}})
				if err != nil {
					t.Fatal(err)
				}
				if n, err := h.in.Recover(ctx); err != nil || n != 1 {
					t.Fatalf("Recover = %d, %v", n, err)
				}
			} else {
				h.send(t, late)
				h.in.Sync(ctx)
			}
			defer h.st.Close()
			defer h.in.Close()

			gone(t, h.st, drop)
			if u := h.last(t, drop); !u.Drop {
				t.Errorf("the late document's update keeps the trace: %+v", u.Summary)
			}
			if tr, err := h.st.Trace(ctx, kept); err != nil || tr.Summary == nil {
				t.Errorf("kept trace: %+v, %v", tr, err)
			}
			// web, its subsegment's db, the kept trace's web and the late one.
			if n := countedSegments(t, h.st); n != 4 {
				t.Errorf("statistics count %d segments; want 4", n)
			}
		})
	}
}
