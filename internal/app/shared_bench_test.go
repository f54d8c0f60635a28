package app_test

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/app"
	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// BenchmarkTwoServersIngestClickHouse sends b.N generated segments in
// PutTraceSegments batches of 50 from 32 senders, alternating between two servers on one
// ClickHouse database (so most traces are split between them), and waits
// until both have summarised everything. It reports segments/s and the CPU
// per segment of Roentgen (this process: both servers and the senders) and,
// when CLICKHOUSE_PID names it, of the ClickHouse server.
func BenchmarkTwoServersIngestClickHouse(b *testing.B) {
	// The collector paced as `roentgen` paces it (cmd/roentgen: GOGC=200
	// unless GOGC is set), so the garbage collector's share is the product's.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(200))
	}
	db := clickhousetest.NewDatabase(b)
	onCH := func(c *app.Config) { c.Role, c.Store, c.UDPAddr, c.TCPAddr = app.RoleServer, db, "", "" }
	servers := []*xraytest.Server{xraytest.Start(b, onCH), xraytest.Start(b, onCH)}
	batches := bench.NewGenerator(1).Batches(time.Now().Add(-time.Duration(b.N/4/bench.NominalTraceRate+1)*time.Second), b.N, 50)
	bodies := make([][]byte, len(batches))
	for i, batch := range batches {
		docs := make([]string, len(batch))
		for j, d := range batch {
			docs[j] = string(d)
		}
		bodies[i], _ = json.Marshal(map[string]any{"TraceSegmentDocuments": docs})
	}
	chCPU := clickhousetest.ServerCPU
	inserts := func() int64 { return clickhouseEvent(b, "InsertQuery") }
	rows := func() int64 { return clickhouseEvent(b, "InsertedRows") }
	selects := func() int64 { return clickhouseEvent(b, "SelectQuery") }
	b.ResetTimer()
	cpu, ch0, ins0, rows0, sel0, wall := bench.StartCPU(), chCPU(), inserts(), rows(), selects(), time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 32 { // daemons on many hosts
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(bodies)) {
					return
				}
				resp, out := xraytest.Post(b, servers[i%2].URL("http")+"/TraceSegments", "application/json", bodies[i])
				if resp.StatusCode != 200 || strings.Contains(string(out), `"Id"`) {
					b.Errorf("PutTraceSegments: %d %.300s", resp.StatusCode, out)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, s := range servers {
		s.Ingester().Sync(context.Background())
	}
	elapsed := time.Since(wall)
	b.StopTimer()
	cpu.Report(b)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "segments/s")
	if ch := chCPU() - ch0; ch > 0 {
		b.ReportMetric(float64(ch)/float64(b.N), "clickhouse-cpu-ns/op")
	}
	// Server-wide, so other databases' INSERTs on a shared server count.
	b.ReportMetric(float64(inserts()-ins0), "inserts")
	b.ReportMetric(float64(selects()-sel0), "selects")
	b.ReportMetric(float64(rows()-rows0)/float64(b.N), "rows/op")
	// The database's own: summaries stored (a version per summary of a
	// trace) and index terms, per 1,000 segments.
	u, _ := url.Parse(db)
	for _, table := range []string{"summaries", "terms"} {
		b.ReportMetric(1000*float64(clickhouseCount(b, strings.TrimPrefix(u.Path, "/")+"."+table))/float64(b.N), table+"/1k")
	}
}

// clickhouseCount is the number of rows of a table.
func clickhouseCount(b *testing.B, table string) int64 {
	return clickhouseQuery(b, "SELECT count() FROM "+table)
}

// clickhouseEvent reads a server-wide counter of system.events.
func clickhouseEvent(b *testing.B, name string) int64 {
	return clickhouseQuery(b, "SELECT value FROM system.events WHERE event = '"+name+"'")
}

// clickhouseQuery is the number a query of the test server answers.
func clickhouseQuery(b *testing.B, query string) int64 {
	u, err := url.Parse(os.Getenv("ROENTGEN_CLICKHOUSE_URL"))
	if err != nil {
		b.Fatal(err)
	}
	u.RawQuery = "" // the store's options are not settings of the server
	resp, out := xraytest.Post(b, u.String(), "text/plain",
		[]byte(query))
	if resp.StatusCode != 200 {
		b.Fatalf("%s: %d %s", query, resp.StatusCode, out)
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	return n
}
