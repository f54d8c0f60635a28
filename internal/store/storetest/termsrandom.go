package storetest

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// testTermsAgainstScan checks AnyOf against the plain definition: after
// rounds of applies that create traces and summarise them again with
// other terms, a term query visits exactly the traces whose current
// summary carries one of the terms, newest first, whole or in pages.
func testTermsAgainstScan(t *testing.T, h *Harness) {
	ctx := context.Background()
	s := h.New(t)
	r := rand.New(rand.NewPCG(7, 11))
	const traces, span = 150, 2 * store.PartitionSeconds
	epochs := make([]int64, traces)
	for i := range epochs {
		epochs[i] = Base + int64(r.IntN(span))
		if i%10 == 0 && i > 0 {
			epochs[i] = epochs[i-1] // some seconds hold several traces
		}
	}
	cur := map[string]*trace.Summary{}
	svcs, tags := []string{"a", "b", "c"}, []string{"x", "y", "z"}
	for range 6 {
		var ups []store.TraceUpdate
		for _, i := range r.Perm(traces)[:60] {
			id, ep := TraceID(epochs[i], i), epochs[i]
			next := annotated(id, ep, svcs[r.IntN(len(svcs))], map[string]any{"tag": tags[r.IntN(len(tags))]})
			prev := cur[id]
			if prev != nil {
				next.Revision = prev.Revision + 1
			}
			ups = append(ups, store.TraceUpdate{TraceID: id, Epoch: ep, Summary: next, Previous: prev})
			cur[id] = next
		}
		if err := s.Apply(ctx, ups); err != nil {
			t.Fatal(err)
		}
	}
	all := make([]*trace.Summary, 0, len(cur))
	for _, x := range cur {
		all = append(all, x)
	}
	slices.SortFunc(all, func(a, b *trace.Summary) int {
		if store.CursorOf(a).Before(store.CursorOf(b)) {
			return 1
		}
		return -1
	})
	for _, terms := range [][]store.Term{
		{svcTerm("a")}, {annTerm("tag", "x")}, {svcTerm("b"), annTerm("tag", "y")},
		{svcTerm("c"), annTerm("tag", "z"), annTerm("tag", "x")},
	} {
		for _, win := range [][2]int64{{Base, Base + span}, {Base + 1000, Base + 5000}} {
			var want []string
			for _, x := range all {
				carries := false
				for _, tm := range store.TermsOf(x) {
					carries = carries || slices.Contains(terms, tm)
				}
				if carries && x.Epoch >= win[0] && x.Epoch < win[1] {
					want = append(want, x.TraceID)
				}
			}
			q := store.SummaryQuery{From: win[0], To: win[1], AnyOf: terms}
			if got := Collect(t, s, q); !equalIDs(got, want) {
				t.Errorf("%q in %v: got %d %v\nwant %d %v", terms, win, len(got), got, len(want), want)
			}
			if got := page(t, s, q, 7); !equalIDs(got, want) {
				t.Errorf("%q in %v, pages of 7: got %d, want %d", terms, win, len(got), len(want))
			}
		}
	}
}
