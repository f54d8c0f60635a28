package ingest_test

import (
	"context"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/keep"
	"github.com/roentgen-tracing/roentgen/internal/xraytest/benchtest"
)

// BenchmarkKeepDisk is the store's size on disk, once compacted, after the
// same generated traffic (the bench generator: ~3% faults, ~5% client
// errors) with every trace kept and with "fault OR error 100%, rest 5%".
// Run it with -benchtime=1x: each op ingests the whole load.
func BenchmarkKeepDisk(b *testing.B) {
	const docs = 100_000
	now := time.Now()
	load := bench.NewGenerator(7).Batches(now, docs, benchtest.BatchSize)
	for _, c := range []struct {
		name string
		p    keep.Policies
	}{
		{"all", keep.Default()},
		{"errors+5pct", keep.Policies{DefaultRate: 0.05, Policies: []keep.Policy{{Name: "errors", FilterExpression: "fault OR error", KeepRate: 1}}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				st := benchtest.Open(b)
				in := ingest.New(ingest.Config{Store: st, Now: func() time.Time { return now }})
				in.SetKeeper(newTestKeeper(b, c.p))
				for _, batch := range load {
					if r := in.Ingest(context.Background(), batch, ingest.Options{Source: "bench"}); len(r) > 0 {
						b.Fatalf("rejected: %+v", r[0].Error)
					}
				}
				in.Close()
				if err := st.Compact(context.Background()); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(st.DiskUsage())/docs, "disk-bytes/segment")
			}
		})
	}
}
