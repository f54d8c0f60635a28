package ingest_test

import (
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/xraytest/benchtest"
)

// BenchmarkIngest is the whole ingest path on the real Pebble store: parse,
// merge into traces spread over neighbouring batches, summarize, persist.
// One op is one batch of 50 documents, as the daemon sends; batches run on
// every core concurrently.
func BenchmarkIngest(b *testing.B) {
	st := benchtest.Open(b)
	now := time.Now()
	in := ingest.New(ingest.Config{Store: st, Now: func() time.Time { return now }})
	load := benchtest.NewLoad(now)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	cpu := bench.CPUTime()
	load.Run(b, in)
	in.Close() // the summaries of the last traces are part of ingest
	segs := load.Segments()
	b.ReportMetric(segs/time.Since(start).Seconds(), "segments/s")
	// What 2 otherwise idle cores would sustain, from the CPU spent.
	b.ReportMetric(2*segs/(bench.CPUTime()-cpu).Seconds(), "segments/s@2cpu")
}
