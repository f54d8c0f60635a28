package store_test

import (
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// generatedSummaries summarizes n generated traces of ~4 segments.
func generatedSummaries(b *testing.B, n int) []*trace.Summary {
	g := bench.NewGenerator(1)
	now := time.Now()
	var out []*trace.Summary
	for range n {
		t, err := g.ParsedTrace(now)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, trace.Summarize(trace.Assemble(t), nil, 1))
	}
	return out
}

// BenchmarkTermsOf lists the index terms of a ~4-segment trace's summary,
// as the store does for the new and the previous summary of every update.
func BenchmarkTermsOf(b *testing.B) {
	ss := generatedSummaries(b, 200)
	n := 0
	for _, s := range ss {
		n += len(store.TermsOf(s))
	}
	b.ReportAllocs()
	cpu := bench.StartCPU()
	for i := 0; b.Loop(); i++ {
		store.TermsOf(ss[i%len(ss)])
	}
	cpu.Report(b)
	b.ReportMetric(float64(n)/float64(len(ss)), "terms/summary")
}

// BenchmarkTermsApply lists terms as the embedded store's Apply does, into
// a reused list: with TermsInto (a string per summary for its built
// values), as Apply did before, and with TermsScratch (the values in
// reused bytes). Single-segment and ~4-segment summaries.
func BenchmarkTermsApply(b *testing.B) {
	for _, c := range []struct {
		name string
		size int
	}{{"single", 1}, {"mixed", 0}} {
		g := bench.NewGenerator(1)
		g.TraceSize = c.size
		now := time.Now()
		var ss []*trace.Summary
		for range 200 {
			t, err := g.ParsedTrace(now)
			if err != nil {
				b.Fatal(err)
			}
			ss = append(ss, trace.Summarize(trace.Assemble(t), nil, 1))
		}
		b.Run(c.name+"/into", func(b *testing.B) {
			var buf []store.Term
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				buf = store.TermsInto(buf, ss[i%len(ss)])
			}
		})
		b.Run(c.name+"/scratch", func(b *testing.B) {
			var buf []store.Term
			var vals []byte
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				buf, vals = store.TermsScratch(buf, vals, ss[i%len(ss)])
			}
		})
	}
}
