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
// with CLICKHOUSE_PID the server's (clickhouse-cpu-ns/trace), and with
// -benchmem its allocations.
func BenchmarkTracesReadClickHouse(b *testing.B) { benchmarkTracesRead(b, false) }

// BenchmarkTracesReadSplitClickHouse is BenchmarkTracesReadClickHouse with
// each trace's documents stored by two processes, every other one by each,
// as the two-server benchmark leaves them: the reader wrote half of what
// it reads.
func BenchmarkTracesReadSplitClickHouse(b *testing.B) { benchmarkTracesRead(b, true) }

func benchmarkTracesRead(b *testing.B, split bool) {
	ctx := context.Background()
	db := clickhousetest.NewDatabase(b)
	s, other := open(b, db), open(b, db)
	defer s.Close()
	defer other.Close()
	g := bench.NewGenerator(1)
	at := time.Now().Add(-time.Minute)
	var ids []string
	var mine, theirs []store.DocPut
	docs := 0
	for i := range 1000 {
		id, raws := g.Trace(at, 0)
		p, q := store.DocPut{TraceID: id, Epoch: at.Unix()}, store.DocPut{TraceID: id, Epoch: at.Unix()}
		for j, raw := range raws {
			d := store.Doc{ID: fmt.Sprintf("%016x", i*16+j), Raw: raw}
			if !split || j%2 == 0 {
				p.Docs = append(p.Docs, d)
			} else {
				q.Docs = append(q.Docs, d)
			}
		}
		ids, mine, docs = append(ids, id), append(mine, p), docs+len(raws)
		if len(q.Docs) > 0 {
			theirs = append(theirs, q)
		}
	}
	if err := s.PutDocs(ctx, mine); err != nil {
		b.Fatal(err)
	}
	if len(theirs) > 0 {
		if err := other.PutDocs(ctx, theirs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, ch0 := bench.CPUTime(), clickhousetest.ServerCPU()
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
		if ch := clickhousetest.ServerCPU() - ch0; ch > 0 {
			b.ReportMetric(float64(ch)/float64(b.N*len(ids)), "clickhouse-cpu-ns/trace")
		}
	}
}
