package pebble

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// No flushed or compacted table of the documents LSM spans a cut
// (tableCuts): a flush writes pending marks and documents, and a table from
// the one into the other would overlap every older document below.
func TestTablesEndAtCuts(t *testing.T) {
	s, err := Open(t.TempDir(), Options{CombineStats: graph.CombineStats, MemTableBytes: 1 << 20, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	g := bench.NewGenerator(5)
	g.TraceSize = 1
	now := time.Now()
	pt, err := g.ParsedTrace(now)
	if err != nil {
		t.Fatal(err)
	}
	template := trace.Summarize(trace.Assemble(pt), nil, float64(now.Unix()))
	delta := (&graph.Stats{OK: 1, Response: graph.Histogram{{Ms: 3, Count: 1}}}).Encode()
	ctx := context.Background()
	for b := range 30 {
		var puts []store.DocPut
		var ups []store.TraceUpdate
		for i := range 100 {
			ep := now.Unix() - 30 + int64(b)
			id := g.TraceID(time.Unix(ep, 0))
			p := docPut(id, 2, 1000)
			p.Epoch = ep
			puts = append(puts, p)
			sum := *template
			sum.TraceID, sum.Epoch = id, ep
			ups = append(ups, store.TraceUpdate{TraceID: id, Epoch: ep, Summary: &sum, Stats: []store.StatRecord{{
				StatKey: store.StatKey{Resolution: 60, Bucket: ep - ep%60, Group: "Default", Entity: fmt.Sprint("svc", i%8)}, Value: delta}}})
		}
		if err := s.PutDocs(ctx, puts); err != nil {
			t.Fatal(err)
		}
		if err := s.Apply(ctx, ups[:50]); err != nil { // half the marks left pending
			t.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	checkCuts(t, s.docs, tableCuts[documentsLSM])
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	checkCuts(t, s.docs, tableCuts[documentsLSM])
}

func checkCuts(t *testing.T, db *pebble.DB, cuts [][]byte) {
	t.Helper()
	levels, err := db.SSTables()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for l, tables := range levels {
		for _, tb := range tables {
			n++
			for _, c := range cuts {
				if bytes.Compare(tb.Smallest.UserKey, c) < 0 && bytes.Compare(tb.Largest.UserKey, c) >= 0 {
					t.Errorf("L%d table %s spans %q: %q .. %q", l, tb.FileNum, c, tb.Smallest.UserKey, tb.Largest.UserKey)
				}
			}
		}
	}
	if n < 2 {
		t.Errorf("%d tables", n)
	}
}
