package storetest

import (
	"context"
	"math"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// testNumericTerms checks the numeric terms of store/numeric.go: a range's
// bucket terms find the traces whose numbers lie in those buckets, in
// every minute and partition of the window, newest first, whole or in
// pages, and a trace summarised again is found by its new number only.
func testNumericTerms(t *testing.T, h *Harness) {
	ctx := context.Background()
	s := h.New(t)
	inf := math.Inf(1)
	type tr struct {
		rt, du  float64
		status  int
		amount  float64
		id      string
		summary *trace.Summary
	}
	traces := []*tr{
		{rt: 0.2, du: 0.2, status: 200, amount: -5},
		{rt: 3, du: 9, status: 503, amount: 0},
		{rt: 7, du: 7, status: 404, amount: 12.5},
		{rt: 12, du: 12, status: 1000, amount: 1e9},
		{rt: 5, du: 5.5, status: 500, amount: 3},
		{rt: 0.01, du: 6, status: 0, amount: 7},
	}
	for i, x := range traces {
		ep := Base + int64(i)*900 // four minutes of one partition, then the next
		x.id = TraceID(ep, i)
		x.summary = annotated(x.id, ep, "svc", map[string]any{"amount": x.amount})
		x.summary.ResponseTime, x.summary.Duration, x.summary.HTTP.Status = x.rt, x.du, x.status
		Put(t, s, x.summary)
	}
	// The last trace's response time changes; its old bucket must not find it.
	last := traces[len(traces)-1]
	next := *last.summary
	next.ResponseTime, next.Revision = 0.4, 1
	if err := s.Apply(ctx, []store.TraceUpdate{{TraceID: last.id, Epoch: next.Epoch, Summary: &next, Previous: last.summary}}); err != nil {
		t.Fatal(err)
	}
	last.rt = 0.4
	win := store.SummaryQuery{From: Base, To: Base + 6*900}
	for _, c := range []struct {
		name  string
		terms store.TermSet
		want  func(x *tr) bool
	}{
		{"responsetime > 5", store.TimeTerms(store.FieldResponseTime, store.NumRange{Lo: 5, Hi: inf}), func(x *tr) bool { return x.rt >= 5 }},
		{"responsetime < 0.05", store.TimeTerms(store.FieldResponseTime, store.NumRange{Lo: -inf, Hi: 0.05}), func(x *tr) bool { return x.rt < 0.05 }},
		{"responsetime in [0.1, 1)", store.TimeTerms(store.FieldResponseTime, store.NumRange{Lo: 0.1, Hi: 1, LoIncl: true}), func(x *tr) bool { return x.rt >= 0.1 && x.rt < 1 }},
		{"duration >= 6", store.TermSet{Ranges: append(store.TimeTerms(store.FieldResponseTime, store.NumRange{Lo: 6, Hi: inf, LoIncl: true}).Ranges,
			store.TimeTerms(store.FieldDuration, store.NumRange{Lo: 6, Hi: inf, LoIncl: true}).Ranges...)}, func(x *tr) bool { return x.du >= 5 || x.rt >= 5 }}, // 6 lies in the bucket [5, 7)
		{"http.status >= 500", store.StatusTerms(store.NumRange{Lo: 500, Hi: inf, LoIncl: true}), func(x *tr) bool { return x.status >= 500 }},
		{"http.status = 404", store.StatusTerms(store.NumRange{Lo: 404, Hi: 404, LoIncl: true, HiIncl: true}), func(x *tr) bool { return x.status == 404 }},
		{"annotation.amount < 4", store.AnnotationNumberTerms("amount", store.NumRange{Lo: -inf, Hi: 4}), func(x *tr) bool { return x.amount < 4 }},
		{"annotation.amount > 10", store.AnnotationNumberTerms("amount", store.NumRange{Lo: 10, Hi: inf}), func(x *tr) bool { return x.amount > 10 }},
	} {
		var want []string
		for i := len(traces) - 1; i >= 0; i-- {
			if c.want(traces[i]) {
				want = append(want, traces[i].id)
			}
		}
		q := win
		q.AnyOf, q.AnyIn = c.terms.Terms, c.terms.Ranges
		if got := Collect(t, s, q); !equalIDs(got, want) {
			t.Errorf("%s: got %v, want %v", c.name, got, want)
		}
		if got := page(t, s, q, 1); !equalIDs(got, want) {
			t.Errorf("%s, pages of 1: got %v, want %v", c.name, got, want)
		}
	}
}
