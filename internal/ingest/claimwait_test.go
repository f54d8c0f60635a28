package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
)

// heldReads is a ClickHouse store whose next read of a flush's traces
// (Traces, after its lease) is held until released.
type heldReads struct {
	*clickhouse.Store
	once             sync.Once
	entered, release chan struct{}
}

func (s *heldReads) Traces(ctx context.Context, ids []string) (map[string]*store.StoredTrace, error) {
	s.once.Do(func() {
		close(s.entered)
		<-s.release
	})
	return s.Store.Traces(ctx, ids)
}

// callWithFlushHeld holds a flush of trace a in a store call (hold), then
// sends a call adding a document to a and, once that call waits to claim a
// or has returned (waited: it waited), a call for another trace b in a's stripe. Neither may
// wait for the held flush: b's is accepted while the flush is held, and
// a's returns while it is held, with aErr (nil: accepted) (issue 17: a
// call waited for the whole flush, holding its stripe locks). It then
// lets the flush go and syncs both traces.
func callWithFlushHeld(t *testing.T, in *ingest.Ingester, st store.Store, hold func() (entered <-chan struct{}, release func())) (aErr error, waited bool, a, b string) {
	t.Helper()
	ctx := context.Background()
	a = fmt.Sprintf("1-%08x-%024x", now.Unix()-30, 9001)
	for n := 9002; ; n++ {
		if b = fmt.Sprintf("1-%08x-%024x", now.Unix()-30, n); in.SameStripe(a, b) {
			break
		}
	}
	call := func(docs ...string) <-chan error {
		done := make(chan error, 1)
		go func() {
			raw := make([][]byte, len(docs))
			for i, d := range docs {
				raw[i] = []byte(d)
			}
			r, err := in.TryIngest(ctx, raw, ingest.Options{Source: "api"})
			if err == nil && len(r) > 0 {
				err = r[0].Error
			}
			done <- err
		}()
		return done
	}
	// A call that has not returned a minute into a held flush waits for it.
	const never = time.Minute
	if err := <-call(seg(a, "aaaaaaaaaaaaaaaa", "web", "")); err != nil {
		t.Fatalf("first document of a: %v", err)
	}
	entered, release := hold()
	defer release()
	synced := make(chan struct{})
	go func() { in.Sync(ctx, a); close(synced) }()
	<-entered

	waiting := make(chan struct{})
	var once sync.Once
	in.OnClaimWait(func() { once.Do(func() { close(waiting) }) })
	defer in.OnClaimWait(nil)
	aDone := call(seg(a, "bbbbbbbbbbbbbbbb", "db", `,"parent_id":"aaaaaaaaaaaaaaaa"`))
	select {
	case <-waiting:
	case aErr = <-aDone:
		aDone = nil
	case <-time.After(never):
		t.Fatal("the call of a neither waits to claim it nor returns")
	}
	// fail lets the flush go and the calls end before the test does.
	fail := func(done <-chan error, msg string) {
		release()
		if done != nil {
			<-done
		}
		if aDone != nil {
			<-aDone
		}
		<-synced
		t.Fatal(msg)
	}
	bDone := call(seg(b, "cccccccccccccccc", "web", ""))
	select {
	case err := <-bDone:
		if err != nil {
			t.Fatalf("b's call: %v", err)
		}
	case <-time.After(never):
		fail(bDone, "b's call waits behind a's, which waits for a flush of a")
	}
	if aDone != nil {
		select {
		case aErr = <-aDone:
			aDone = nil
		case <-time.After(never):
			fail(nil, "a's call waits for the held flush of a")
		}
	}
	select {
	case <-waiting:
		waited = true
	default:
	}
	release()
	<-synced
	in.Sync(ctx, a, b)
	for _, id := range []string{a, b} {
		if _, err := st.Head(ctx, id); err != nil {
			t.Fatalf("summary of %s: %v", id, err)
		}
	}
	if n := pending(t, st); n != 0 {
		t.Errorf("%d traces still pending", n)
	}
	return aErr, waited, a, b
}

// On the embedded store a flush clears every pending mark of its traces,
// so a call adding to a trace in flight waits for it, at most claimWait,
// without its stripe locks; past it the call is throttled, nothing of it
// stored.
func TestCallOfATraceInFlightWaitsBoundedEmbedded(t *testing.T) {
	pst, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pst.Close()
	fs := newFaultStore(pst)
	in := ingest.New(ingest.Config{Store: fs, Now: func() time.Time { return now }, FlushDelay: time.Hour, MaxFlushDelay: time.Hour})
	defer in.Close()
	aErr, _, a, _ := callWithFlushHeld(t, in, fs, func() (<-chan struct{}, func()) { return fs.pause("Apply") })
	if !errors.Is(aErr, ingest.ErrThrottled) || !errors.Is(aErr, ingest.ErrTraceBusy) {
		t.Fatalf("a's call during the held flush: %v, want ErrTraceBusy, a throttle", aErr)
	}
	tr, err := fs.Trace(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Docs) != 1 || tr.Summary.SegmentCount != 1 {
		t.Errorf("a holds %d documents, its summary %d segments; want 1 and 1 (the throttled call stored nothing)", len(tr.Docs), tr.Summary.SegmentCount)
	}
}

// On ClickHouse a flush clears only the marks of the documents it read
// (the store already lets other processes write a trace in flight), so a
// call adding to a trace in flight does not wait at all: its documents
// start a new pending entry, summarised after the flush.
func TestCallOfATraceInFlightDoesNotWaitClickHouse(t *testing.T) {
	db := clickhousetest.NewDatabase(t)
	ctx := context.Background()
	cst, err := clickhouse.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer cst.Close()
	hs := &heldReads{Store: cst, entered: make(chan struct{}), release: make(chan struct{})}
	in := ingest.New(ingest.Config{Store: hs, Now: func() time.Time { return now }, FlushDelay: time.Hour, MaxFlushDelay: time.Hour})
	defer in.Close()
	aErr, waited, a, _ := callWithFlushHeld(t, in, hs, func() (<-chan struct{}, func()) {
		var once sync.Once
		return hs.entered, func() { once.Do(func() { close(hs.release) }) }
	})
	if aErr != nil || waited {
		t.Fatalf("a's call during the held flush: %v, waited to claim a: %v; want accepted at once", aErr, waited)
	}
	tr, err := hs.Trace(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Docs) != 2 || tr.Summary == nil || tr.Summary.SegmentCount != 2 {
		t.Errorf("a holds %d documents, its summary %+v; want both documents summarised", len(tr.Docs), tr.Summary)
	}
}
