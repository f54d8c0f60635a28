package graph

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// TestDenseBinsAsAdd: a builder counting its sums' bins densely gives the
// records one adding every bin to its histograms gives, byte for byte:
// bins below and above a second, requests taken back (previous summaries,
// some the same as the new one, so that bins sum to zero), sums past
// maxDense, and batch after batch of a reused builder (the dense arrays
// emptied between them).
func TestDenseBinsAsAdd(t *testing.T) {
	defer func(v int) { denseFrom = v }(denseFrom)
	rng := rand.New(rand.NewPCG(5, 6))
	summary := func() *trace.Summary {
		st := 1.8e9 + float64(60*rng.IntN(4)) + rng.Float64()*50
		dur := func() float64 {
			if rng.IntN(10) == 0 {
				return 1 + rng.Float64()*3
			}
			return float64(rng.IntN(1000)) / 1000
		}
		n := 1 + rng.IntN(4)
		s := &trace.Summary{TraceID: fmt.Sprint(rng.IntN(1000)), Duration: dur()}
		for i := range n {
			s.Nodes = append(s.Nodes, trace.Node{NodeID: trace.NodeID{Name: fmt.Sprint("svc", rng.IntN(60)), Type: "AWS::EC2::Instance"}})
			s.Segments = append(s.Segments, trace.SegmentFact{Node: i, Root: i == 0, Start: st, End: st + dur(), Fault: rng.IntN(7) == 0})
			if i > 0 {
				s.Edges = append(s.Edges, trace.Edge{From: i - 1, To: i, Start: st, End: st + dur()})
			}
		}
		return s
	}
	a := NewAggregator(AggregatorConfig{Groups: func(s *trace.Summary) []string {
		return [][]string{nil, {"g1"}}[len(s.TraceID)%2]
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
		b.reset()
		slices.Sort(out)
		return out
	}
	var dense, plain deltaBuilder
	usedDense := 0
	for batch := range 9 {
		n := 1 + rng.IntN(1000)
		sums, prevs := make([]*trace.Summary, n), make([]*trace.Summary, n)
		for i := range sums {
			sums[i] = summary()
			switch rng.IntN(4) {
			case 0:
				prevs[i] = summary()
			case 1:
				prevs[i] = sums[i]
			}
		}
		denseFrom = 1 << 30
		want := records(&plain, sums, prevs)
		denseFrom = []int{0, 1, 24}[batch%3]
		got := records(&dense, sums, prevs)
		usedDense = max(usedDense, len(dense.dense))
		if !slices.Equal(got, want) {
			t.Fatalf("batch %d (%d traces, dense from %d bins): dense sums' %d records differ from added ones' %d", batch, n, denseFrom, len(got), len(want))
		}
	}
	if usedDense != maxDense {
		t.Errorf("at most %d dense sums in a batch; want batches past maxDense (%d)", usedDense, maxDense)
	}
}
