package storetest

import (
	"context"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// window fills a store with traces at the given epochs (two per epoch when
// twice is set, to exercise the trace-id tie break) and returns their ids
// newest first, as Summaries must order them.
func window(t *testing.T, s store.Store, epochs []int64, twice bool) []string {
	t.Helper()
	var want []string
	for i := len(epochs) - 1; i >= 0; i-- {
		ep := epochs[i]
		ids := []string{TraceID(ep, 2*i)}
		if twice {
			ids = append([]string{TraceID(ep, 2*i+1)}, ids...) // larger id first
		}
		for _, id := range ids {
			Put(t, s, Summary(id, ep))
			want = append(want, id)
		}
	}
	return want
}

func testSummaries(t *testing.T, h *Harness) {
	ctx := context.Background()
	// Epochs ascending, spanning partition boundaries on both sides.
	epochs := []int64{Base - 1, Base, Base + 1, Base + 1799, Base + 3599, Base + 3600, Base + 7300}

	t.Run("NewestFirstWithinBounds", func(t *testing.T) {
		s := h.New(t)
		all := window(t, s, epochs, true)
		if got := Collect(t, s, store.SummaryQuery{From: Base - 10, To: Base + 10000}); !equalIDs(got, all) {
			t.Errorf("full window:\n got %v\nwant %v", got, all)
		}
		// [Base, Base+3600): From is inclusive, To exclusive.
		var want []string
		for _, id := range all {
			ep, _ := segment.TraceEpoch(id)
			if ep >= Base && ep < Base+3600 {
				want = append(want, id)
			}
		}
		if got := Collect(t, s, store.SummaryQuery{From: Base, To: Base + 3600}); !equalIDs(got, want) {
			t.Errorf("[Base, Base+3600):\n got %v\nwant %v", got, want)
		}
		if got := Collect(t, s, store.SummaryQuery{From: -Base, To: Base + 10000}); !equalIDs(got, all) {
			t.Errorf("a window reaching before 1970: %v", got)
		}
		if got := Collect(t, s, store.SummaryQuery{From: Base + 5, To: Base + 5}); len(got) != 0 {
			t.Errorf("empty window returned %v", got)
		}
		if got := Collect(t, s, store.SummaryQuery{From: Base + 10, To: Base}); len(got) != 0 {
			t.Errorf("inverted window returned %v", got)
		}
	})

	t.Run("StopEarly", func(t *testing.T) {
		s := h.New(t)
		all := window(t, s, epochs, false)
		n := 0
		if err := s.Summaries(ctx, store.SummaryQuery{From: Base - 10, To: Base + 10000}, func(*trace.Summary) bool { n++; return n < 3 }); err != nil {
			t.Fatal(err)
		}
		if n != 3 || len(all) < 3 {
			t.Errorf("fn called %d times after returning false at 3", n)
		}
	})

	t.Run("CursorPaging", func(t *testing.T) {
		s := h.New(t)
		all := window(t, s, epochs, true)
		for _, anyOf := range [][]store.Term{nil, {{Field: store.FieldService, Value: "svc"}}} {
			for _, size := range []int{1, 2, 3, 5} {
				got := page(t, s, store.SummaryQuery{From: Base - 10, To: Base + 10000, AnyOf: anyOf}, size)
				if !equalIDs(got, all) {
					t.Errorf("pages of %d (terms %v) gave\n %v\nwant %v", size, anyOf, got, all)
				}
			}
		}
	})

	t.Run("CursorOutsideWindow", func(t *testing.T) {
		s := h.New(t)
		all := window(t, s, epochs, false)
		// A cursor newer than the window starts at the window's top.
		got := Collect(t, s, store.SummaryQuery{From: Base - 10, To: Base + 10000, After: store.Cursor{Epoch: Base + 99999, TraceID: TraceID(Base+99999, 0)}})
		if !equalIDs(got, all) {
			t.Errorf("cursor above the window: %v, want %v", got, all)
		}
		// A cursor older than the window leaves nothing.
		if got := Collect(t, s, store.SummaryQuery{From: Base, To: Base + 10000, After: store.Cursor{Epoch: Base - 5, TraceID: TraceID(Base-5, 0)}}); len(got) != 0 {
			t.Errorf("cursor below the window: %v", got)
		}
	})

	t.Run("SummaryReplacedNotDuplicated", func(t *testing.T) {
		s := h.New(t)
		id := TraceID(Base+3, 1)
		first := Summary(id, Base+3)
		Put(t, s, first)
		second := Summary(id, Base+3)
		second.Revision = 1
		second.HasFault = true
		if err := s.Apply(ctx, []store.TraceUpdate{{TraceID: id, Epoch: Base + 3, Summary: second, Previous: first}}); err != nil {
			t.Fatal(err)
		}
		var got []*trace.Summary
		_ = s.Summaries(ctx, store.SummaryQuery{From: Base, To: Base + 10}, func(x *trace.Summary) bool { got = append(got, x); return true })
		if len(got) != 1 || got[0].Revision != 1 || !got[0].HasFault {
			t.Errorf("summaries after replace = %+v", got)
		}
	})

	t.Run("Cancelled", func(t *testing.T) {
		s := h.New(t)
		window(t, s, epochs, false)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		err := s.Summaries(cctx, store.SummaryQuery{From: Base - 10, To: Base + 10000}, func(*trace.Summary) bool { return true })
		if err == nil {
			t.Error("Summaries with a cancelled context returned no error")
		}
	})
}

// page reads a query in pages of size, resuming after the last trace seen,
// as GetTraceSummaries' NextToken does.
func page(t *testing.T, s store.Store, q store.SummaryQuery, size int) []string {
	t.Helper()
	var out []string
	for range 1000 {
		var last *trace.Summary
		n := 0
		if err := s.Summaries(context.Background(), q, func(x *trace.Summary) bool {
			out = append(out, x.TraceID)
			last = x
			n++
			return n < size
		}); err != nil {
			t.Fatal(err)
		}
		if n < size {
			return out
		}
		q.After = store.CursorOf(last)
	}
	t.Fatal("paging did not end")
	return nil
}
