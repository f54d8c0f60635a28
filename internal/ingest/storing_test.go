package ingest_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
)

// preparing is the real store as a store.DocPreparer whose first commit
// waits at a gate, as a slow INSERT to ClickHouse would.
type preparing struct {
	*pebble.Store
	prepared   atomic.Int32
	committing chan struct{} // closed when the first commit starts
	gate       chan struct{} // the first commit waits for it
}

func (p *preparing) PrepareDocs(puts []store.DocPut) func(context.Context) error {
	n := p.prepared.Add(1)
	return func(ctx context.Context) error {
		if n == 1 {
			close(p.committing)
			<-p.gate
		}
		return p.Store.PutDocs(ctx, puts)
	}
}

// TestWriteStagedWhileAnotherIsStoringSeesIt: with a DocPreparer store a
// write gives up its traces' locks while its documents travel, so a write
// of the same trace can stage meanwhile. It must neither wait for that
// round trip nor miss its documents: a late in-progress version of a
// document whose complete version is on its way is no change.
func TestWriteStagedWhileAnotherIsStoringSeesIt(t *testing.T) {
	pst, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pst.Close() })
	st := &preparing{Store: pst, committing: make(chan struct{}), gate: make(chan struct{})}
	in := ingest.New(ingest.Config{Store: st, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(in.Close)
	ctx := context.Background()
	id := traceID(50)
	done := seg(id, "aaaaaaaaaaaaaaaa", "svc", "")
	late := fmt.Sprintf(`{"trace_id":%q,"id":"aaaaaaaaaaaaaaaa","name":"svc","start_time":%f,"in_progress":true}`, id, t0)

	// Enough documents that lookups in them use an index.
	docs := [][]byte{[]byte(done)}
	for i := 1; i < 40; i++ {
		docs = append(docs, []byte(seg(id, fmt.Sprintf("%016x", i), "svc", "")))
	}
	first := make(chan []ingest.Rejection, 1)
	go func() { first <- in.Ingest(ctx, docs, ingest.Options{Source: "api"}) }()
	<-st.committing
	lates := make(chan []ingest.Rejection, 2)
	for range 2 {
		go func() { lates <- in.Ingest(ctx, [][]byte{[]byte(late)}, ingest.Options{Source: "api"}) }()
	}
	for range 2 {
		if r := <-lates; len(r) != 0 {
			t.Fatalf("late in-progress: rejections %+v", r)
		}
	}
	if n := st.prepared.Load(); n != 1 {
		t.Errorf("%d puts prepared, want 1: the in-progress version was stored over the complete one in flight", n)
	}
	close(st.gate)
	if r := <-first; len(r) != 0 {
		t.Fatalf("complete: rejections %+v", r)
	}
	in.Sync(ctx, id)
	got, err := pst.Trace(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var a string
	for _, d := range got.Docs {
		if d.ID == "aaaaaaaaaaaaaaaa" {
			a = string(d.Raw)
		}
	}
	if len(got.Docs) != 40 || a != done || got.Summary == nil || got.Summary.IsPartial {
		t.Fatalf("stored %d documents, the first %s, summary %+v; want 40, the complete one, summarised", len(got.Docs), a, got.Summary)
	}
}
