package graph

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// TestDeltaBuilderReuse: a builder reset after a batch gives for the next
// exactly the records a new one gives, batch after batch of different
// entities, groups and minutes (Prepare pools its builders).
func TestDeltaBuilderReuse(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	summary := func() *trace.Summary {
		st := 1.8e9 + float64(rng.IntN(600)) + rng.Float64()
		n := 1 + rng.IntN(4)
		s := &trace.Summary{TraceID: fmt.Sprint(rng.IntN(1000)), Duration: rng.Float64()}
		for i := range n {
			s.Nodes = append(s.Nodes, trace.Node{NodeID: trace.NodeID{Name: fmt.Sprint("svc", rng.IntN(12)), Type: "AWS::EC2::Instance"}})
			s.Segments = append(s.Segments, trace.SegmentFact{Node: i, Root: i == 0, Start: st, End: st + rng.Float64()*float64(1+rng.IntN(3000)), Fault: rng.IntN(7) == 0})
			if i > 0 {
				s.Edges = append(s.Edges, trace.Edge{From: i - 1, To: i, Start: st, End: st + rng.Float64()})
			}
		}
		return s
	}
	a := NewAggregator(AggregatorConfig{Groups: func(s *trace.Summary) []string {
		return [][]string{nil, {"g1"}, {"g2", "g1"}}[len(s.TraceID)%3]
	}})
	records := func(b *deltaBuilder, sums, prevs []*trace.Summary) []string {
		for i := range sums {
			b.add(a, prevs[i], -1)
			b.add(a, sums[i], 1)
		}
		var out []string
		for _, r := range b.records() {
			out = append(out, fmt.Sprintf("%+v %x", r.StatKey, r.Value))
		}
		slices.Sort(out)
		return out
	}
	var reused deltaBuilder
	for batch := range 30 {
		n := 1 + rng.IntN(200)
		sums, prevs := make([]*trace.Summary, n), make([]*trace.Summary, n)
		for i := range sums {
			sums[i] = summary()
			if rng.IntN(3) == 0 {
				prevs[i] = summary()
			}
		}
		var fresh deltaBuilder
		want := records(&fresh, sums, prevs)
		got := records(&reused, sums, prevs)
		if !slices.Equal(got, want) {
			t.Fatalf("batch %d: a reused builder's %d records differ from a new one's %d", batch, len(got), len(want))
		}
		reused.reset()
	}
}
