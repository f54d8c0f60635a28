package trace_test

import (
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// BenchmarkEncodeSummaryUnder is the encoding ingest does per stored
// summary (the trace id left out), of ~4-segment and single-segment
// traces, by the direct encoder (the derived form), in the compact form
// the store writes and by fieldcodec (the reference), side by side so
// that one run on a loaded machine compares them.
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
			{"compact", func(dst []byte, s *trace.Summary) ([]byte, error) {
				return trace.AppendCompactSummary(dst, s, s.TraceID)
			}},
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

// BenchmarkDecodeSummaryUnder is the decoding a search does per summary it
// reads (clock times, as ingest stamps them), in the derived and the
// compact form, side by side.
func BenchmarkDecodeSummaryUnder(b *testing.B) {
	for _, c := range []struct {
		name string
		size int
	}{{"mixed", 0}, {"single", 1}} {
		var ss []*trace.Summary
		for _, t := range generatedTracesOf(b, 200, c.size) {
			ss = append(ss, trace.Summarize(trace.Assemble(t), nil, 1.8e9+0.123456789))
		}
		for _, enc := range []struct {
			name string
			f    func([]byte, *trace.Summary, string) ([]byte, error)
		}{{"derived", trace.AppendSummaryUnder}, {"compact", trace.AppendCompactSummary}} {
			var encs [][]byte
			for _, s := range ss {
				e, err := enc.f(nil, s, s.TraceID)
				if err != nil {
					b.Fatal(err)
				}
				encs = append(encs, e)
			}
			b.Run(c.name+"/"+enc.name, func(b *testing.B) {
				b.ReportAllocs()
				cpu := bench.StartCPU()
				for i := 0; b.Loop(); i++ {
					if _, err := trace.DecodeSummaryUnder(encs[i%len(encs)], ss[i%len(ss)].TraceID); err != nil {
						b.Fatal(err)
					}
				}
				cpu.Report(b)
			})
		}
	}
}
