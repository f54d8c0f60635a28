package storetest

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// testAllOf checks SummaryQuery.AllOf, a conjunction of term sets, against
// its definition: after rounds of applies that summarise traces again with
// other services, annotations and durations (their old postings stay), a
// query visits exactly the traces whose current summary carries a term of
// AnyOf/AnyIn and one of each AllOf set, newest first, whole or in pages.
// (A store may skip checking a set whose lists are far longer than its
// candidates; this store is too small for that.)
func testAllOf(t *testing.T, h *Harness) {
	ctx := context.Background()
	s := h.New(t)
	r := rand.New(rand.NewPCG(23, 42))
	const traces, span = 240, 2 * store.PartitionSeconds
	epochs := make([]int64, traces)
	for i := range epochs {
		epochs[i] = Base + int64(r.IntN(span))
		if i%4 == 1 {
			epochs[i] = epochs[i-1] // many seconds hold several traces
		}
	}
	cur := map[string]*trace.Summary{}
	svcs, tags := []string{"a", "b", "c", "d"}, []string{"x", "y", "z"}
	for range 4 {
		var ups []store.TraceUpdate
		for _, i := range r.Perm(traces)[:150] {
			id, ep := TraceID(epochs[i], i), epochs[i]
			next := annotated(id, ep, svcs[r.IntN(len(svcs))], map[string]any{"tag": tags[r.IntN(len(tags))]})
			next.Duration = []float64{0.05, 0.4, 2, 4, 9}[r.IntN(5)]
			next.ResponseTime = next.Duration
			if prev := cur[id]; prev != nil {
				next.Revision = prev.Revision + 1
			}
			ups = append(ups, store.TraceUpdate{TraceID: id, Epoch: ep, Summary: next, Previous: cur[id]})
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
	slow := store.TimeTerms(store.FieldDuration, store.NumRange{Lo: 3, Hi: math.Inf(1)})
	slow.Ranges = append(slow.Ranges, store.TimeTerms(store.FieldResponseTime, store.NumRange{Lo: 3, Hi: math.Inf(1)}).Ranges...)
	set := func(terms ...store.Term) store.TermSet { return store.TermSet{Terms: terms} }
	for _, c := range []struct {
		name  string
		first store.TermSet
		allOf []store.TermSet
	}{
		{"slow AND service a", slow, []store.TermSet{set(svcTerm("a"))}},
		{"service a AND slow", set(svcTerm("a")), []store.TermSet{slow}},
		{"service a or b AND tag x", set(svcTerm("a"), svcTerm("b")), []store.TermSet{set(annTerm("tag", "x"))}},
		{"tag y AND service c AND slow", set(annTerm("tag", "y")), []store.TermSet{set(svcTerm("c")), slow}},
		{"AllOf alone", store.TermSet{}, []store.TermSet{set(svcTerm("d")), set(annTerm("tag", "z"))}},
		{"service a AND service a", set(svcTerm("a")), []store.TermSet{set(svcTerm("a"))}},
		{"service a AND service b", set(svcTerm("a")), []store.TermSet{set(svcTerm("b"))}},
		{"an empty set", set(svcTerm("a")), []store.TermSet{{}}},
	} {
		for _, win := range [][2]int64{{Base, Base + span}, {Base + 1000, Base + 5000}} {
			var want []string
			for _, x := range all {
				terms := store.TermsOf(x)
				ok := x.Epoch >= win[0] && x.Epoch < win[1] && (c.first.Empty() || carriesOne(terms, c.first))
				for _, a := range c.allOf {
					ok = ok && carriesOne(terms, a)
				}
				if ok {
					want = append(want, x.TraceID)
				}
			}
			q := store.SummaryQuery{From: win[0], To: win[1], AnyOf: c.first.Terms, AnyIn: c.first.Ranges, AllOf: c.allOf}
			if got := Collect(t, s, q); !equalIDs(got, want) {
				t.Errorf("%s in %v: got %d %v\nwant %d %v", c.name, win, len(got), got, len(want), want)
			}
			if got := page(t, s, q, 3); !equalIDs(got, want) {
				t.Errorf("%s in %v, pages of 3: got %d, want %d", c.name, win, len(got), len(want))
			}
		}
	}
}

func carriesOne(terms []store.Term, set store.TermSet) bool {
	return slices.ContainsFunc(terms, set.Has)
}
