package bench

import (
	"testing"
	"time"
)

// BenchmarkGenerateBatches is the load generator's cost per segment, the
// CPU it takes from the server when both share the cores during a run: one
// op is one segment document, made in batches of 50 as roentgen-bench makes
// them.
func BenchmarkGenerateBatches(b *testing.B) {
	for _, size := range []int{0, 1} {
		name := "mixed"
		if size == 1 {
			name = "single"
		}
		b.Run(name, func(b *testing.B) {
			g := NewGenerator(1)
			g.TraceSize = size
			s := g.Stream(time.Unix(1_800_000_000, 0), NominalTraceRate, b.N, 50)
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
