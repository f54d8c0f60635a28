package ingest_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
)

// BenchmarkIngest is the whole ingest path on the real Pebble store: parse,
// merge into traces spread over neighbouring batches, summarize, persist.
// One op is one batch of 50 documents, as the daemon sends; batches run on
// every core concurrently.
func BenchmarkIngest(b *testing.B) {
	st, err := pebble.Open(b.TempDir(), pebble.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	in := ingest.New(ingest.Config{Store: st, Now: func() time.Time { return now }})
	batches := bench.NewGenerator(1).Batches(now, 200_000, 50)
	var next atomic.Int64
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	cpu := bench.CPUTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			if i >= int64(len(batches)) {
				b.Fatal("ran out of generated batches; raise the count")
			}
			if r := in.Ingest(ctx, batches[i], ingest.Options{Source: "bench"}); len(r) > 0 {
				b.Fatalf("rejected: %+v", r[0].Error)
			}
		}
	})
	segs := float64(next.Load() * 50)
	b.ReportMetric(segs/time.Since(start).Seconds(), "segments/s")
	// What 2 otherwise idle cores would sustain, from the CPU spent.
	b.ReportMetric(2*segs/(bench.CPUTime()-cpu).Seconds(), "segments/s@2cpu")
}
