package ingest_test

import (
	"context"
	"fmt"
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

// BenchmarkOneBigTrace is one trace of n small documents sent in calls of
// 50, then summarised: the cost per document must not grow with n (90k
// documents of one trace took 118 s when every document was looked up by
// a scan of the trace).
func BenchmarkOneBigTrace(b *testing.B) {
	for _, n := range []int{2000, 20000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for range b.N {
				st := benchtest.Open(b)
				now := time.Now()
				in := ingest.New(ingest.Config{Store: st, Now: func() time.Time { return now }, FlushDelay: time.Hour})
				tid := fmt.Sprintf("1-%08x-%024x", now.Unix()-10, 1)
				start := float64(now.Unix() - 10)
				ctx := context.Background()
				t0 := time.Now()
				for lo := 0; lo < n; lo += 50 {
					docs := make([][]byte, 0, 50)
					for i := lo; i < lo+50; i++ {
						docs = append(docs, fmt.Appendf(nil, `{"trace_id":%q,"id":"%016x","name":"db","type":"subsegment","parent_id":"0000000000000001","start_time":%f,"end_time":%f}`, tid, i+2, start, start+0.001))
					}
					if r := in.Ingest(ctx, docs, ingest.Options{Source: "bench"}); len(r) != 0 {
						b.Fatal(r[0].Error)
					}
				}
				in.Close()
				b.ReportMetric(float64(time.Since(t0).Nanoseconds())/float64(n), "ns/doc")
			}
		})
	}
}
