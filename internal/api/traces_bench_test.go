package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/api"
	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// docStore opens (building on first use, under ROENTGEN_BENCH_DIR or the
// temp dir) a store of n generated traces of ~4 segments with their
// documents, spread over the 10 hours before it was built. Building goes
// straight to Store.Apply from 256 parsed templates whose trace ids are
// rewritten, so a 1e6-trace store takes minutes, not the ingest time.
func docStore(b *testing.B, n int) *pebble.Store {
	b.Helper()
	root := os.Getenv("ROENTGEN_BENCH_DIR")
	if root == "" {
		root = os.TempDir()
	}
	dir := filepath.Join(root, fmt.Sprintf("roentgen-docs-bench-%d", n))
	done := filepath.Join(dir, "built")
	var end int64
	if raw, err := os.ReadFile(done); err == nil {
		end, _ = strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
	}
	if end == 0 || time.Since(time.Unix(end, 0)) > 20*24*time.Hour {
		os.RemoveAll(dir)
		end = time.Now().Unix()
		st, err := pebble.Open(dir, pebble.Options{})
		if err != nil {
			b.Fatal(err)
		}
		type template struct {
			id   string
			docs []store.Doc
			sum  *trace.Summary
		}
		g := bench.NewGenerator(7)
		var pool []template
		for range 256 {
			id, raws := g.Trace(time.Unix(end, 0), 0)
			tr := &trace.Trace{ID: id}
			var docs []store.Doc
			for _, r := range raws {
				segs, err := segment.Parse(r, segment.Options{Now: time.Unix(end, 0)})
				if err != nil {
					b.Fatal(err)
				}
				tr.Put(segs...)
				docs = append(docs, store.Doc{ID: segs[0].ID, Raw: r})
			}
			pool = append(pool, template{id: id, docs: docs, sum: trace.Summarize(trace.Assemble(tr), nil, float64(end))})
		}
		start := time.Now()
		batch := make([]store.TraceUpdate, 0, 250)
		for i := range n {
			t := pool[i%len(pool)]
			ep := end - 36000 + int64(i)*36000/int64(n)
			id := g.TraceID(time.Unix(ep, 0))
			sum := *t.sum
			sum.TraceID, sum.Epoch = id, ep
			u := store.TraceUpdate{TraceID: id, Epoch: ep, Summary: &sum}
			for _, d := range t.docs {
				u.Docs = append(u.Docs, store.Doc{ID: d.ID, Raw: bytes.ReplaceAll(d.Raw, []byte(t.id), []byte(id))})
			}
			batch = append(batch, u)
			if len(batch) == cap(batch) || i == n-1 {
				if err := st.Apply(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		b.Logf("built %d traces in %v", n, time.Since(start))
		if err := os.WriteFile(done, []byte(strconv.FormatInt(end, 10)), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	st, err := pebble.Open(dir, pebble.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// BenchmarkBatchGetTraces reads one 20-segment trace by id over real HTTP
// from a store of ROENTGEN_BENCH_TRACES (default 1e6) other traces, and
// reports p50 and p99 latency. The target is p50 <= 2 ms at 1e6.
func BenchmarkBatchGetTraces(b *testing.B) {
	st := docStore(b, benchTraces())
	now := time.Now()
	in := ingest.New(ingest.Config{Store: st, Now: func() time.Time { return now }})
	id, docs := bench.NewGenerator(uint64(now.UnixNano())).Trace(now, 20)
	if r := in.Ingest(context.Background(), docs, ingest.Options{Source: "bench"}); len(r) > 0 {
		b.Fatalf("rejected: %+v", r[0].Error)
	}
	srv, err := api.New(api.Config{Store: st, Ingest: in})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
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
