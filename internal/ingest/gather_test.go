package ingest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
)

// TestSharedStoreGathersReadyTracesForTenTurns: on a shared store the
// background flush summarises ready traces at most once every ten turns
// (a second of ticks), since each flush costs its INSERTs whatever its
// size; a trace ready meanwhile waits for the tenth turn, not longer. The
// turns are counted by a hook, not timed.
func TestSharedStoreGathersReadyTracesForTenTurns(t *testing.T) {
	db := clickhousetest.NewDatabase(t)
	ctx := context.Background()
	st, err := clickhouse.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	in := ingest.New(ingest.Config{Store: st, FlushDelay: time.Nanosecond})
	t.Cleanup(func() { in.Close(); st.Close() })

	var mu sync.Mutex
	turn := 0                        // turns of the flush loop completed
	summarisedAt := map[string]int{} // trace → the turn that summarised it
	done := make(chan string, 4)
	in.AddHook(func(_ context.Context, us []store.TraceUpdate) {
		mu.Lock()
		defer mu.Unlock()
		for _, u := range us {
			if _, ok := summarisedAt[u.TraceID]; !ok {
				summarisedAt[u.TraceID] = turn
				done <- u.TraceID
			}
		}
	})
	in.AfterFlushTurn(func() { mu.Lock(); turn++; mu.Unlock() })

	at := time.Now().Add(-time.Minute)
	send := func(n int) (id string, turnAfter int) {
		id = fmt.Sprintf("1-%08x-%024x", at.Unix(), n)
		d := fmt.Sprintf(`{"trace_id":%q,"id":"%016x","name":"svc","start_time":%f,"end_time":%f}`, id, n, float64(at.Unix()), float64(at.Unix())+0.5)
		if r := in.Ingest(ctx, [][]byte{[]byte(d)}, ingest.Options{Source: "api"}); len(r) != 0 {
			t.Fatalf("rejected: %+v", r[0].Error)
		}
		mu.Lock()
		defer mu.Unlock()
		return id, turn
	}
	wait := func(id string) int {
		t.Helper()
		for got := range done {
			if got == id {
				mu.Lock()
				defer mu.Unlock()
				return summarisedAt[id]
			}
		}
		return -1
	}

	a, _ := send(1)
	turnA := wait(a) // the first ready trace goes at once
	b, sentB := send(2)
	turnB := wait(b)
	if turnB < turnA+10 {
		t.Errorf("the second trace was summarised %d turns after the first; want 10 or more", turnB-turnA)
	}
	// Sent at turn sentB (a turn in progress may have looked before it).
	if limit := max(turnA+10, sentB+1); turnB > limit {
		t.Errorf("the second trace, sent at turn %d, was summarised at turn %d, the first at %d: want by turn %d", sentB, turnB, turnA, limit)
	}
}
