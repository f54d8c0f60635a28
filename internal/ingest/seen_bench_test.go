package ingest

import (
	"fmt"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
)

// BenchmarkSeen is what seen costs per new trace as single-segment ingest
// uses it: isNew when its documents are staged, add once it is summarised
// (256 at a time, as flushes do), over a 2M-trace run from empty filters
// (roentgen-bench -segments 2000000 -trace-size 1: trace ids' epochs
// advance at bench.NominalTraceRate traces a second). One op is one trace.
// fp/op is the share answered "maybe": each costs ingest a Head (three
// Pebble reads; ~65 µs of server CPU each in a 2M-segment run's profile).
func BenchmarkSeen(b *testing.B) {
	const run = 2_000_000
	start := time.Unix(1_800_000_000, 0)
	ids := make([]string, run)
	epochs := make([]int64, run)
	for i := range ids {
		epochs[i] = start.Unix() + int64(i/bench.NominalTraceRate)
		ids[i] = fmt.Sprintf("1-%08x-%024x", epochs[i], uint64(i)*0x9E3779B97F4A7C15)
	}
	fresh := func() *seen {
		s := newSeen(start)
		s.knowStoreUpTo(0)
		return s
	}
	s := fresh()
	fp := 0
	batch := make([]string, 0, 256)
	cpu := bench.StartCPU()
	for i := 0; b.Loop(); i++ {
		j := i % run
		if j == 0 && i > 0 {
			s, batch = fresh(), batch[:0]
		}
		now := time.Unix(epochs[j], 0)
		if !s.isNew(ids[j], epochs[j], now) {
			fp++
		}
		if batch = append(batch, ids[j]); len(batch) == cap(batch) {
			s.add(batch, now)
			batch = batch[:0]
		}
	}
	cpu.Report(b)
	b.ReportMetric(float64(fp)/float64(b.N), "fp/op")
	b.ReportMetric(float64(s.bytes()), "filter-bytes")
}
