package clickhouse_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
)

// BenchmarkPrepareDocsClickHouse is the ingest path's write of one
// PutTraceSegments call's documents (50 generated ones, ~4 per trace):
// PrepareDocs, then its commit, one INSERT each. It reports this process's
// CPU per document (cpu-ns/doc: the rows and the HTTP request), with
// CLICKHOUSE_PID the server's (clickhouse-cpu-ns/doc), and with -benchmem
// its allocations. Its instruction counts under callgrind compare builds
// on a loaded machine (docs/clickhouse.md).
func BenchmarkPrepareDocsClickHouse(b *testing.B) {
	ctx := context.Background()
	s := open(b, clickhousetest.NewDatabase(b))
	defer s.Close()
	g := bench.NewGenerator(1)
	at := time.Now().Add(-time.Minute)
	const calls, perCall = 64, 50
	var puts [calls][]store.DocPut
	for c := range puts {
		for n := 0; n < perCall; {
			id, raws := g.Trace(at, 0)
			p := store.DocPut{TraceID: id, Epoch: at.Unix()}
			for _, raw := range raws[:min(len(raws), perCall-n)] {
				p.Docs = append(p.Docs, store.Doc{ID: fmt.Sprintf("%016x", c*perCall+n), Raw: raw})
				n++
			}
			puts[c] = append(puts[c], p)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, ch0 := bench.CPUTime(), clickhousetest.ServerCPU()
	for i := range b.N {
		if err := s.PrepareDocs(puts[i%calls])(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if b.N > 0 {
		b.ReportMetric(float64(bench.CPUTime()-cpu0)/float64(b.N*perCall), "cpu-ns/doc")
		if ch := clickhousetest.ServerCPU() - ch0; ch > 0 {
			b.ReportMetric(float64(ch)/float64(b.N*perCall), "clickhouse-cpu-ns/doc")
		}
	}
}
