package clickhouse_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// BenchmarkShardedClickHouse measures what the Distributed tables cost a
// store operation: one trace's Apply (4 documents and its summary, terms,
// pending mark), a Trace read of it and a one-hour Summaries scan, on one
// server (a plain database on the cluster's first node) and through the
// two-shard cluster (the same node asked). Reports µs per operation.
func BenchmarkShardedClickHouse(b *testing.B) {
	sharded := clickhousetest.NewShardedDatabase(b)
	u, err := url.Parse(sharded)
	if err != nil {
		b.Fatal(err)
	}
	u.RawQuery, u.Path = "", u.Path+"_plain"
	plain := u.String()
	for _, c := range []struct{ name, url string }{{"one-server", plain}, {"two-shards", sharded}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			s := open(b, c.url)
			defer s.Close()
			if c.name == "one-server" {
				defer s.DropDatabase(ctx)
			}
			base := storetest.Base
			var apply, read, scan time.Duration
			b.ResetTimer()
			for i := range b.N {
				id := storetest.TraceID(base+int64(i%3600), i)
				sum := storetest.Summary(id, base+int64(i%3600))
				docs := []store.Doc{storetest.Doc("aaaaaaaaaaaaaaaa", `{"a":1}`), storetest.Doc("bbbbbbbbbbbbbbbb", `{"b":2}`),
					storetest.Doc("cccccccccccccccc", `{"c":3}`), storetest.Doc("dddddddddddddddd", `{"d":4}`)}
				t0 := time.Now()
				if err := s.Apply(ctx, []store.TraceUpdate{{TraceID: id, Epoch: sum.Epoch, Docs: docs, Summary: sum}}); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if tr, err := s.Trace(ctx, id); err != nil || len(tr.Docs) != 4 {
					b.Fatalf("Trace: %+v, %v", tr, err)
				}
				t2 := time.Now()
				n := 0
				if err := s.Summaries(ctx, store.SummaryQuery{From: base, To: base + 3600}, func(*trace.Summary) bool { n++; return n < 20 }); err != nil {
					b.Fatal(err)
				}
				apply, read, scan = apply+t1.Sub(t0), read+t2.Sub(t1), scan+time.Since(t2)
			}
			b.ReportMetric(float64(apply.Microseconds())/float64(b.N), "apply-µs/op")
			b.ReportMetric(float64(read.Microseconds())/float64(b.N), "trace-µs/op")
			b.ReportMetric(float64(scan.Microseconds())/float64(b.N), "summaries-µs/op")
		})
	}
}
