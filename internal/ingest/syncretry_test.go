package ingest_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
)

// retryCountingStore is a ClickHouse store that counts its pending lookups
// and its reads of the claims others hold, and runs onHeld before the
// n-th such read.
type retryCountingStore struct {
	*clickhouse.Store
	lookups, heldReads atomic.Int64
	onHeld             func(n int64)
}

func (s *retryCountingStore) PendingAmong(ctx context.Context, ids []string) ([]string, error) {
	s.lookups.Add(1)
	return s.Store.PendingAmong(ctx, ids)
}

func (s *retryCountingStore) HeldByOthers(ctx context.Context, ids []string) ([]string, error) {
	s.onHeld(s.heldReads.Add(1))
	return s.Store.HeldByOthers(ctx, ids)
}

// TestSyncRetryOfHeldTraceReadsOnlyTheClaims: while another process holds
// a trace's lease, each of Sync's retries of it reads only the claims
// others hold, not the pending lookup again; once the other process lets
// go, the retry summarises the trace.
func TestSyncRetryOfHeldTraceReadsOnlyTheClaims(t *testing.T) {
	db := clickhousetest.NewDatabase(t)
	ctx := context.Background()
	open := func() *clickhouse.Store {
		st, err := clickhouse.Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	other := open() // another process, holding the trace
	at := time.Now().Add(-time.Minute)
	id := fmt.Sprintf("1-%08x-%024x", at.Unix(), 11)
	if got, err := other.LeaseTraces(ctx, []string{id}); err != nil || len(got) != 1 {
		t.Fatalf("other process's lease: %v, %v", got, err)
	}
	const freeAt = 2 // the retry on which the other process has let go
	stA := &retryCountingStore{Store: open()}
	stA.onHeld = func(n int64) {
		if n == freeAt {
			if err := other.ReleaseTraces(ctx, []string{id}); err != nil {
				t.Error(err)
			}
		}
	}
	inA := ingest.New(ingest.Config{Store: stA, FlushDelay: time.Hour, MaxFlushDelay: time.Hour})
	t.Cleanup(inA.Close)
	st := float64(at.Unix())
	doc := fmt.Sprintf(`{"trace_id":%q,"id":"%016x","name":"svc","start_time":%f,"end_time":%f}`, id, 1, st, st+1)
	if r := inA.Ingest(ctx, [][]byte{[]byte(doc)}, ingest.Options{Source: "api"}); len(r) != 0 {
		t.Fatalf("rejected: %+v", r[0].Error)
	}

	inA.Sync(ctx, id)
	if n := stA.heldReads.Load(); n != freeAt {
		t.Errorf("Sync read the claims %d times, want %d (one per retry)", n, freeAt)
	}
	// One before the lease was refused, one once it was free.
	if n := stA.lookups.Load(); n != 2 {
		t.Errorf("Sync made %d pending lookups, want 2", n)
	}
	got, err := stA.Trace(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Summary == nil || got.Summary.SegmentCount != 1 {
		t.Fatalf("stored summary after Sync: %+v", got.Summary)
	}
	if n := pending(t, stA); n != 0 {
		t.Errorf("%d traces still pending", n)
	}
}
