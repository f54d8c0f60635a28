package trace_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// generatedTraces parses n generated traces of ~4 segments.
func generatedTraces(b *testing.B, n int) []*trace.Trace {
	return generatedTracesOf(b, n, 0)
}

// generatedTracesOf parses n generated traces of size segments (0: ~4).
func generatedTracesOf(b testing.TB, n, size int) []*trace.Trace {
	g := bench.NewGenerator(1)
	g.TraceSize = size
	now := time.Now()
	var out []*trace.Trace
	for range n {
		t, err := g.ParsedTrace(now)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, t)
	}
	return out
}

func generatedSummaries(b *testing.B, n int) []*trace.Summary {
	var out []*trace.Summary
	for _, t := range generatedTraces(b, n) {
		out = append(out, trace.Summarize(trace.Assemble(t), nil, 1))
	}
	return out
}

// BenchmarkSummarize assembles and summarizes a ~4-segment trace, and a
// single-segment one (every document its own trace).
func BenchmarkSummarize(b *testing.B) {
	for _, c := range []struct {
		name string
		size int
	}{{"mixed", 0}, {"single", 1}} {
		b.Run(c.name, func(b *testing.B) {
			ts := generatedTracesOf(b, 200, c.size)
			b.ReportAllocs()
			cpu := bench.StartCPU()
			for i := 0; b.Loop(); i++ {
				trace.Summarize(trace.Assemble(ts[i%len(ts)]), nil, 1)
			}
			cpu.Report(b)
		})
	}
}

// BenchmarkSummarizeTrace is BenchmarkSummarize's work as ingest does it,
// assembling into the tree SummarizeTrace keeps.
func BenchmarkSummarizeTrace(b *testing.B) {
	for _, c := range []struct {
		name string
		size int
	}{{"mixed", 0}, {"single", 1}} {
		b.Run(c.name, func(b *testing.B) {
			ts := generatedTracesOf(b, 200, c.size)
			b.ReportAllocs()
			cpu := bench.StartCPU()
			for i := 0; b.Loop(); i++ {
				trace.SummarizeTrace(ts[i%len(ts)], nil, 1)
			}
			cpu.Report(b)
		})
	}
}

func BenchmarkEncodeSummary(b *testing.B) {
	ss := generatedSummaries(b, 200)
	size, jsonSize := 0, 0
	for _, s := range ss {
		e, _ := trace.EncodeSummary(s)
		j, _ := json.Marshal(s)
		size += len(e)
		jsonSize += len(j)
	}
	b.ReportAllocs()
	buf := make([]byte, 0, 8192)
	cpu := bench.StartCPU()
	for i := 0; b.Loop(); i++ {
		var err error
		if buf, err = trace.AppendSummary(buf[:0], ss[i%len(ss)]); err != nil {
			b.Fatal(err)
		}
	}
	cpu.Report(b)
	b.ReportMetric(float64(size)/float64(len(ss)), "bytes/summary")
	b.ReportMetric(float64(jsonSize)/float64(len(ss)), "json-bytes/summary")
}

// BenchmarkDecodeSummary is the cost a search pays per trace it examines;
// 100k of them must take well under 500 ms.
func BenchmarkDecodeSummary(b *testing.B) {
	var encs [][]byte
	for _, s := range generatedSummaries(b, 200) {
		e, _ := trace.EncodeSummary(s)
		encs = append(encs, e)
	}
	b.ReportAllocs()
	cpu := bench.StartCPU()
	for i := 0; b.Loop(); i++ {
		if _, err := trace.DecodeSummary(encs[i%len(encs)]); err != nil {
			b.Fatal(err)
		}
	}
	cpu.Report(b)
}
