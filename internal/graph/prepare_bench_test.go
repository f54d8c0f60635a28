package graph_test

import (
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// generatedUpdates are n updates of new generated traces of size segments
// (0: ~4), as ingest hands a flush's batch to Prepare.
func generatedUpdates(tb testing.TB, n, size int) []store.TraceUpdate {
	tb.Helper()
	g := bench.NewGenerator(5)
	g.TraceSize = size
	now := time.Now()
	ups := make([]store.TraceUpdate, n)
	for i := range ups {
		t, err := g.ParsedTrace(now)
		if err != nil {
			tb.Fatal(err)
		}
		s := trace.SummarizeTrace(t, nil, float64(now.Unix()))
		ups[i] = store.TraceUpdate{TraceID: t.ID, Epoch: s.Epoch, Summary: s}
	}
	return ups
}

// BenchmarkPrepare is the statistics' cost per trace of a batch of 500 new
// traces, single-segment and ~4-segment, with an observer as RED registers
// one: Prepare, then Hook's hand-over of the changes.
func BenchmarkPrepare(b *testing.B) {
	for _, c := range []struct {
		name string
		size int
	}{{"single", 1}, {"mixed", 0}} {
		b.Run(c.name, func(b *testing.B) {
			ups := generatedUpdates(b, 500, c.size)
			agg := graph.NewAggregator(graph.AggregatorConfig{})
			changes := 0
			agg.AddObserver(func(updates []store.TraceUpdate, of func(int) []graph.Change) {
				for i := range updates {
					changes += len(of(i))
				}
			})
			b.ReportAllocs()
			cpu := bench.StartCPU()
			for b.Loop() {
				agg.Prepare(ups)
				agg.Hook(b.Context(), ups)
			}
			cpu.Report(b)
			b.ReportMetric(float64(len(ups)), "traces/op")
		})
	}
}
