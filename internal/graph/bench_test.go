package graph_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
	"github.com/roentgen-tracing/roentgen/internal/trace"
	"github.com/roentgen-tracing/roentgen/internal/xraytest/benchtest"
)

// The query benchmarks share one store holding the statistics of 1,000,000
// traces over 6 hours (about 46 traces/s) of a 12-service topology with
// DynamoDB, S3, SQS, SQL and HTTP callees, built once through the
// aggregator's ingest hook.
const (
	benchTraces = 1_000_000
	benchHours  = 6
)

// benchStore opens the store, building it on first use under
// ROENTGEN_BENCH_DIR (or the temp dir), where later runs find it again.
func benchStore(b *testing.B) (*graph.Aggregator, int64) {
	st, end := benchData(b)
	return graph.NewAggregator(graph.AggregatorConfig{Store: st}), end
}

// benchData is the store and the end of the hours it holds.
func benchData(b *testing.B) (*pebble.Store, int64) {
	st, built := benchtest.Cached(b, benchtest.Name("graph-l13", benchTraces), func(st *pebble.Store, end int64) { buildBench(b, st, end) })
	runtime.GC() // the setup's garbage is not the queries' cost
	return st, benchEnd(built)
}

// benchEnd is the end of the hours a store built at built holds.
func benchEnd(built int64) int64 { return (built-benchHours*3600)/3600*3600 + benchHours*3600 }

func buildBench(b *testing.B, st *pebble.Store, end int64) {
	start := (end - benchHours*3600) / 3600 * 3600
	agg := graph.NewAggregator(graph.AggregatorConfig{Store: st})
	rng := rand.New(rand.NewPCG(7, 7))
	ctx := context.Background()
	step := float64(benchHours*3600) / benchTraces
	var recs []store.StatRecord
	for i := 0; i < benchTraces; i++ {
		s := syntheticSummary(rng, float64(start)+float64(i)*step)
		recs = append(recs, agg.Deltas(s, nil)...)
		if i%2000 == 1999 || i == benchTraces-1 {
			if err := st.AddStats(ctx, recs); err != nil {
				b.Fatal(err)
			}
			recs = recs[:0]
		}
	}
	// Compacted, as a long-running server's older statistics are: each
	// record's deltas merged into one (pebble/stats.go bounds what the
	// memtable holds unmerged), and no compaction runs during the
	// queries.
	if err := st.Compact(ctx); err != nil {
		b.Fatal(err)
	}
}

var benchCallees = []trace.NodeID{
	{Name: "orders", Type: "AWS::DynamoDB::Table"}, {Name: "blobs", Type: "AWS::S3::Bucket"},
	{Name: "jobs", Type: "AWS::SQS::Queue"}, {Name: "app@db", Type: "Database::SQL"}, {Name: "psp.example.com", Type: "remote"},
}

// syntheticSummary is a trace through the gateway and 2-4 of 11 services,
// each calling one callee; about 3 % fault, 4 % error, 1 % throttle.
func syntheticSummary(rng *rand.Rand, start float64) *trace.Summary {
	s := &trace.Summary{TraceID: fmt.Sprintf("1-%08x-%024x", int64(start), rng.Uint64()), StartTime: start}
	add := func(id trace.NodeID, inferred bool) int {
		s.Nodes = append(s.Nodes, trace.Node{NodeID: id, Inferred: inferred})
		return len(s.Nodes) - 1
	}
	dur := func() float64 { return float64(1+rng.IntN(1500)) / 1000 }
	flags := func() (f, e, t bool) {
		switch r := rng.IntN(100); {
		case r < 3:
			return true, false, false
		case r < 7:
			return false, true, false
		case r == 7:
			return false, true, true
		}
		return
	}
	root := add(trace.NodeID{Name: "gateway", Type: "AWS::EC2::Instance"}, false)
	rd := 0.2 + dur()
	f, e, t := flags()
	s.Segments = append(s.Segments, trace.SegmentFact{Node: root, Root: true, Start: start, End: start + rd, Fault: f, Error: e, Throttle: t})
	s.Duration = rd
	for k := 2 + rng.IntN(3); k > 0; k-- {
		svc := add(trace.NodeID{Name: fmt.Sprintf("svc-%d", rng.IntN(11)), Type: "AWS::ECS::Container"}, false)
		d := dur() / 2
		f, e, t := flags()
		s.Edges = append(s.Edges, trace.Edge{From: root, To: svc, Start: start, End: start + d + 0.001, Fault: f, Error: e, Throttle: t})
		s.Segments = append(s.Segments, trace.SegmentFact{Node: svc, Start: start, End: start + d, Fault: f, Error: e, Throttle: t})
		callee := add(benchCallees[rng.IntN(len(benchCallees))], true)
		cd := d / 2
		f, e, t = flags()
		s.Edges = append(s.Edges, trace.Edge{From: svc, To: callee, Start: start, End: start + cd, Fault: f, Error: e, Throttle: t})
		s.Segments = append(s.Segments, trace.SegmentFact{Node: callee, Inferred: true, Start: start, End: start + cd, Fault: f, Error: e, Throttle: t})
	}
	return s
}

