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

// BenchmarkTracesReadClickHouse is a flush's read of its traces back
// (Traces: where each is filed, its summary, every document), for 1,000
// generated traces of ~4 documents each, pending as the ingest path leaves
// them. It reports this process's CPU per trace read (cpu-ns/trace: the
// decoding of the answers and the HTTP round trips, not the server's),
// and with -benchmem its allocations.
func BenchmarkTracesReadClickHouse(b *testing.B) {
	ctx := context.Background()
	s := open(b, clickhousetest.NewDatabase(b))
	defer s.Close()
	g := bench.NewGenerator(1)
	at := time.Now().Add(-time.Minute)
	var ids []string
	var puts []store.DocPut
	docs := 0
	for i := range 1000 {
		id, raws := g.Trace(at, 0)
		p := store.DocPut{TraceID: id, Epoch: at.Unix()}
		for j, raw := range raws {
			p.Docs = append(p.Docs, store.Doc{ID: fmt.Sprintf("%016x", i*16+j), Raw: raw})
		}
		ids, puts, docs = append(ids, id), append(puts, p), docs+len(raws)
	}
	if err := s.PutDocs(ctx, puts); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := bench.CPUTime()
	for range b.N {
		got, err := s.Traces(ctx, ids)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, st := range got {
			n += len(st.Docs)
		}
		if len(got) != len(ids) || n != docs {
			b.Fatalf("read %d traces of %d documents, want %d of %d", len(got), n, len(ids), docs)
		}
	}
	b.StopTimer()
	if b.N > 0 {
		b.ReportMetric(float64(bench.CPUTime()-cpu0)/float64(b.N*len(ids)), "cpu-ns/trace")
	}
}
