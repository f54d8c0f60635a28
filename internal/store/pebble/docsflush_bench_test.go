package pebble_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
)

// generatedPuts are n generated ~4-segment traces as PutDocs calls of
// ~50 documents, their content as varied as the harness's (benchtest's
// templates repeat, which flatters compression).
func generatedPuts(tb testing.TB, n int) [][]store.DocPut {
	tb.Helper()
	g := bench.NewGenerator(1)
	at := time.Now()
	var calls [][]store.DocPut
	var call []store.DocPut
	docs := 0
	for i := range n {
		id, raw := g.Trace(at.Add(time.Duration(i)*80*time.Microsecond), 0)
		ep, ok := segment.TraceEpoch(id)
		if !ok {
			tb.Fatalf("trace id %q", id)
		}
		p := store.DocPut{TraceID: id, Epoch: ep}
		for j, d := range raw {
			p.Docs = append(p.Docs, store.Doc{ID: fmt.Sprintf("%016x", i<<4|j), Raw: append([]byte(nil), d...)})
		}
		call = append(call, p)
		if docs += len(raw); docs >= 50 {
			calls, call, docs = append(calls, call), nil, 0
		}
	}
	return append(calls, call)
}

// BenchmarkPutDocsFlush writes 20,000 generated traces' documents (~92 MB,
// three memtables) into a new store and flushes it: the documents LSM's
// memtable inserts, write-ahead log and flushes into blob files, the bulk
// of the bytes ingest writes. One op is the whole store; count it with
// callgrind (-test.benchtime 1x), whose instruction counts repeat.
func BenchmarkPutDocsFlush(b *testing.B) { benchPutDocs(b, false) }

// BenchmarkPutDocsCompact is BenchmarkPutDocsFlush compacting the store
// fully after the flush: the documents LSM's key tables (keys and blob
// handles, the pending marks) rewritten into the bottom level.
func BenchmarkPutDocsCompact(b *testing.B) { benchPutDocs(b, true) }

func benchPutDocs(b *testing.B, compact bool) {
	calls := generatedPuts(b, 20_000)
	docs := 0
	for _, c := range calls {
		for _, p := range c {
			docs += len(p.Docs)
		}
	}
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		st, err := pebble.Open(dir, pebble.Options{CombineStats: graph.CombineStats})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for _, c := range calls {
			if err := st.PutDocs(context.Background(), c); err != nil {
				b.Fatal(err)
			}
		}
		if err := st.Flush(); err != nil {
			b.Fatal(err)
		}
		if compact {
			if err := st.Compact(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(blobBytes(b, dir))/float64(docs), "blob-bytes/doc")
		b.ReportMetric(float64(tableBytes(b, filepath.Join(dir, "documents")))/float64(docs), "table-bytes/doc")
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkApplyCompact applies 20,000 traces' updates (summaries, index
// terms and statistics: the main and index LSMs, no documents) to a new
// store, then flushes and compacts it fully: every byte the main LSM
// writes passes a flush and a compaction into the bottom level once, as a
// long-running store's do. One op is the whole store; count it with
// callgrind (-test.benchtime 1x).
func BenchmarkApplyCompact(b *testing.B) {
	us := updates(b, 20_000, time.Now().Unix())
	for i := range us {
		us[i].Docs = nil
	}
	for b.Loop() {
		b.StopTimer()
		st, err := pebble.Open(b.TempDir(), pebble.Options{CombineStats: graph.CombineStats})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for i := 0; i < len(us); i += 12 {
			if err := st.Apply(context.Background(), us[i:min(i+12, len(us))]); err != nil {
				b.Fatal(err)
			}
		}
		if err := st.Compact(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// tableBytes sums the tables (.sst) in dir.
func tableBytes(tb testing.TB, dir string) int64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var n int64
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sst") {
			info, err := e.Info()
			if err != nil {
				tb.Fatal(err)
			}
			n += info.Size()
		}
	}
	return n
}
