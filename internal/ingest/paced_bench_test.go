package ingest_test

import (
	"context"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// BenchmarkPacedIngestClickHouse ingests b.N generated segments into one
// ingester on ClickHouse at a steady 2,000 segments/s (batches of 50, as
// daemons send them) and reports how many background flushes stored
// summaries per second (flushes/s) and the server's INSERTs per second
// (server-wide system.events, so use a private server): at a steady rate
// each flush costs its INSERTs whatever its size.
func BenchmarkPacedIngestClickHouse(b *testing.B) {
	db := clickhousetest.NewDatabase(b)
	ctx := context.Background()
	st, err := clickhouse.Open(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	in := ingest.New(ingest.Config{Store: st})
	defer func() { in.Close(); st.Close() }()
	var flushes atomic.Int64
	in.AddHook(func(context.Context, []store.TraceUpdate) { flushes.Add(1) })
	const rate, batch = 2000, 50
	batches := bench.NewGenerator(5).Batches(time.Now(), b.N, batch)
	b.ResetTimer()
	ins0, wall := serverInserts(b), time.Now()
	tick := time.NewTicker(time.Second * batch / rate)
	defer tick.Stop()
	var wg sync.WaitGroup
	for _, docs := range batches {
		<-tick.C
		wg.Add(1)
		go func() { // daemons do not wait for each other
			defer wg.Done()
			if r := in.Ingest(ctx, docs, ingest.Options{Source: "bench"}); len(r) != 0 {
				b.Errorf("rejected: %+v", r[0].Error)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(wall)
	n := flushes.Load()
	ins := serverInserts(b) - ins0
	b.StopTimer()
	b.ReportMetric(float64(n)/elapsed.Seconds(), "flushes/s")
	b.ReportMetric(float64(ins)/elapsed.Seconds(), "inserts/s")
}

// serverInserts is the server's count of INSERT queries so far.
func serverInserts(b *testing.B) int64 {
	u, err := url.Parse(os.Getenv("ROENTGEN_CLICKHOUSE_URL"))
	if err != nil {
		b.Fatal(err)
	}
	u.RawQuery = ""
	resp, out := xraytest.Post(b, u.String(), "text/plain", []byte("SELECT value FROM system.events WHERE event = 'InsertQuery'"))
	if resp.StatusCode != 200 {
		b.Fatalf("system.events: %d %s", resp.StatusCode, out)
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	return n
}
