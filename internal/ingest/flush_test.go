package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/metrics"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// hooked is an ingester on a real store whose hook records every update.
type hooked struct {
	in  *ingest.Ingester
	st  *pebble.Store
	mu  sync.Mutex
	ups []store.TraceUpdate
}

func newHooked(t *testing.T, dir string, cfg ingest.Config) *hooked {
	t.Helper()
	st, err := pebble.Open(dir, pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store = st
	cfg.Now = func() time.Time { return now }
	h := &hooked{in: ingest.New(cfg), st: st}
	h.in.AddHook(func(_ context.Context, u []store.TraceUpdate) {
		h.mu.Lock()
		h.ups = append(h.ups, u...)
		h.mu.Unlock()
	})
	return h
}

func (h *hooked) send(t *testing.T, docs ...string) {
	t.Helper()
	raw := make([][]byte, len(docs))
	for i, d := range docs {
		raw[i] = []byte(d)
	}
	if r := h.in.Ingest(context.Background(), raw, ingest.Options{Source: "api"}); len(r) != 0 {
		t.Fatalf("rejected: %+v", r[0].Error)
	}
}

func (h *hooked) updates() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.ups)
}

func sub(tid, id string) string {
	return seg(tid, id, "db", `,"type":"subsegment","parent_id":"aaaaaaaaaaaaaaaa"`)
}

// Documents are stored when acknowledged; the summary follows once for all
// of a trace's documents.
func TestSummaryOncePerQuietTrace(t *testing.T) {
	h := newHooked(t, t.TempDir(), ingest.Config{FlushDelay: time.Hour})
	defer h.st.Close()
	defer h.in.Close()
	id := traceID(100)
	h.send(t, seg(id, "aaaaaaaaaaaaaaaa", "web", ""))
	h.send(t, sub(id, "bbbbbbbbbbbbbbbb"))
	h.send(t, sub(id, "cccccccccccccccc"))

	st, err := h.st.Trace(context.Background(), id)
	if err != nil || len(st.Docs) != 3 || st.Summary != nil {
		t.Fatalf("before the flush: %+v, %v; want 3 stored documents and no summary yet", st, err)
	}
	if h.updates() != 0 {
		t.Errorf("hooks ran %d times before the flush", h.updates())
	}
	h.in.Sync(context.Background())
	st, err = h.st.Trace(context.Background(), id)
	if err != nil || st.Summary == nil {
		t.Fatalf("after Sync: %+v, %v", st, err)
	}
	if st.Summary.SegmentCount != 3 || st.Summary.Revision != 0 {
		t.Errorf("summary counts %d documents at revision %d; want 3 at 0 (one summary)", st.Summary.SegmentCount, st.Summary.Revision)
	}
	if h.updates() != 1 {
		t.Errorf("hooks saw %d updates, want 1", h.updates())
	}
	var pending []string
	_ = h.st.Pending(context.Background(), func(id string) bool { pending = append(pending, id); return true })
	if len(pending) != 0 {
		t.Errorf("still pending in the store: %v", pending)
	}

	// A late document builds on the summary (from the cache) as revision 1.
	h.send(t, sub(id, "dddddddddddddddd"))
	h.in.Sync(context.Background(), id)
	st, _ = h.st.Trace(context.Background(), id)
	if st.Summary == nil || st.Summary.SegmentCount != 4 || st.Summary.Revision != 1 {
		t.Errorf("after a late document: %+v", st.Summary)
	}
}

