package pebble

import (
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// BenchmarkPostingWriter gathers the index terms of one Apply's 50
// single-segment traces (one PutTraceSegments call's worth) into a
// postingWriter, as Apply does after listing them. One op is one Apply.
func BenchmarkPostingWriter(b *testing.B) {
	g := bench.NewGenerator(1)
	g.TraceSize = 1
	now := time.Now()
	type traceTerms struct {
		id    string
		epoch int64
		terms []store.Term
	}
	var ts []traceTerms
	for range 50 {
		t, err := g.ParsedTrace(now)
		if err != nil {
			b.Fatal(err)
		}
		s := trace.Summarize(trace.Assemble(t), nil, 1)
		ts = append(ts, traceTerms{t.ID, s.Epoch, store.TermsOf(s)})
	}
	var w postingWriter
	b.ReportAllocs()
	cpu := bench.StartCPU()
	for b.Loop() {
		for _, t := range ts {
			for _, term := range t.terms {
				w.add(t.epoch, term, t.id)
			}
		}
		w.reset()
	}
	cpu.Report(b)
}
