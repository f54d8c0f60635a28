package bench

import (
	"testing"
	"time"
)

// BenchmarkGenerateBatches is the load generator's cost per segment, the
// CPU it takes from the server when both share the cores during a run: one
// op is one segment document, made in batches of 50 as roentgen-bench makes
// them. The escaped variants are what roentgen-bench makes over HTTP:
// documents written escaped, into reused memory.
func BenchmarkGenerateBatches(b *testing.B) {
	for _, v := range []struct {
		name    string
		size    int
		escaped bool
	}{{"mixed", 0, false}, {"single", 1, false}, {"mixed-escaped", 0, true}, {"single-escaped", 1, true}} {
		b.Run(v.name, func(b *testing.B) {
			g := NewGenerator(1)
			g.TraceSize, g.Escaped = v.size, v.escaped
			s := g.Stream(time.Unix(1_800_000_000, 0), NominalTraceRate, b.N, 50)
			s.Reuse = v.escaped
			cpu := StartCPU()
			b.ResetTimer()
			bytes := 0
			for {
				batch := s.Next()
				if batch == nil {
					break
				}
				for _, d := range batch {
					bytes += len(d)
				}
			}
			b.StopTimer()
			cpu.Report(b)
			b.SetBytes(int64(bytes / max(b.N, 1)))
		})
	}
}
