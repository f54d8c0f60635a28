package pebble_test

import (
	"context"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
	"github.com/roentgen-tracing/roentgen/internal/xraytest/benchtest"
)

// BenchmarkApplySingle stores new single-segment traces as ingest's flush
// does: 256 per Apply, summaries and statistics (their documents are put
// before, by PutDocs). Each op stores 256 traces not seen before, so it
// writes what a steady stream of them writes. One op is one Apply.
func BenchmarkApplySingle(b *testing.B) {
	const batch = 256
	st := benchtest.Open(b)
	g := bench.NewGenerator(3)
	g.TraceSize = 1
	now := time.Now()
	agg := graph.NewAggregator(graph.AggregatorConfig{})
	// Made ahead: a pool of batches the loop goes round (trace ids are
	// reused once it wraps, as BenchmarkApply's are).
	var batches [][]store.TraceUpdate
	for range 64 {
		ups := make([]store.TraceUpdate, batch)
		for i := range ups {
			t, err := g.ParsedTrace(now)
			if err != nil {
				b.Fatal(err)
			}
			s := trace.SummarizeTrace(t, nil, float64(now.Unix()))
			ups[i] = store.TraceUpdate{TraceID: t.ID, Epoch: s.Epoch, Summary: s}
		}
		agg.Prepare(ups)
		batches = append(batches, ups)
	}
	b.ReportAllocs()
	cpu := bench.StartCPU()
	for i := 0; b.Loop(); i++ {
		if err := st.Apply(context.Background(), batches[i%len(batches)]); err != nil {
			b.Fatal(err)
		}
	}
	cpu.Report(b)
}
