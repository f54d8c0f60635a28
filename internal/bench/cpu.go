package bench

import (
	"testing"
	"time"
)

// CPUMeter reports CPU time per operation beside a benchmark's wall time.
// On a shared machine the wall time of a benchmark grows with other load;
// the CPU it spends is a steadier measure of its cost.
type CPUMeter struct{ start time.Duration }

// StartCPU starts measuring; call it right before the timed loop.
func StartCPU() CPUMeter { return CPUMeter{start: CPUTime()} }

// Report adds cpu-ns/op for the b.N operations since StartCPU.
func (m CPUMeter) Report(b *testing.B) {
	if b.N > 0 {
		b.ReportMetric(float64(CPUTime()-m.start)/float64(b.N), "cpu-ns/op")
	}
}
