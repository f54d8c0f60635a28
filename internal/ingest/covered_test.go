package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
)

// countingStore is a ClickHouse store that counts the summarising path's
// lease claims, batch reads and summaries stored.
type countingStore struct {
	*clickhouse.Store
	leases, reads, applied atomic.Int64
}

func (s *countingStore) LeaseTraces(ctx context.Context, ids []string) ([]string, error) {
	s.leases.Add(int64(len(ids)))
	return s.Store.LeaseTraces(ctx, ids)
}

func (s *countingStore) Traces(ctx context.Context, ids []string) (map[string]*store.StoredTrace, error) {
	s.reads.Add(int64(len(ids)))
	return s.Store.Traces(ctx, ids)
}

func (s *countingStore) Apply(ctx context.Context, updates []store.TraceUpdate) error {
	s.applied.Add(int64(len(updates)))
	return s.Store.Apply(ctx, updates)
}

// TestSharedStoreSkipsTracesAnotherSummaryCovered splits a trace between
// two ingesters on one ClickHouse database. Once A has summarised it with
// B's documents, B's own summary of them would change nothing: B neither
// leases, reads nor summarises the trace again. A document B receives
// after that is B's alone to summarise, and B does; the stored summary is
// then the one an embedded Roentgen computes from the same documents.
func TestSharedStoreSkipsTracesAnotherSummaryCovered(t *testing.T) {
	db := clickhousetest.NewDatabase(t)
	ctx := context.Background()
	open := func() (*countingStore, *ingest.Ingester) {
		st, err := clickhouse.Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		cs := &countingStore{Store: st}
		in := ingest.New(ingest.Config{Store: cs, FlushDelay: time.Hour, MaxFlushDelay: time.Hour})
		t.Cleanup(func() { in.Close(); st.Close() })
		return cs, in
	}
	stA, inA := open()
	stB, inB := open()

	at := time.Now().Add(-time.Minute)
	id := fmt.Sprintf("1-%08x-%024x", at.Unix(), 9)
	other := fmt.Sprintf("1-%08x-%024x", at.Unix(), 10) // B's alone
	st := float64(at.Unix())
	doc := func(trace string, n int, parent string) string {
		p := ""
		if parent != "" {
			p = fmt.Sprintf(`,"parent_id":%q`, parent)
		}
		return fmt.Sprintf(`{"trace_id":%q,"id":"%016x","name":"svc%d","start_time":%f,"end_time":%f%s}`, trace, n, n, st+float64(n)/10, st+2, p)
	}
	var all []string
	put := func(in *ingest.Ingester, docs ...string) {
		t.Helper()
		raw := make([][]byte, len(docs))
		for i, d := range docs {
			raw[i] = []byte(d)
		}
		all = append(all, docs...)
		if r := in.Ingest(ctx, raw, ingest.Options{Source: "api"}); len(r) != 0 {
			t.Fatalf("rejected: %+v", r[0].Error)
		}
	}
	put(inA, doc(id, 1, ""), doc(id, 2, "0000000000000001"))
	put(inB, doc(id, 3, "0000000000000001"), doc(other, 1, ""))
	inA.Sync(ctx) // reads B's document of id too
	if n := stA.applied.Load(); n != 1 {
		t.Fatalf("A stored %d summaries, want 1", n)
	}
	inB.Sync(ctx)
	if l, r, a := stB.leases.Load(), stB.reads.Load(), stB.applied.Load(); l != 1 || r != 1 || a != 1 {
		t.Errorf("B leased %d, read %d and summarised %d traces; want only its own trace, once each", l, r, a)
	}
	if n := pending(t, stA); n != 0 {
		t.Errorf("%d traces still pending", n)
	}

	put(inB, doc(id, 4, "0000000000000001"))
	inB.Sync(ctx)
	if a := stB.applied.Load(); a != 2 {
		t.Errorf("B summarised %d traces in all, want 2: its new document is in no summary yet", a)
	}
	if n := pending(t, stA); n != 0 {
		t.Errorf("%d traces still pending", n)
	}
	got, err := stA.Trace(ctx, id)
	if err != nil || got.Summary == nil {
		t.Fatalf("stored trace: %+v, %v", got, err)
	}

	if g, w := comparable(t, got.Summary), comparable(t, embeddedSummary(t, id, all)); g != w {
		t.Errorf("summary on ClickHouse\n %s\nembedded\n %s", g, w)
	}
	if got.Summary.SegmentCount != 4 {
		t.Errorf("summary has %d segments, want 4", got.Summary.SegmentCount)
	}
}

// unknownPendingStore is a ClickHouse store whose lookup of pending traces
// fails.
type unknownPendingStore struct{ *countingStore }

func (s unknownPendingStore) PendingAmong(context.Context, []string) ([]string, error) {
	return nil, errors.New("lookup refused")
}

// TestSharedStoreSummarisesAllWhenCoverageIsUnknown: when the lookup of
// the traces still pending fails, a flush summarises every trace it took,
// as before the lookup existed, rather than leave one unsummarised.
func TestSharedStoreSummarisesAllWhenCoverageIsUnknown(t *testing.T) {
	db := clickhousetest.NewDatabase(t)
	ctx := context.Background()
	open := func(failing bool) (*countingStore, *ingest.Ingester) {
		st, err := clickhouse.Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		cs := &countingStore{Store: st}
		var s store.Store = cs
		if failing {
			s = unknownPendingStore{cs}
		}
		in := ingest.New(ingest.Config{Store: s, FlushDelay: time.Hour, MaxFlushDelay: time.Hour})
		t.Cleanup(func() { in.Close(); st.Close() })
		return cs, in
	}
	_, inA := open(false)
	stB, inB := open(true)
	at := time.Now().Add(-time.Minute)
	id := fmt.Sprintf("1-%08x-%024x", at.Unix(), 11)
	st := float64(at.Unix())
	for i, in := range []*ingest.Ingester{inA, inB} {
		d := fmt.Sprintf(`{"trace_id":%q,"id":"%016x","name":"svc","start_time":%f,"end_time":%f}`, id, i+1, st, st+1)
		if r := in.Ingest(ctx, [][]byte{[]byte(d)}, ingest.Options{Source: "api"}); len(r) != 0 {
			t.Fatalf("rejected: %+v", r[0].Error)
		}
	}
	inA.Sync(ctx) // covers B's document
	inB.Sync(ctx)
	if a := stB.applied.Load(); a != 1 {
		t.Errorf("B summarised %d traces, want 1: it cannot know that A's summary covered its document", a)
	}
	if n := pending(t, stB); n != 0 {
		t.Errorf("%d traces still pending", n)
	}
}
