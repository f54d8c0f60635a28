package graph_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Prepare sums a batch's deltas per record: the records it attaches (to
// the first update alone) add up to what each update's own Deltas add up
// to, record by record and in every group, with nothing for records that
// cancel out across the batch.
func TestPrepareSumsTheBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	agg := graph.NewAggregator(graph.AggregatorConfig{Groups: func(s *trace.Summary) []string {
		if s.TraceID[len(s.TraceID)-1]%2 == 0 {
			return []string{"even"}
		}
		return nil
	}})
	var updates []store.TraceUpdate
	for i := range 40 {
		// Two minutes' traces, so that coarse records sum several minutes.
		s := syntheticSummary(rng, 1.8e9+float64(i*3))
		updates = append(updates, store.TraceUpdate{TraceID: s.TraceID, Summary: s})
	}
	// A trace summarised again unchanged, and one whose fault was fixed.
	same := updates[3].Summary
	updates = append(updates, store.TraceUpdate{TraceID: same.TraceID, Summary: same, Previous: same})
	fixed := *updates[5].Summary
	fixed.Segments = append([]trace.SegmentFact(nil), fixed.Segments...)
	fixed.Segments[0].Fault = !fixed.Segments[0].Fault
	updates = append(updates, store.TraceUpdate{TraceID: fixed.TraceID, Summary: &fixed, Previous: updates[5].Summary})

	want := map[store.StatKey]*graph.Stats{}
	for _, u := range updates {
		sumInto(t, want, agg.Deltas(u.Summary, u.Previous))
	}
	agg.Prepare(updates)
	for i, u := range updates[1:] {
		if len(u.Stats) != 0 {
			t.Fatalf("update %d carries %d records; the first carries the batch's", i+1, len(u.Stats))
		}
	}
	got := map[store.StatKey]*graph.Stats{}
	sumInto(t, got, updates[0].Stats)
	if len(got) != len(updates[0].Stats) {
		t.Errorf("%d records for %d keys: a key twice", len(updates[0].Stats), len(got))
	}
	groups := map[string]bool{}
	for k, w := range want {
		groups[k.Group] = true
		g := got[k]
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
			t.Errorf("%+v: a record no update's deltas have", k)
		}
	}
	if !groups["even"] || !groups[graph.DefaultGroup] {
		t.Errorf("groups %v, want Default and even", groups)
	}
}

func sumInto(t *testing.T, m map[store.StatKey]*graph.Stats, recs []store.StatRecord) {
	t.Helper()
	for _, r := range recs {
		var d graph.Stats
		if err := d.Decode(r.Value); err != nil {
			t.Fatal(err)
		}
		s := m[r.StatKey]
		if s == nil {
			s = &graph.Stats{}
			m[r.StatKey] = s
		}
		s.Add(&d, 1)
	}
}

// A trace summarised again whose only change is a request's outcome (a
// late subsegment marks the call a fault) moves that request from OK to
// faults: the delta, zero in total, is not left out as empty.
func TestDeltasOfChangedOutcome(t *testing.T) {
	agg := graph.NewAggregator(graph.AggregatorConfig{})
	s := &trace.Summary{TraceID: "1-5f000000-000000000000000000000001", StartTime: 1.6e9,
		Nodes:    []trace.Node{{NodeID: trace.NodeID{Name: "a", Type: "AWS::EC2::Instance"}}},
		Segments: []trace.SegmentFact{{Node: 0, Root: true, Start: 1.6e9, End: 1.6e9 + 1}}}
	next := *s
	next.Segments = []trace.SegmentFact{{Node: 0, Root: true, Start: 1.6e9, End: 1.6e9 + 1, Fault: true}}
	sum := map[store.StatKey]*graph.Stats{}
	sumInto(t, sum, agg.Deltas(s, nil))
	sumInto(t, sum, agg.Deltas(&next, s))
	node := sum[store.StatKey{Resolution: 60, Bucket: 1_600_000_000 - 1_600_000_000%60, Group: graph.DefaultGroup, Entity: string(graph.NodeEntity(s.Nodes[0].NodeID))}]
	if node == nil || node.OK != 0 || node.Fault != 1 {
		t.Errorf("after the update: %+v, want one faulted request", node)
	}
}
