package app_test

import (
	"context"
	"math"
	"net/url"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
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
// per segment of Roentgen (both servers, in this process), of the senders
// (a child process, senders_test.go) and, when CLICKHOUSE_PID names it, of the
// ClickHouse server.
func BenchmarkTwoServersIngestClickHouse(b *testing.B) {
	// The collector paced as `roentgen` paces it (cmd/roentgen: GOGC=200
	// unless GOGC is set), so the garbage collector's share is the product's.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(200))
	}
	dumpStallsOnSignal(b)
	db := clickhousetest.NewDatabase(b)
	onCH := func(c *app.Config) { c.Role, c.Store, c.UDPAddr, c.TCPAddr = app.RoleServer, db, "", "" }
	servers := []*xraytest.Server{xraytest.Start(b, onCH), xraytest.Start(b, onCH)}
	rate := traceRate(b)
	at := time.Now().Add(-time.Duration(math.Floor(float64(b.N)/4/rate)+1) * time.Second)
	senders := startSenders(b, at, rate, b.N, servers[0].URL("http"), servers[1].URL("http"))
	chCPU := clickhousetest.ServerCPU
	inserts := func() int64 { return clickhouseEvent(b, "InsertQuery") }
	rows := func() int64 { return clickhouseEvent(b, "InsertedRows") }
	selects := func() int64 { return clickhouseEvent(b, "SelectQuery") }
	b.ResetTimer()
	faults0, sys0 := processFaults()
	gcs0 := gcCycles()
	cpu, ch0, ins0, rows0, sel0, wall := bench.CPUTime(), chCPU(), inserts(), rows(), selects(), time.Now()
	sendersCPU := senders.run(b)
	for _, s := range servers {
		s.Ingester().Sync(context.Background())
	}
	elapsed := time.Since(wall)
	serversCPU := bench.CPUTime() - cpu
	faults1, sys1 := processFaults()
	gcs := gcCycles() - gcs0
	b.StopTimer()
	// cpu-ns/op is both servers' and the senders' together, as it was when
	// the senders ran in this process; the issue counts the servers'.
	b.ReportMetric(float64(serversCPU+sendersCPU)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(serversCPU)/float64(b.N), "server-cpu-ns/op")
	b.ReportMetric(float64(sendersCPU)/float64(b.N), "sender-cpu-ns/op")
	// The servers' page faults, kernel time and collections: a fresh
	// process's heap grows through the whole run (its caches fill), and
	// on this VM a first write to a page costs 11–15 µs (BenchmarkFirstTouch),
	// so a first run in a process costs about twice what the same work
	// costs once the heap has grown: -count=3, the later runs
	// (docs/clickhouse.md, "A fresh process's servers").
	b.ReportMetric(float64(faults1-faults0)*1000/float64(b.N), "server-faults/1k")
	b.ReportMetric(float64(sys1-sys0)/float64(b.N), "server-sys-ns/op")
	b.ReportMetric(float64(gcs), "gc-cycles")
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

// processFaults is this process's minor page faults so far and its CPU time
// in the kernel.
func processFaults() (faults int64, sys time.Duration) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0
	}
	return ru.Minflt, time.Duration(ru.Stime.Nano())
}

// gcCycles is the number of garbage collections this process has completed.
func gcCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
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

// BenchmarkFirstTouch is what a page costs the first time a process writes
// it (a minor fault: the kernel maps and zeroes it), per 4 KiB page, with
// its user and kernel CPU apart. A growing heap pays it for every page; on
// this project's VM it is 11–15 µs of CPU, a few hundred times a write to a
// mapped page, so BenchmarkTwoServersIngestClickHouse reports its faults.
//
//	go test ./internal/app/ -run '^$' -bench FirstTouch
func BenchmarkFirstTouch(b *testing.B) {
	const size, page = 64 << 20, 4096
	var faults, user, sys int64
	for range b.N {
		m, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
		if err != nil {
			b.Fatal(err)
		}
		var r0, r1 syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
		for i := 0; i < size; i += page {
			m[i] = 1
		}
		syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
		faults += r1.Minflt - r0.Minflt
		user += r1.Utime.Nano() - r0.Utime.Nano()
		sys += r1.Stime.Nano() - r0.Stime.Nano()
		if err := syscall.Munmap(m); err != nil {
			b.Fatal(err)
		}
	}
	pages := float64(b.N) * size / page
	b.ReportMetric(float64(faults)/pages, "faults/page")
	b.ReportMetric(float64(user)/pages, "user-ns/page")
	b.ReportMetric(float64(sys)/pages, "sys-ns/page")
	b.ReportMetric(b.Elapsed().Seconds()*1e9/pages, "ns/page")
}