func TestBackgroundFlushAfterDelay(t *testing.T) {
	h := newHooked(t, t.TempDir(), ingest.Config{FlushDelay: 50 * time.Millisecond})
	defer h.st.Close()
	defer h.in.Close()
	id := traceID(101)
	h.send(t, seg(id, "aaaaaaaaaaaaaaaa", "web", ""))
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := h.st.Head(context.Background(), id); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no summary 30 s after the document; the delay is 50 ms")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPendingBytesBoundFlushesEarly(t *testing.T) {
	h := newHooked(t, t.TempDir(), ingest.Config{FlushDelay: time.Hour, PendingBytes: 2000})
	defer h.st.Close()
	defer h.in.Close()
	for i := range 20 {
		h.send(t, seg(traceID(200+i), "aaaaaaaaaaaaaaaa", "web", ""))
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := h.st.Head(context.Background(), traceID(200)); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the oldest trace was not summarised with the pending bound exceeded")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCloseSummarisesEverything(t *testing.T) {
	dir := t.TempDir()
	h := newHooked(t, dir, ingest.Config{FlushDelay: time.Hour})
	for i := range 50 {
		h.send(t, seg(traceID(300+i), "aaaaaaaaaaaaaaaa", "web", ""))
	}
	h.in.Close()
	if h.updates() != 50 {
		t.Errorf("hooks saw %d updates at Close, want 50", h.updates())
	}
	h.st.Close()
	st, err := pebble.Open(dir, pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range 50 {
		if _, err := st.Head(context.Background(), traceID(300+i)); err != nil {
			t.Fatalf("trace %d has no summary after a clean stop: %v", i, err)
		}
	}
}

// A crash between a document's acknowledgement and its trace's summary
// leaves a pending mark; Recover at the next start writes the summary and
// runs the hooks.
func TestRecoverAfterCrash(t *testing.T) {
	dir := t.TempDir()
	h := newHooked(t, dir, ingest.Config{FlushDelay: time.Hour})
	old := traceID(400)
	h.send(t, seg(old, "aaaaaaaaaaaaaaaa", "web", ""))
	h.in.Sync(context.Background())
	h.send(t, sub(old, "bbbbbbbbbbbbbbbb")) // a late document of a summarised trace
	done := traceID(403)
	h.send(t, seg(done, "aaaaaaaaaaaaaaaa", "web", ""))
	h.in.Sync(context.Background(), done) // summarised, nothing pending
	fresh := traceID(401)
	h.send(t, seg(fresh, "aaaaaaaaaaaaaaaa", "web", ""), sub(fresh, "cccccccccccccccc"))
	foreign := fmt.Sprintf("1-%08x-%024x", 0x0abcdef0, 402) // epoch bits not a time (OTLP)
	if r := h.in.Ingest(context.Background(), [][]byte{[]byte(seg(foreign, "aaaaaaaaaaaaaaaa", "otel", ""))}, ingest.Options{SkipTraceEpoch: true}); len(r) != 0 {
		t.Fatal(r[0].Error)
	}
	h.in.Abandon() // crash: nothing more is summarised
	h.st.Close()

	h2 := newHooked(t, dir, ingest.Config{})
	defer h2.st.Close()
	defer h2.in.Close()
	n, err := h2.in.Recover(context.Background())
	if err != nil || n != 3 {
		t.Fatalf("Recover = %d, %v; want 3 traces", n, err)
	}
	for _, tc := range []struct {
		id       string
		segments int
		revision int
	}{{old, 2, 1}, {fresh, 2, 0}, {foreign, 1, 0}} {
		st, err := h2.st.Trace(context.Background(), tc.id)
		if err != nil || st.Summary == nil {
			t.Fatalf("%s after recovery: %+v, %v", tc.id, st, err)
		}
		if st.Summary.SegmentCount != tc.segments || st.Summary.Revision != tc.revision {
			t.Errorf("%s: %d segments at revision %d, want %d at %d", tc.id, st.Summary.SegmentCount, st.Summary.Revision, tc.segments, tc.revision)
		}
	}
	if h2.updates() != 3 {
		t.Errorf("hooks saw %d recovered updates, want 3", h2.updates())
	}
	// A late document of a trace the last run summarised builds on that
	// summary (it is not taken for a new trace).
	h2.send(t, sub(done, "dddddddddddddddd"))
	h2.in.Sync(context.Background())
	if st, err := h2.st.Trace(context.Background(), done); err != nil || st.Summary == nil || st.Summary.SegmentCount != 2 || st.Summary.Revision != 1 {
		t.Errorf("late document after restart: %+v, %v; want 2 segments at revision 1", st.Summary, err)
	}
	if n, _ := h2.in.Recover(context.Background()); n != 0 {
		t.Errorf("a second Recover found %d pending traces", n)
	}
	if _, err := h2.st.Head(context.Background(), traceID(999)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown trace: %v", err)
	}
}

// When summarising falls behind, callers wait for it: the documents
// awaiting summaries never exceed four times PendingBytes when a call
// returns.
func TestPendingBytesHardBound(t *testing.T) {
	const limit = 2000
	m := metrics.New(nil)
	h := newHooked(t, t.TempDir(), ingest.Config{FlushDelay: time.Hour, PendingBytes: limit, Metrics: m})
	defer h.st.Close()
	defer h.in.Close()
	// Summarising is slower than ingest here (a slow hook), as it is when
	// the store is busy compacting.
	h.in.AddHook(func(context.Context, []store.TraceUpdate) { time.Sleep(20 * time.Millisecond) })
	doc := seg(traceID(500), "aaaaaaaaaaaaaaaa", "web", "")
	most := 4*limit/len(doc) + 1
	for i := range 200 {
		h.send(t, seg(traceID(500+i), "aaaaaaaaaaaaaaaa", "web", ""))
		if n := gauge(t, m, "roentgen_ingest_pending_traces"); n > float64(most) {
			t.Fatalf("after %d calls, %v traces await summaries; the bound allows %d", i+1, n, most)
		}
	}
}

func gauge(t *testing.T, m *metrics.Metrics, name string) float64 {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.Metric) == 1 {
			return mf.Metric[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no gauge %s", name)
	return 0
}

// headCounter is a real store that counts summary lookups.
type headCounter struct {
	*pebble.Store
	mu    sync.Mutex
	heads int
}

func (h *headCounter) Head(ctx context.Context, id string) (*trace.Summary, error) {
	h.mu.Lock()
	h.heads++
	h.mu.Unlock()
	return h.Store.Head(ctx, id)
}

// A trace its writer found new in the store is summarised as new without
// a second lookup: with seen's bloom filters answering "maybe" for every
// trace, a new trace costs one Head (the writer's), not two; a trace
// summarised before is still looked up, and summarised on its previous
// summary.
func TestFreshTraceLookedUpOnce(t *testing.T) {
	st, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hc := &headCounter{Store: st}
	in := ingest.New(ingest.Config{Store: hc, FlushDelay: time.Hour, CacheBytes: 1, Now: func() time.Time { return now }})
	defer in.Close()
	in.SeenFull()
	send := func(docs ...string) {
		raw := make([][]byte, len(docs))
		for i, d := range docs {
			raw[i] = []byte(d)
		}
		if r := in.Ingest(context.Background(), raw, ingest.Options{Source: "api"}); len(r) != 0 {
			t.Fatalf("rejected: %+v", r[0].Error)
		}
	}
	id := traceID(400)
	send(seg(id, "aaaaaaaaaaaaaaaa", "web", ""))
	in.Sync(context.Background())
	if hc.heads != 1 {
		t.Errorf("a new trace took %d summary lookups, want 1 (its writer's)", hc.heads)
	}
	sum, err := st.Head(context.Background(), id)
	if err != nil || sum.Revision != 0 || sum.SegmentCount != 1 {
		t.Fatalf("summary %+v, %v; want revision 0 of 1 segment", sum, err)
	}
	// Not fresh: a later document of a summarised trace that the cache let
	// go builds on the stored summary.
	send(seg(id, "bbbbbbbbbbbbbbbb", "api", ""))
	in.Sync(context.Background())
	sum, err = st.Head(context.Background(), id)
	if err != nil || sum.Revision != 1 || sum.SegmentCount != 2 {
		t.Fatalf("summary %+v, %v; want revision 1 of 2 segments", sum, err)
	}
}
