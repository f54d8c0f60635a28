package pebble_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/xraytest/benchtest"
)

// BenchmarkKeysPerTrace ingests 20,000 generated documents (calls of 50
// from two writers, as BenchmarkIngest; statistics as the server derives them) and counts what each LSM's
// memtable takes per trace summarised: the operations of the batches
// Apply and PutDocs commit (not the range deletions), and their keys' and
// values' bytes. Each op is a new store; the counts, not the time, are
// the result (-v logs them by table).
func BenchmarkKeysPerTrace(b *testing.B) {
	for _, size := range []int{1, 0} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			g := bench.NewGenerator(5)
			g.TraceSize = size
			batches := g.Batches(time.Now(), 20_000, benchtest.BatchSize)
			for b.Loop() {
				st := benchtest.Open(b)
				type count struct{ ops, key, value int }
				counts := map[string]*count{}
				var summaries int
				stop := st.ObserveCommits(func(lsm string, table, op byte, key, value int) {
					k := fmt.Sprintf("%s %c %c", lsm, table, op)
					if counts[k] == nil {
						counts[k] = &count{}
					}
					c := counts[k]
					c.ops, c.key, c.value = c.ops+1, c.key+key, c.value+value
					if table == 's' && op == 'S' {
						summaries++
					}
				})
				in := ingest.New(ingest.Config{Store: st})
				in.AddDeriver(graph.NewAggregator(graph.AggregatorConfig{}).Prepare) // statistics, as the server's
				if _, err := in.Recover(context.Background()); err != nil {
					b.Fatal(err)
				}
				var next atomic.Int64
				var wg sync.WaitGroup
				for range 2 {
					wg.Go(func() {
						for i := next.Add(1) - 1; i < int64(len(batches)); i = next.Add(1) - 1 {
							if r := in.Ingest(context.Background(), batches[i], ingest.Options{Source: "bench"}); len(r) > 0 {
								b.Errorf("rejected: %+v", r[0].Error)
							}
						}
					})
				}
				wg.Wait()
				in.Close()
				stop()
				per := func(n int) float64 { return float64(n) / float64(summaries) }
				lsms := map[string]*count{}
				for _, k := range slices.Sorted(maps.Keys(counts)) {
					c := counts[k]
					b.Logf("%s: %.3f ops, %.1f key bytes, %.1f value bytes per trace", k, per(c.ops), per(c.key), per(c.value))
					l := k[:len(k)-4]
					if lsms[l] == nil {
						lsms[l] = &count{}
					}
					lsms[l].ops, lsms[l].key, lsms[l].value = lsms[l].ops+c.ops, lsms[l].key+c.key, lsms[l].value+c.value
				}
				for l, c := range lsms {
					b.ReportMetric(per(c.ops), l+"-ops/trace")
					b.ReportMetric(per(c.key+c.value), l+"-B/trace")
				}
				b.ReportMetric(float64(summaries), "traces")
			}
		})
	}
}
