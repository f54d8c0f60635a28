package graph_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// An update's Counted change (added already by a refused Apply) is taken
// back in the batch's records: they sum to Summary − Previous − (Counted's
// Summary − its Previous). The observers are told only Summary −
// Previous: they never saw the refused Apply.
func TestPrepareTakesBackTheCountedChange(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	stored := syntheticSummary(rng, 1.8e9)
	refused := *stored // the refused Apply's summary: a fault fixed
	refused.Segments = append([]trace.SegmentFact(nil), stored.Segments...)
	refused.Segments[0].Fault = !refused.Segments[0].Fault
	retry := syntheticSummary(rng, 1.8e9+61) // the retry's: more has come
	retry.TraceID = stored.TraceID
	other := syntheticSummary(rng, 1.8e9+5)
	counted := &store.CountedChange{Summary: &refused, Previous: stored}

	observed := func(a *graph.Aggregator) *[]string {
		var got []string
		a.AddObserver(func(ups []store.TraceUpdate, changes func(int) []graph.Change) {
			for i := range ups {
				for _, c := range changes(i) {
					got = append(got, fmt.Sprintf("%d %s %x", i, c.Entity, c.Stats.Encode()))
				}
			}
		})
		return &got
	}
	agg := graph.NewAggregator(graph.AggregatorConfig{})
	gotChanges := observed(agg)
	updates := []store.TraceUpdate{
		{TraceID: other.TraceID, Summary: other},
		{TraceID: stored.TraceID, Summary: retry, Previous: stored, Counted: counted},
	}
	agg.Prepare(updates)
	agg.Hook(context.Background(), updates)

	want := map[store.StatKey]*graph.Stats{}
	sumInto(t, want, agg.Deltas(other, nil))
	sumInto(t, want, agg.Deltas(retry, stored))
	sumInto(t, want, agg.Deltas(counted.Previous, counted.Summary))
	got := map[store.StatKey]*graph.Stats{}
	sumInto(t, got, updates[0].Stats)
	for k, w := range want {
		g := got[k]
		// First and Last are bounds, not sums: a record that cancelled
		// out of one change's Deltas still widens the batch's.
		w.First, w.Last = 0, 0
		if g != nil {
			g.First, g.Last = 0, 0
		}
		if w.Empty() {
			if g != nil {
				t.Errorf("%+v: %+v, want no record (it cancels out)", k, g)
			}
			continue
		}
		if g == nil || !bytes.Equal(g.Encode(), w.Encode()) {
			t.Errorf("%+v: %+v, want %+v", k, g, w)
		}
	}
	for k := range got {
		if want[k] == nil {
			t.Errorf("%+v: a record no change has", k)
		}
	}

	// The same batch without Counted tells the observers the same.
	plain := graph.NewAggregator(graph.AggregatorConfig{})
	wantChanges := observed(plain)
	ups := []store.TraceUpdate{updates[0], updates[1]}
	ups[1].Counted = nil
	plain.Prepare(ups)
	plain.Hook(context.Background(), ups)
	if len(*wantChanges) == 0 || fmt.Sprint(*gotChanges) != fmt.Sprint(*wantChanges) {
		t.Errorf("observed %v\nwant %v", *gotChanges, *wantChanges)
	}
}
