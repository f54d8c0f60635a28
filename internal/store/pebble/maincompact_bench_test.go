package pebble

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// BenchmarkMainCompactions stores 400k generated single-segment traces'
// summaries and statistics (no documents) in batches of 250, epochs
// rising at 12,500 traces a second as the harness sends them, waits for
// the main LSM's compactions in flight, and reports what they read and
// wrote per trace and what is left in L0, not compacted yet: the work the
// main LSM's key layout, table bounds and base level decide
// (docs/performance.md, "Single-segment traces: what grows over a run").
// One op is the whole store.
func BenchmarkMainCompactions(b *testing.B) {
	const n, batch, rate = 400_000, 250, 12_500
	g := bench.NewGenerator(5)
	g.TraceSize = 1
	end := time.Now().Unix()
	start := end - n/rate
	// 256 templates, stamped with new ids and epochs.
	var sums []*trace.Summary
	for range 256 {
		t, err := g.ParsedTrace(time.Unix(end, 0))
		if err != nil {
			b.Fatal(err)
		}
		sums = append(sums, trace.Summarize(trace.Assemble(t), nil, float64(end)))
	}
	ups := make([]store.TraceUpdate, n)
	delta := (&graph.Stats{OK: 1, Response: graph.Histogram{{Ms: 3, Count: 1}}}).Encode()
	for i := range ups {
		ep := start + int64(i)/rate
		s := *sums[i%len(sums)]
		s.TraceID = g.TraceID(time.Unix(ep, 0))
		s.Epoch = ep
		ups[i] = store.TraceUpdate{TraceID: s.TraceID, Epoch: ep, Summary: &s, Stats: []store.StatRecord{{
			StatKey: store.StatKey{Resolution: 60, Bucket: ep - ep%60, Group: "Default", Entity: fmt.Sprint("svc", i%8)}, Value: delta}}}
	}
	var read, written, moved, flushed, l0, l0Tables, l0Sub, cpu float64
	for b.Loop() {
		s, err := Open(b.TempDir(), Options{CombineStats: graph.CombineStats})
		if err != nil {
			b.Fatal(err)
		}
		c := bench.CPUTime()
		for i := 0; i < n; i += batch {
			if err := s.Apply(context.Background(), ups[i:i+batch]); err != nil {
				b.Fatal(err)
			}
		}
		for s.main.Metrics().Compact.NumInProgress > 0 {
			time.Sleep(10 * time.Millisecond)
		}
		cpu += (bench.CPUTime() - c).Seconds()
		m := s.main.Metrics()
		for l := range m.Levels {
			if l > 0 { // L0's bytes in are the memtables'
				read += float64(m.Levels[l].TableBytesIn)
			}
			read += float64(m.Levels[l].TableBytesRead)
			written += float64(m.Levels[l].TableBytesCompacted)
			moved += float64(m.Levels[l].TableBytesMoved)
			flushed += float64(m.Levels[l].TableBytesFlushed)
		}
		l0 += float64(m.Levels[0].TablesSize)
		l0Tables += float64(m.Levels[0].TablesCount)
		l0Sub += float64(m.Levels[0].Sublevels)
		s.Close()
	}
	per := float64(b.N) * n
	b.ReportMetric(read/per, "compact-read-B/trace")
	b.ReportMetric(written/per, "compact-written-B/trace")
	b.ReportMetric(moved/per, "moved-B/trace")
	b.ReportMetric(flushed/per, "flushed-B/trace")
	b.ReportMetric(l0/per, "L0-left-B/trace")
	b.ReportMetric(l0Tables/float64(b.N), "L0-tables")
	b.ReportMetric(l0Sub/float64(b.N), "L0-sublevels")
	b.ReportMetric(cpu*1e6/per, "cpu-µs/trace")
}
