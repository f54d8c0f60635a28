package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/app"
	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/metrics"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/xraytest/benchtest"
)

// BenchmarkIngest is the whole ingest path on the real Pebble store: parse,
// merge into traces spread over neighbouring batches, summarize, persist.
// One op is one batch of 50 documents, as the daemon sends; batches run on
// every core concurrently.
func BenchmarkIngest(b *testing.B) { benchmarkIngest(b, 0, false) }

// BenchmarkIngestSingle is BenchmarkIngest of traces of one segment each,
// where the per-trace bookkeeping weighs most. It starts the ingester as
// the server does (Recover), so that new traces are known new without a
// store lookup each (seen), as they are in the server.
func BenchmarkIngestSingle(b *testing.B) { benchmarkIngest(b, 1, true) }

// benchmarkIngest wires the ingester as the server does (app.Wire: the
// graph's statistics as a deriver, its hook with RED's observer, the
// keeper; the metrics), so that what it counts is the server's flush path.
func benchmarkIngest(b *testing.B, traceSize int, recover bool) {
	st := benchtest.Open(b)
	now := time.Now()
	m := metrics.New(func() float64 { return 0 })
	// Summaries are flushed by the pending bound alone, in parts of a
	// quarter of it (~2,000 single-segment traces; the server's are ~5,000
	// at 50k/s, a 100 ms tick's): quiet traces, found by wall time, made
	// parts of ~250 traces under callgrind, whose counts then moved with
	// its speed (more Applies, more statistics operands to merge).
	in := ingest.New(ingest.Config{Store: st, Metrics: m, Now: func() time.Time { return now }, FlushDelay: time.Hour, PendingBytes: 8 << 20})
	if _, _, err := app.Wire(context.Background(), app.Parts{Store: st, Ingest: in, Metrics: m}); err != nil {
		b.Fatal(err)
	}
	if recover {
		if _, err := in.Recover(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	load := benchtest.NewLoadOf(now, traceSize)
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

// BenchmarkOverload is ingest with summarising slower than writing (a hook
// that sleeps, as a store busy compacting is): 64 writers send batches of
// 50 documents as fast as they are answered. Memory must stay bounded and
// the excess be refused with ErrThrottled, not queued. It reports the
// share of calls refused and the peak heap in use.
func BenchmarkOverload(b *testing.B) {
	st := benchtest.Open(b)
	now := time.Now()
	// Small bounds, so that 64 writers of 50 kB batches cross them.
	in := ingest.New(ingest.Config{Store: st, Now: func() time.Time { return now }, PendingBytes: 1 << 20})
	in.AddHook(func(context.Context, []store.TraceUpdate) { time.Sleep(20 * time.Millisecond) })
	batches := bench.NewGenerator(1).Batches(now, 40_000, 50)
	if b.N < len(batches) {
		batches = batches[:b.N]
	}
	var next, refused atomic.Int64
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() { // sample the heap while the load runs
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
		}
	}()
	b.ResetTimer()
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(batches) {
					return
				}
				if _, err := in.TryIngest(context.Background(), batches[i], ingest.Options{Source: "bench"}); errors.Is(err, ingest.ErrThrottled) {
					refused.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(stop)
	in.Close()
	b.ReportMetric(float64(refused.Load())/float64(len(batches)), "refused/call")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
}
