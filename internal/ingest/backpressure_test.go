package ingest_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/store"
)

// A call over twice PendingBytes waits for the flush under way, within a
// bound, and never queues behind it: while a flush is held (a store that
// takes its time, as a loaded ClickHouse did for 20–30 s), every call
// returns, accepted until the memory bound and refused with ErrThrottled
// beyond it, and nothing acknowledged is lost once the flush goes on
// (docs/clickhouse.md, "Writes that stalled"). Before, each such call
// waited for flushMu, behind the held flush and then behind every call
// queued before it, each flushing in turn.
func TestCallsDoNotQueueBehindAHeldFlush(t *testing.T) {
	const limit = 2000
	h := newHooked(t, t.TempDir(), ingest.Config{FlushDelay: time.Hour, PendingBytes: limit})
	defer h.st.Close()
	defer h.in.Close()
	h.in.SetBackpressureWait(10 * time.Millisecond)
	gate := make(chan struct{})
	entered := make(chan struct{}, 1)
	h.in.AddHook(func(context.Context, []store.TraceUpdate) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-gate
	})
	var opening sync.Once
	open := func() { opening.Do(func() { close(gate) }) }
	defer open() // before Close, which flushes what is pending

	// call is one TryIngest of one document; a call that has not returned
	// after a minute fails the test (it would wait for the gate forever).
	call := func(i int) error {
		done := make(chan error, 1)
		go func() {
			r, err := h.in.TryIngest(context.Background(), [][]byte{[]byte(seg(traceID(700+i), "aaaaaaaaaaaaaaaa", "web", ""))}, ingest.Options{Source: "api"})
			if err == nil && len(r) > 0 {
				err = r[0].Error
			}
			done <- err
		}()
		select {
		case err := <-done:
			return err
		case <-time.After(time.Minute):
			t.Fatalf("call %d still waiting a minute into a held flush", i)
			return nil
		}
	}
	// Just over PendingBytes: the flush loop is kicked, and its flush of
	// the oldest traces is held in the hook.
	size := len(seg(traceID(700), "aaaaaaaaaaaaaaaa", "web", ""))
	i := 0
	for ; i <= limit/size; i++ {
		if err := call(i); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	select {
	case <-entered:
	case <-time.After(time.Minute):
		t.Fatal("no flush a minute after the pending bytes passed PendingBytes")
	}
	// Past twice PendingBytes and up to the memory bound (four times):
	// accepted, then refused.
	acked := i
	for ; ; i++ {
		err := call(i)
		if errors.Is(err, ingest.ErrThrottled) {
			break
		}
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if acked = i + 1; acked > 5*limit/size+2 {
			t.Fatalf("%d calls accepted with a flush held: past the memory bound", acked)
		}
	}
	if acked < 2*limit/size {
		t.Fatalf("refused after %d calls: the bound is four times PendingBytes", acked)
	}
	open()
	h.in.Sync(context.Background())
	for j := range acked {
		if _, err := h.st.Head(context.Background(), traceID(700+j)); err != nil {
			t.Fatalf("acknowledged trace %d: %v", j, err)
		}
	}
}
