package red

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// A trace of three nodes and three edges (client -> web -> backend, web ->
// DynamoDB), as the ingest path hands each summary to the hook.
func benchSummary(i int) *trace.Summary {
	const st = 1.7e9
	return &trace.Summary{TraceID: fmt.Sprintf("1-%08x-%024x", st, i),
		Nodes: []trace.Node{web, backend, {NodeID: trace.NodeID{Name: "users", Type: "AWS::DynamoDB::Table"}, Inferred: true}},
		Segments: []trace.SegmentFact{{Node: 0, Root: true, Start: st, End: st + .3, Fault: i%10 == 0},
			{Node: 1, Start: st + .1, End: st + .2}, {Node: 2, Inferred: true, Start: st + .2, End: st + .25}},
		Edges: []trace.Edge{{From: 0, To: 1, Start: st + .1, End: st + .2}, {From: 0, To: 2, Start: st + .2, End: st + .25}}}
}

// BenchmarkHook is the cost the RED metrics add to the ingest path per
// summarised trace.
func BenchmarkHook(b *testing.B) {
	m := New(prometheus.NewRegistry(), Config{})
	ups := make([][]store.TraceUpdate, 64)
	for i := range ups {
		ups[i] = []store.TraceUpdate{{Summary: benchSummary(i)}}
	}
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Hook(ctx, ups[i%len(ups)])
	}
}

// BenchmarkSeriesMemory reports the heap a label set (service series: five
// counters and a histogram) costs once it has been observed.
func BenchmarkSeriesMemory(b *testing.B) {
	const n = 1000
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		m := New(prometheus.NewRegistry(), Config{Limit: n})
		for i := range n {
			s := benchSummary(i)
			s.Nodes = []trace.Node{{NodeID: trace.NodeID{Name: fmt.Sprintf("svc-%d", i)}, Root: true}}
			s.Segments, s.Edges = s.Segments[:1], nil
			m.Hook(context.Background(), []store.TraceUpdate{{Summary: s}})
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n/2, "B/labelset") // a service and its client edge
		runtime.KeepAlive(m)
	}
}
