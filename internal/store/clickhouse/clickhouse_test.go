package clickhouse_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Tests here wait on ClickHouse's latency, not on this process's CPU, so
// every test with databases of its own runs in parallel (t.Parallel) with
// the others (scripts/test.sh runs this package with -parallel 8). The
// tests that set a package-level hook (export_test.go: answers, purges,
// upgrades) see every store's queries, so they stay sequential: Go runs a
// package's sequential tests before it releases any parallel one.
func open(t testing.TB, u string) *clickhouse.Store {
	t.Helper()
	s, err := clickhouse.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConformance runs the store conformance suite against a real
// ClickHouse server, a fresh database per store.
func TestConformance(t *testing.T) {
	t.Parallel()
	clickhousetest.ServerURL(t)
	conformance(t, clickhousetest.NewDatabase)
}

// TestConformanceSharded runs it against Distributed tables over two
// shards (cluster.go), each on its own server.
func TestConformanceSharded(t *testing.T) {
	t.Parallel()
	clickhousetest.ShardsURL(t)
	conformance(t, clickhousetest.NewShardedDatabase)
}

// conformance runs the suite's areas at once, each store in a database of
// its own: the suite waits on the server's latency, not on this process.
func conformance(t *testing.T, newDatabase func(testing.TB) string) {
	var mu sync.Mutex
	urls := map[store.Store]string{}
	storetest.Run(t,
		func(t *testing.T) store.Store {
			u := newDatabase(t)
			s := open(t, u)
			mu.Lock()
			urls[s] = u
			mu.Unlock()
			return s
		},
		storetest.WithReopen(func(t *testing.T, s store.Store) store.Store {
			mu.Lock()
			u := urls[s]
			mu.Unlock()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			r := open(t, u)
			mu.Lock()
			urls[r] = u
			mu.Unlock()
			return r
		}),
		storetest.WithParallel())
}

// TestTracesReadsWhatTraceReads compares the batch read the ingest path
// uses with Trace, trace by trace: summarised, pending, re-put, moved to
// another partition, and unknown traces.
// TestTracesReadsOneSummaryPerTrace: a trace summarised many times (a long
// trace on a shared store, a summary per flush) is read back with its
// newest summary only, not every version stored: the summaries table keeps
// them all.
func TestTracesReadsOneSummaryPerTrace(t *testing.T) {
	s := open(t, clickhousetest.NewDatabase(t))
	defer s.Close()
	ctx := context.Background()
	id := storetest.TraceID(storetest.Base, 7)
	prev := storetest.Summary(id, storetest.Base)
	storetest.Put(t, s, prev, storetest.Doc("aaaaaaaaaaaaaaaa", "a"))
	for i := range 20 {
		next := storetest.Summary(id, storetest.Base)
		next.Duration = float64(i + 1)
		if err := s.Apply(ctx, []store.TraceUpdate{{TraceID: id, Epoch: next.Epoch, Summary: next, Previous: prev}}); err != nil {
			t.Fatal(err)
		}
		prev = next
	}
	var summaries int
	clickhouse.SetAnswerHook(t, func(query string, answer []byte) {
		if strings.Contains(query, "argMax(sum, ver) FROM summaries") { // not the marks' read (marks.go)
			summaries += len(answer)
		}
	})
	got, err := s.Traces(ctx, []string{id})
	if err != nil {
		t.Fatal(err)
	}
	if st := got[id]; st == nil || st.Summary == nil || st.Summary.Duration != 20 {
		t.Fatalf("Traces(%s) = %+v, want the newest summary (duration 20)", id, got[id])
	}
	enc, err := trace.EncodeSummary(prev)
	if err != nil {
		t.Fatal(err)
	}
	if summaries == 0 {
		t.Fatal("no answer of the summaries' read seen: the hook's match is out of date")
	}
	if one := len(enc); summaries > 2*one+64 {
		t.Errorf("the summaries' read brought back %d bytes for one trace whose summary is %d", summaries, one)
	}
}

func TestTracesReadsWhatTraceReads(t *testing.T) {
	t.Parallel()
	s := open(t, clickhousetest.NewDatabase(t))
	defer s.Close()
	ctx := context.Background()
	b := storetest.Base
	summed, pending, moved := storetest.TraceID(b+1, 1), storetest.TraceID(b+2, 2), storetest.TraceID(0x0badcafe, 3)
	storetest.Put(t, s, storetest.Summary(summed, b+1), storetest.Doc("aaaaaaaaaaaaaaaa", "a1"), storetest.Doc("bbbbbbbbbbbbbbbb", "b1"))
	if err := s.PutDocs(ctx, []store.DocPut{{TraceID: summed, Epoch: b + 1, Docs: []store.Doc{storetest.Doc("aaaaaaaaaaaaaaaa", "a2")}},
		{TraceID: pending, Epoch: b + 2, Docs: []store.Doc{storetest.Doc("cccccccccccccccc", "c")}}}); err != nil {
		t.Fatal(err)
	}
	old := storetest.Summary(moved, b+3)
	storetest.Put(t, s, old, storetest.Doc("dddddddddddddddd", "d"))
	next := storetest.Summary(moved, b+2*store.PartitionSeconds)
	if err := s.Apply(ctx, []store.TraceUpdate{{TraceID: moved, Epoch: next.Epoch, Summary: next, Previous: old,
		Docs: []store.Doc{storetest.Doc("eeeeeeeeeeeeeeee", "e")}}}); err != nil {
		t.Fatal(err)
	}
	ids := []string{summed, pending, moved, storetest.TraceID(b, 99)}
	got, err := s.Traces(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Errorf("Traces found %d traces, want 3", len(got))
	}
	for _, id := range ids {
		want, err := s.Trace(ctx, id)
		if err != nil {
			if got[id] != nil {
				t.Errorf("Traces(%s) = %+v, Trace: %v", id, got[id], err)
			}
			continue
		}
		g := got[id]
		if g == nil || fmt.Sprint(g.ID, g.Epoch, g.Docs) != fmt.Sprint(want.ID, want.Epoch, want.Docs) ||
			(g.Summary == nil) != (want.Summary == nil) || (g.Summary != nil && g.Summary.Epoch != want.Summary.Epoch) {
			t.Errorf("Traces(%s) = %+v, Trace = %+v", id, g, want)
		}
	}
	if st := got[summed]; st == nil || len(st.Docs) != 2 || string(st.Docs[0].Raw) != "a2" {
		t.Errorf("re-put trace = %+v, want a2 and b1", st)
	}
	if st := got[moved]; st == nil || len(st.Docs) != 2 || st.Epoch != next.Epoch {
		t.Errorf("moved trace = %+v, want both documents at epoch %d", st, next.Epoch)
	}
}

// TestPreparedDocsKeepTheirOrder: a document prepared later supersedes one
// prepared earlier even when its commit finishes first, as the ingest path
// relies on once it commits outside the trace's lock (store.DocPreparer).
func TestPreparedDocsKeepTheirOrder(t *testing.T) {
	t.Parallel()
	s := open(t, clickhousetest.NewDatabase(t))
	defer s.Close()
	ctx := context.Background()
	id := storetest.TraceID(storetest.Base+1, 1)
	put := func(raw string) []store.DocPut {
		return []store.DocPut{{TraceID: id, Epoch: storetest.Base + 1, Docs: []store.Doc{storetest.Doc("aaaaaaaaaaaaaaaa", raw)}}}
	}
	older, newer := s.PrepareDocs(put("older")), s.PrepareDocs(put("newer"))
	if err := newer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := older(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := s.Trace(ctx, id)
	want := storetest.Doc("aaaaaaaaaaaaaaaa", "newer")
	if err != nil || len(got.Docs) != 1 || string(got.Docs[0].Raw) != string(want.Raw) {
		t.Fatalf("Trace = %+v, %v; want only the document prepared last", got, err)
	}
	n := 0
	if err := s.Pending(ctx, func(string) bool { n++; return true }); err != nil || n != 1 {
		t.Fatalf("%d traces pending (%v), want the one", n, err)
	}
}
