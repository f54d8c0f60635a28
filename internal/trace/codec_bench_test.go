package trace_test

import (
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// BenchmarkEncodeSummaryUnder is the encoding ingest does per stored
// summary (the trace id left out), of ~4-segment and single-segment
// traces, by the direct encoder and by fieldcodec (its reference), side by
// side so that one run on a loaded machine compares them.
func BenchmarkEncodeSummaryUnder(b *testing.B) {
	for _, c := range []struct {
		name string
		size int
	}{{"mixed", 0}, {"single", 1}} {
		var ss []*trace.Summary
		for _, t := range generatedTracesOf(b, 200, c.size) {
			ss = append(ss, trace.Summarize(trace.Assemble(t), nil, 1))
		}
		for _, enc := range []struct {
			name string
			f    func([]byte, *trace.Summary) ([]byte, error)
		}{
			{"direct", func(dst []byte, s *trace.Summary) ([]byte, error) { return trace.AppendSummaryUnder(dst, s, s.TraceID) }},
			{"fieldcodec", func(dst []byte, s *trace.Summary) ([]byte, error) {
				return trace.AppendPackedByReflection(dst, s, true)
			}},
		} {
			b.Run(c.name+"/"+enc.name, func(b *testing.B) {
				b.ReportAllocs()
				buf := make([]byte, 0, 8192)
				cpu := bench.StartCPU()
				for i := 0; b.Loop(); i++ {
					var err error
					if buf, err = enc.f(buf[:0], ss[i%len(ss)]); err != nil {
						b.Fatal(err)
					}
				}
				cpu.Report(b)
			})
		}
	}
}
