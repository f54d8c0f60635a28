package clickhouse_test

import (
	"context"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/filter"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/keep"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

type keeper struct{ c *keep.Compiled }

func (k keeper) Decide(s *trace.Summary) keep.Decision { return k.c.Decide(s) }
func (keeper) Counted(keep.Decision)                   {}

// BenchmarkKeepDiskClickHouse is BenchmarkKeepDisk (internal/ingest) on
// ClickHouse: the database's bytes on disk after the same generated
// traffic with every trace kept and with "fault OR error 100%, rest 5%",
// once PurgeDropped has deleted the dropped documents and every table is
// merged (OPTIMIZE … FINAL). Run it with -benchtime=1x.
func BenchmarkKeepDiskClickHouse(b *testing.B) {
	const docs = 20_000
	now := time.Now()
	load := bench.NewGenerator(7).Batches(now, docs, 50)
	for _, c := range []struct {
		name string
		p    keep.Policies
	}{
		{"all", keep.Default()},
		{"errors+5pct", keep.Policies{DefaultRate: 0.05, Policies: []keep.Policy{{Name: "errors", FilterExpression: "fault OR error", KeepRate: 1}}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				u := clickhousetest.NewDatabase(b)
				st := open(b, u)
				compiled, err := keep.Compile(c.p, filter.Options{})
				if err != nil {
					b.Fatal(err)
				}
				in := ingest.New(ingest.Config{Store: st})
				in.SetKeeper(keeper{compiled})
				for _, batch := range load {
					if r := in.Ingest(context.Background(), batch, ingest.Options{Source: "bench"}); len(r) > 0 {
						b.Fatalf("rejected: %+v", r[0].Error)
					}
				}
				in.Close()
				if _, err := st.PurgeDropped(context.Background(), now.Add(6*time.Hour)); err != nil {
					b.Fatal(err)
				}
				waitMutations(b, u)
				for _, t := range []string{"traces", "docs", "summaries", "terms", "stats", "dropped"} {
					query(b, u, "OPTIMIZE TABLE "+t+" FINAL")
				}
				b.ReportMetric(float64(st.DiskUsage())/docs, "disk-bytes/segment")
				st.Close()
			}
		})
	}
}