func benchGraph(b *testing.B, hours int64) {
	agg, end := benchStore(b)
	ctx := context.Background()
	to := end - 17 // an unaligned window, as a console asks for
	from := to - hours*3600
	b.ResetTimer()
	cpu := bench.StartCPU()
	defer cpu.Report(b)
	for b.Loop() {
		g, err := agg.ServiceGraph(ctx, graph.DefaultGroup, from-from%60, to-to%60+60)
		if err != nil {
			b.Fatal(err)
		}
		if svcs := g.Services(float64(from), float64(to)); len(svcs) < 15 {
			b.Fatalf("%d services", len(svcs))
		}
	}
}

func BenchmarkServiceGraph1h(b *testing.B) { benchGraph(b, 1) }
func BenchmarkServiceGraph6h(b *testing.B) { benchGraph(b, 6) }

func BenchmarkTimeSeries6hAt60s(b *testing.B) {
	agg, end := benchStore(b)
	ctx := context.Background()
	sel, err := graph.ParseSelector(`service("svc-3")`)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu := bench.StartCPU()
	defer cpu.Report(b)
	for b.Loop() {
		pts, err := agg.Series(ctx, graph.SeriesQuery{Group: graph.DefaultGroup, Selector: sel, From: end - 6*3600, To: end, Period: 60})
		if err != nil {
			b.Fatal(err)
		}
		if len(pts) != 360 {
			b.Fatalf("%d points", len(pts))
		}
	}
}

// BenchmarkIngestWithStatistics is internal/ingest's BenchmarkIngest with
// the statistics hook registered; BenchmarkIngestWithoutStatistics is the
// same run without it, for a side-by-side comparison on a shared machine.
func BenchmarkIngestWithStatistics(b *testing.B)    { benchIngest(b, true) }
func BenchmarkIngestWithoutStatistics(b *testing.B) { benchIngest(b, false) }

func benchIngest(b *testing.B, withStats bool) {
	st := benchtest.Open(b)
	now := time.Now()
	in := ingest.New(ingest.Config{Store: st, Now: func() time.Time { return now }})
	defer in.Close() // before the store closes
	agg := graph.NewAggregator(graph.AggregatorConfig{Store: st})
	if withStats {
		in.AddDeriver(agg.Prepare)
		in.AddHook(agg.Hook)
	}
	load := benchtest.NewLoad(now)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	cpu := bench.StartCPU()
	defer cpu.Report(b)
	load.Run(b, in)
	b.ReportMetric(load.Segments()/time.Since(start).Seconds(), "segments/s")
}

// BenchmarkDeltas is the statistics' cost per summarised trace on the
// ingest path: its deltas for Default alone, and for 25 groups (the limit)
// that all match it. It reports the records each trace adds.
func BenchmarkDeltas(b *testing.B) {
	for _, n := range []int{0, 25} {
		b.Run(fmt.Sprintf("groups=%d", n), func(b *testing.B) {
			names := make([]string, n)
			for i := range names {
				names[i] = fmt.Sprintf("g%d", i)
			}
			agg := graph.NewAggregator(graph.AggregatorConfig{Groups: func(*trace.Summary) []string { return names }})
			s := syntheticSummary(rand.New(rand.NewPCG(1, 1)), 1.8e9)
			recs := 0
			b.ReportAllocs()
			for b.Loop() {
				recs = len(agg.Deltas(s, nil))
			}
			b.ReportMetric(float64(recs), "records/trace")
		})
	}
}
