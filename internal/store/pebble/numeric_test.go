package pebble

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/filter"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// A number near a bucket bound, a threshold people type, or anything.
func randomNumber(r *rand.Rand) float64 {
	switch r.IntN(5) {
	case 0:
		return []float64{0, 0.1, 0.25, 0.5, 1, 2.5, 3, 5, 7, 10, 100, 1e5}[r.IntN(12)]
	case 1:
		return r.ExpFloat64()
	case 2:
		return r.ExpFloat64() * 20
	case 3:
		return -r.ExpFloat64() * 100
	}
	return math.Round(r.Float64()*2000) / 100
}

// randomTimed is a summary whose times, statuses and numbers are random:
// segments and calls longer than the trace, in progress, without an entry
// point, statuses no HTTP server sends.
func randomTimed(r *rand.Rand, id string, ep int64) *trace.Summary {
	s := &trace.Summary{TraceID: id, Epoch: ep, EntryPoint: 0, ResponseTime: randomNumber(r), Duration: randomNumber(r)}
	if r.IntN(8) == 0 {
		s.EntryPoint = -1
	}
	if r.IntN(4) > 0 {
		s.HTTP.Status = []int{200, 201, 404, 429, 500, 503, 599, 650, 1000, -3, 42}[r.IntN(11)]
	}
	for i := range 1 + r.IntN(3) {
		name := fmt.Sprintf("svc-%d", r.IntN(4))
		s.Nodes = append(s.Nodes, trace.Node{NodeID: trace.NodeID{Name: name}, Names: []string{name}})
		for range r.IntN(3) {
			start := float64(ep)
			f := trace.SegmentFact{Node: i, Start: start, End: start + randomNumber(r), InProgress: r.IntN(6) == 0}
			if r.IntN(10) == 0 {
				f.End = 0
			}
			s.Segments = append(s.Segments, f)
		}
	}
	for range r.IntN(3) {
		start := float64(ep)
		s.Edges = append(s.Edges, trace.Edge{From: r.IntN(len(s.Nodes)), To: r.IntN(len(s.Nodes)),
			Start: start, End: start + randomNumber(r), InProgress: r.IntN(6) == 0})
	}
	for _, k := range []string{"n", "m"} {
		for range r.IntN(3) {
			var v any = randomNumber(r)
			if r.IntN(5) == 0 {
				v = "3"
			}
			s.Annotations = append(s.Annotations, trace.Annotation{Key: k, Value: v})
		}
	}
	return s
}

func randomNumericFilter(r *rand.Rand, depth int) string {
	op := []string{">", ">=", "=", "<", "<=", "!="}[r.IntN(6)]
	num := func() string { return fmt.Sprint(randomNumber(r)) }
	if depth > 0 && r.IntN(3) == 0 {
		a, b := randomNumericFilter(r, depth-1), randomNumericFilter(r, depth-1)
		switch r.IntN(3) {
		case 0:
			return "(" + a + " AND " + b + ")"
		case 1:
			return "(" + a + " OR " + b + ")"
		}
		return "!(" + a + ")"
	}
	switch r.IntN(8) {
	case 0:
		return "responsetime " + op + " " + num()
	case 1:
		return "duration " + op + " " + num()
	case 2:
		return "http.status " + op + " " + []string{"200", "404", "500", "599", "600", "650", "1000", "499.5", "-3", "42"}[r.IntN(10)]
	case 3:
		return "annotation." + []string{"n", "m"}[r.IntN(2)] + " " + op + " " + num()
	case 4:
		return fmt.Sprintf(`service("svc-%d") { %s %s %s }`, r.IntN(4), []string{"responsetime", "duration"}[r.IntN(2)], op, num())
	case 5:
		return fmt.Sprintf(`edge("svc-%d", "svc-%d") { responsetime %s %s }`, r.IntN(4), r.IntN(4), op, num())
	case 6:
		return fmt.Sprintf(`service("svc-%d")`, r.IntN(4))
	}
	return randomEquality(r)
}

// randomEquality is a term the index answers exactly: a service, an
// annotation's string, a flag, an edge between two services.
func randomEquality(r *rand.Rand) string {
	switch r.IntN(5) {
	case 0:
		return fmt.Sprintf(`service("svc-%d")`, r.IntN(4))
	case 1:
		return `annotation.` + []string{"n", "m"}[r.IntN(2)] + ` = "3"`
	case 2:
		return fmt.Sprintf(`edge("svc-%d", "svc-%d")`, r.IntN(4), r.IntN(4))
	case 3:
		return fmt.Sprintf(`service("svc-%d") AND service("svc-%d")`, r.IntN(4), r.IntN(4))
	}
	return "fault"
}

