package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/app"
	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
	"github.com/roentgen-tracing/roentgen/internal/xraytest/benchtest"
)

// docStore opens (building on first use, under ROENTGEN_BENCH_DIR or the
// temp dir) a store of n generated traces of ~4 segments with their
// documents, spread over the 10 hours before it was built. Building goes
// straight to Store.Apply from 256 parsed templates whose trace ids are
// rewritten, so a 1e6-trace store takes minutes, not the ingest time.
func docStore(b *testing.B, n int) *pebble.Store {
	b.Helper()
	st, _ := benchtest.Cached(b, benchtest.Name("docs-l13", n), func(st *pebble.Store, end int64) {
		p := benchtest.NewTraces(b, 7, 256, end)
		batch := make([]store.TraceUpdate, 0, 250)
		for i := range n {
			batch = append(batch, p.Update(i, end-36000+int64(i)*36000/int64(n)))
			if len(batch) == cap(batch) || i == n-1 {
				benchtest.Apply(b, st, batch, len(batch))
				batch = batch[:0]
			}
		}
	})
	return st
}

// BenchmarkBatchGetTraces reads one 20-segment trace by id over real HTTP
// from a store of ROENTGEN_BENCH_TRACES (default 1e6) other traces, once
// the trace is flushed to disk, and
// reports p50 and p99 latency. The target is p50 <= 2 ms at 1e6.
func BenchmarkBatchGetTraces(b *testing.B) {
	st := docStore(b, benchTraces())
	now := time.Now()
	in := ingest.New(ingest.Config{Store: st, Now: func() time.Time { return now }})
	id, docs := bench.NewGenerator(uint64(now.UnixNano())).Trace(now, 20)
	if r := in.Ingest(context.Background(), docs, ingest.Options{Source: "bench"}); len(r) > 0 {
		b.Fatalf("rejected: %+v", r[0].Error)
	}
	// Read from tables, not from the memtable the trace was just put in.
	in.Sync(context.Background(), id)
	if err := st.Flush(); err != nil {
		b.Fatal(err)
	}
	srv, _, err := app.Wire(context.Background(), app.Parts{Store: st, Ingest: in})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(in.Close)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	body, _ := json.Marshal(map[string]any{"TraceIds": []string{id}})
	client := hs.Client()
	var lat []time.Duration
	for b.Loop() {
		t0 := time.Now()
		resp, err := client.Post(hs.URL+"/Traces", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		var out struct {
			Traces []struct{ Segments []json.RawMessage }
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		lat = append(lat, time.Since(t0))
		if err != nil || resp.StatusCode != http.StatusOK || len(out.Traces) != 1 || len(out.Traces[0].Segments) < 20 {
			b.Fatalf("BatchGetTraces: HTTP %d, %v, %+v", resp.StatusCode, err, out)
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
