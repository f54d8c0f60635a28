// Package benchtest is what Roentgen's benchmarks share to set up: Pebble
// stores (temporary, or built once and kept across runs), generated traces
// stamped into store updates, and a generated ingest load.
package benchtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Open is an empty Pebble store in a temp dir, closed in tb.Cleanup.
func Open(tb testing.TB) *pebble.Store {
	tb.Helper()
	st, err := pebble.Open(tb.TempDir(), pebble.Options{CombineStats: graph.CombineStats})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// Cached opens the store named name (a directory under ROENTGEN_BENCH_DIR,
// default the temp dir), first calling build on an empty one when it was
// never built or its data, built at end, has aged past 20 days (trace ids
// must be younger than 30 days for a real server). It returns the store,
// closed in b.Cleanup, and end.
func Cached(b *testing.B, name string, build func(st *pebble.Store, end int64)) (*pebble.Store, int64) {
	b.Helper()
	root := os.Getenv("ROENTGEN_BENCH_DIR")
	if root == "" {
		root = os.TempDir()
	}
	dir := filepath.Join(root, name)
	done := filepath.Join(dir, "built")
	var end int64
	if raw, err := os.ReadFile(done); err == nil {
		end, _ = strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
	}
	if end == 0 || time.Since(time.Unix(end, 0)) > 20*24*time.Hour {
		os.RemoveAll(dir)
		end = time.Now().Unix()
		st, err := pebble.Open(dir, pebble.Options{CombineStats: graph.CombineStats})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		build(st, end)
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		b.Logf("built %s in %v", name, time.Since(start))
		if err := os.WriteFile(done, []byte(strconv.FormatInt(end, 10)), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	st, err := pebble.Open(dir, pebble.Options{CombineStats: graph.CombineStats})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st, end
}

// Apply stores updates in batches of size.
func Apply(tb testing.TB, st store.Store, us []store.TraceUpdate, size int) {
	tb.Helper()
	for i := 0; i < len(us); i += size {
		if err := st.Apply(context.Background(), us[i:min(i+size, len(us))]); err != nil {
			tb.Fatal(err)
		}
	}
}

// Traces is a pool of generated ~4-segment traces, parsed and summarized
// once, that Update stamps with new trace ids: building a store of 1e6
// traces through Store.Apply takes minutes, not the ingest time.
type Traces struct {
	g    *bench.Generator
	pool []template
}

type template struct {
	id   string
	docs []store.Doc
	sum  *trace.Summary
}

// NewTraces generates n templates with bench.NewGenerator(seed), as of end.
func NewTraces(tb testing.TB, seed uint64, n int, end int64) *Traces {
	tb.Helper()
	g := bench.NewGenerator(seed)
	p := &Traces{g: g}
	for range n {
		id, raws := g.Trace(time.Unix(end, 0), 0)
		tr := &trace.Trace{ID: id}
		var docs []store.Doc
		for _, r := range raws {
			segs, err := segment.Parse(r, segment.Options{Now: time.Unix(end, 0)})
			if err != nil {
				tb.Fatal(err)
			}
			tr.Put(segs...)
			docs = append(docs, store.Doc{ID: segs[0].ID, Raw: r})
		}
		p.pool = append(p.pool, template{id: id, docs: docs, sum: trace.Summarize(trace.Assemble(tr), nil, float64(end))})
	}
	return p
}

// Update is the i-th template (round robin) as a new trace in epoch ep,
// documents and summary included.
func (p *Traces) Update(i int, ep int64) store.TraceUpdate {
	t := p.pool[i%len(p.pool)]
	id := p.g.TraceID(time.Unix(ep, 0))
	sum := *t.sum
	sum.TraceID, sum.Epoch = id, ep
	u := store.TraceUpdate{TraceID: id, Epoch: ep, Summary: &sum}
	for _, d := range t.docs {
		u.Docs = append(u.Docs, store.Doc{ID: d.ID, Raw: bytes.ReplaceAll(d.Raw, []byte(t.id), []byte(id))})
	}
	return u
}

// Load is generated ingest traffic: 200,000 batches of 50 documents as of
// a time, as the daemon sends them.
type Load struct {
	batches [][][]byte
	next    atomic.Int64
}

// BatchSize is the documents in one batch of a Load.
const BatchSize = 50

// NewLoad generates the batches (before the benchmark's timer starts).
func NewLoad(now time.Time) *Load { return NewLoadOf(now, 0) }

// NewLoadOf is NewLoad of traces of traceSize segments (bench.Generator's
// TraceSize: 0 mixed, 1 single-segment traces).
func NewLoadOf(now time.Time, traceSize int) *Load {
	g := bench.NewGenerator(1)
	g.TraceSize = traceSize
	return &Load{batches: g.Batches(now, 200_000, BatchSize)}
}

// Run ingests one batch per op on every core concurrently.
func (l *Load) Run(b *testing.B, in *ingest.Ingester) {
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := l.next.Add(1) - 1
			if i >= int64(len(l.batches)) {
				b.Fatal("ran out of generated batches; raise the count")
			}
			if r := in.Ingest(ctx, l.batches[i], ingest.Options{Source: "bench"}); len(r) > 0 {
				b.Fatalf("rejected: %+v", r[0].Error)
			}
		}
	})
}

// Segments is how many documents Run has ingested.
func (l *Load) Segments() float64 { return float64(l.next.Load() * BatchSize) }

// Name is a cached store's directory name for n traces of a kind.
func Name(kind string, n int) string { return fmt.Sprintf("roentgen-%s-bench-%d", kind, n) }
