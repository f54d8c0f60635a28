package ingest_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
)

// applyCounter is a ClickHouse store that counts Apply calls and the
// lease claims made (every other method is the store's own).
type applyCounter struct {
	*clickhouse.Store
	applies, leases atomic.Int32
}

func (c *applyCounter) Apply(ctx context.Context, us []store.TraceUpdate) error {
	c.applies.Add(1)
	return c.Store.Apply(ctx, us)
}

func (c *applyCounter) LeaseTraces(ctx context.Context, ids []string) ([]string, error) {
	c.leases.Add(1)
	return c.Store.LeaseTraces(ctx, ids)
}

// TestSharedFlushSplitsOnlyLargeBatches: on a shared store a flush of a
// few hundred traces is one part (one lease claim, one Apply), where it
// was split per 64 traces over the cores, each part paying the server its
// own queries and INSERTs; a batch past sharedPerWorker is still split.
func TestSharedFlushSplitsOnlyLargeBatches(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	ctx := context.Background()
	st, err := clickhouse.Open(ctx, clickhousetest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	c := &applyCounter{Store: st}
	in := ingest.New(ingest.Config{Store: c, FlushDelay: time.Hour, MaxFlushDelay: time.Hour})
	t.Cleanup(func() { in.Close(); st.Close() })
	at := time.Now().Add(-time.Minute)
	n := 0
	flush := func(traces int) (applies, leases int32) {
		t.Helper()
		raw := make([][]byte, traces)
		for i := range raw {
			n++
			raw[i] = fmt.Appendf(nil, `{"trace_id":"1-%08x-%024x","id":"%016x","name":"svc","start_time":%d,"end_time":%d}`,
				at.Unix(), n, n, at.Unix(), at.Unix()+1)
		}
		if r := in.Ingest(ctx, raw, ingest.Options{Source: "api"}); len(r) != 0 {
			t.Fatalf("rejected: %+v", r[0].Error)
		}
		a0, l0 := c.applies.Load(), c.leases.Load()
		in.Sync(ctx)
		return c.applies.Load() - a0, c.leases.Load() - l0
	}
	if a, l := flush(300); a != 1 || l != 1 {
		t.Errorf("a flush of 300 traces made %d Apply calls and %d lease claims, want 1 and 1", a, l)
	}
	if a, l := flush(2100); a < 2 || l < 2 {
		t.Errorf("a flush of 2,100 traces made %d Apply calls and %d lease claims, want one per part, at least 2", a, l)
	}
	if got := pending(t, st); got != 0 {
		t.Errorf("%d traces pending after the flushes, want 0", got)
	}
}
