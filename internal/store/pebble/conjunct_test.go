package pebble

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// An AND's further set is checked while its lists cost little against the
// candidates it checks, and dropped (its candidates then all read) once
// they prove far longer: `responsetime > 5 AND service("a")` where the
// slow traces are few and service a is in nearly every trace.
func TestConjunctDroppedWhenItsListsAreFarLonger(t *testing.T) {
	s := openTemp(t)
	ep := storetest.Base + 30
	var ups []store.TraceUpdate
	var slowInA string
	var slow []string
	for i := range 250 {
		id := prefixedID(ep, uint32(i+1)<<8, i) // each its own list entry
		sum := storetest.Summary(id, ep)
		sum.Nodes[0].Name = "a" // 200 fast traces of a, one slow one
		if i >= 200 {
			sum.Nodes[0].Name = "b" // and 49 slow traces of b
		}
		if i >= 199 {
			sum.ResponseTime, sum.Duration = 9, 9
			slow = append(slow, id)
		}
		if i == 199 {
			slowInA = id
		}
		ups = append(ups, store.TraceUpdate{TraceID: id, Epoch: ep, Summary: sum})
	}
	if err := s.Apply(context.Background(), ups); err != nil {
		t.Fatal(err)
	}
	q := store.SummaryQuery{From: ep, To: ep + 1,
		AnyIn: store.TimeTerms(store.FieldResponseTime, store.NumRange{Lo: 5, Hi: math.Inf(1)}).Ranges,
		AllOf: []store.TermSet{{Terms: []store.Term{{Field: store.FieldService, Value: "a"}}}}}
	if got := storetest.Collect(t, s, q); !slices.Equal(got, []string{slowInA}) {
		t.Fatalf("checked: got %v, want only %s", got, slowInA)
	}
	// Four postings allowed per candidate, and a's list of that second
	// holds 201: checked once, then dropped.
	budget, per := conjunctBudget, conjunctPerCandidate
	conjunctBudget, conjunctPerCandidate = 0, 4
	t.Cleanup(func() { conjunctBudget, conjunctPerCandidate = budget, per })
	got := storetest.Collect(t, s, q)
	slices.Sort(got)
	want := slices.Sorted(slices.Values(slow))
	// The first candidate (newest: the highest id, of b) is checked and
	// left out; every later one is read.
	if !slices.Equal(got, want[:len(want)-1]) {
		t.Fatalf("dropped: got %d %v, want every slow trace but the first checked (%d)", len(got), got, len(want)-1)
	}
}