// Metamorphic: for random summaries and random numeric filters, half of
// them ANDed with exact terms, the traces a search finds through the index
// (whole, and in pages resumed after the last trace visited) are those a
// scan of every summary finds; and alike when the further sets of an AND
// are found too costly to check and are dropped at once.
func TestNumericTermsAnswerAsTheScan(t *testing.T) {
	t.Run("checked", testNumericAgainstScan)
	t.Run("dropped", func(t *testing.T) {
		budget, per := conjunctBudget, conjunctPerCandidate
		conjunctBudget, conjunctPerCandidate = 0, 0
		t.Cleanup(func() { conjunctBudget, conjunctPerCandidate = budget, per })
		testNumericAgainstScan(t)
	})
}

func testNumericAgainstScan(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	r := rand.New(rand.NewPCG(23, 5))
	const n, span = 400, 2 * store.PartitionSeconds
	cur := map[string]*trace.Summary{}
	ids := make([]string, n)
	eps := make([]int64, n)
	for i := range n {
		eps[i] = storetest.Base + int64(r.IntN(span))
		ids[i] = storetest.TraceID(eps[i], i)
	}
	// Three rounds: traces summarised again keep stale postings.
	for range 3 {
		var ups []store.TraceUpdate
		for _, i := range r.Perm(n)[:250] {
			next := randomTimed(r, ids[i], eps[i])
			prev := cur[ids[i]]
			if prev != nil {
				next.Revision = prev.Revision + 1
			}
			ups = append(ups, store.TraceUpdate{TraceID: ids[i], Epoch: eps[i], Summary: next, Previous: prev})
			cur[ids[i]] = next
		}
		if err := s.Apply(ctx, ups); err != nil {
			t.Fatal(err)
		}
	}
	window := store.SummaryQuery{From: storetest.Base, To: storetest.Base + span}
	narrowed, conjunctions := 0, 0
	for range 400 {
		src := randomNumericFilter(r, 2)
		if r.IntN(2) == 0 { // an AND of numbers and exact terms, answered from both
			src = "(" + src + ") AND " + randomEquality(r)
		}
		e, err := filter.Parse(src, filter.Options{})
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		want := matching(t, s, window, e)
		terms, also, ok := e.Narrowing()
		if !ok {
			continue
		}
		narrowed++
		if len(also) > 0 {
			conjunctions++
		}
		var got []string
		if !terms.Empty() {
			q := window
			q.AnyOf, q.AnyIn, q.AllOf = terms.Terms, terms.Ranges, also
			got = matching(t, s, q, e)
			if paged := matchingInPages(t, s, q, e, 1+r.IntN(9)); !slices.Equal(paged, want) {
				t.Errorf("%s, in pages: %d traces, a scan finds %d", src, len(paged), len(want))
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: narrowed to %q and %q finds %d traces, a scan finds %d\nmissing: %v", src, terms, also, len(got), len(want), missing(want, got))
		}
	}
	if narrowed < 150 || conjunctions < 80 {
		t.Fatalf("only %d of 400 filters narrowed, %d to a conjunction", narrowed, conjunctions)
	}
}

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func matching(t *testing.T, s *Store, q store.SummaryQuery, e *filter.Expr) []string {
	t.Helper()
	var out []string
	if err := s.Summaries(context.Background(), q, func(sum *trace.Summary) bool {
		if e.Match(sum) {
			out = append(out, sum.TraceID)
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// matchingInPages visits size candidates per call, resuming after the last.
func matchingInPages(t *testing.T, s *Store, q store.SummaryQuery, e *filter.Expr, size int) []string {
	t.Helper()
	var out []string
	for {
		seen := 0
		err := s.Summaries(context.Background(), q, func(sum *trace.Summary) bool {
			if seen == size {
				return false
			}
			seen++
			q.After = store.CursorOf(sum)
			if e.Match(sum) {
				out = append(out, sum.TraceID)
			}
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		if seen < size {
			return out
		}
	}
}

func missing(want, got []string) string {
	var m []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			m = append(m, w)
		}
	}
	return strings.Join(m, " ")
}
