package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/metrics"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
)

// faulty is an ingester on the real store behind a faultStore.
func faulty(t *testing.T, cfg ingest.Config) (*ingest.Ingester, *faultStore) {
	t.Helper()
	pst, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pst.Close() })
	fs := newFaultStore(pst)
	cfg.Store = fs
	cfg.Now = func() time.Time { return now }
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	in := ingest.New(cfg)
	t.Cleanup(in.Close)
	return in, fs
}

func put(t *testing.T, in *ingest.Ingester, docs ...string) []ingest.Rejection {
	t.Helper()
	raw := make([][]byte, len(docs))
	for i, d := range docs {
		raw[i] = []byte(d)
	}
	return in.Ingest(context.Background(), raw, ingest.Options{Source: "api"})
}

// Sync with no ids returned at once when nothing was queued, though a
// background flush had taken the entries and not yet stored the summary:
// a read right after an acknowledged write missed it.
func TestSyncWaitsForAFlushUnderWay(t *testing.T) {
	in, fs := faulty(t, ingest.Config{FlushDelay: time.Millisecond})
	ctx := context.Background()
	entered, release := fs.pause("Apply")
	defer release()
	id := traceID(101)
	if r := put(t, in, seg(id, "aaaaaaaaaaaaaaaa", "svc", "")); len(r) != 0 {
		t.Fatal(r[0].Error)
	}
	<-entered // the background flush holds the trace, its summary not stored
	res := make(chan error, 1)
	go func() {
		in.Sync(ctx)
		_, err := fs.Head(ctx, id)
		res <- err
	}()
	select {
	case err := <-res:
		release()
		t.Fatalf("Sync returned while the flush had not stored the summary: Head: %v", err)
	case <-time.After(100 * time.Millisecond): // Sync waits, as it must
	}
	release()
	if err := <-res; err != nil {
		t.Fatalf("after Sync: Head: %v", err)
	}
}

// A late in-progress version arriving while the complete one is being
// summarised must not replace it: the flush in flight holds the trace's
// latest state, and writers see it.
func TestLateInProgressWhileFlushing(t *testing.T) {
	in, fs := faulty(t, ingest.Config{FlushDelay: time.Hour})
	ctx := context.Background()
	id := traceID(102)
	complete := seg(id, "aaaaaaaaaaaaaaaa", "svc", "")
	inProg := fmt.Sprintf(`{"trace_id":%q,"id":"aaaaaaaaaaaaaaaa","name":"svc","start_time":%f,"in_progress":true}`, id, t0)
	if r := put(t, in, complete); len(r) != 0 {
		t.Fatal(r[0].Error)
	}
	entered, release := fs.pause("Apply")
	done := make(chan struct{})
	go func() { in.Sync(ctx, id); close(done) }()
	<-entered
	// The write waits for the flush that holds its trace (a crash could
	// otherwise lose its summary: see pendingSet.claim); release it meanwhile.
	wrote := make(chan []ingest.Rejection)
	go func() { wrote <- put(t, in, inProg) }()
	release()
	if r := <-wrote; len(r) != 0 {
		t.Fatal(r[0].Error)
	}
	<-done
	in.Sync(ctx)
	st, err := fs.Trace(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Docs) != 1 || string(st.Docs[0].Raw) != complete || st.Summary == nil || st.Summary.Duration != 1 {
		t.Fatalf("stored %d docs (%s), summary %+v; want the complete document", len(st.Docs), st.Docs[0].Raw, st.Summary)
	}
}

// bigDocs are n documents of ~60 kB for one trace, ids from first.
func bigDocs(id string, first, n int) []string {
	pad := strings.Repeat("x", 60<<10)
	docs := make([]string, n)
	for i := range docs {
		docs[i] = seg(id, fmt.Sprintf("%016x", first+i), "svc", `,"type":"subsegment","parent_id":"0000000000000001","metadata":{"default":{"p":"`+pad+`"}}`)
	}
	return docs
}

// The 16 MiB cap holds for a trace whose first documents are being
// summarised (its count restarted at zero: 18 MB accepted) ...
func TestTraceCapHoldsWhileFlushing(t *testing.T) {
	in, fs := faulty(t, ingest.Config{FlushDelay: time.Hour})
	ctx := context.Background()
	id := traceID(103)
	if r := put(t, in, bigDocs(id, 1, 170)...); len(r) != 0 { // 10.2 MB
		t.Fatal(r[0].Error)
	}
	entered, release := fs.pause("Apply")
	done := make(chan struct{})
	go func() { in.Sync(ctx, id); close(done) }()
	<-entered
	wrote := make(chan []ingest.Rejection)
	go func() { wrote <- put(t, in, bigDocs(id, 1000, 130)...) }() // 7.8 MB more
	release()
	r := <-wrote
	<-done
	checkCapped(t, in, fs, id, r)
}

// ... and for one the cache let go of.
func TestTraceCapHoldsAfterEviction(t *testing.T) {
	in, fs := faulty(t, ingest.Config{FlushDelay: time.Hour, CacheBytes: 1})
	id := traceID(104)
	if r := put(t, in, bigDocs(id, 1, 170)...); len(r) != 0 {
		t.Fatal(r[0].Error)
	}
	in.Sync(context.Background())
	checkCapped(t, in, fs, id, put(t, in, bigDocs(id, 1000, 130)...))
}

func checkCapped(t *testing.T, in *ingest.Ingester, fs *faultStore, id string, r []ingest.Rejection) {
	t.Helper()
	if len(r) == 0 {
		t.Fatal("no document was refused past the trace size limit")
	}
	for _, x := range r {
		if x.Code != ingest.CodeTraceTooLarge {
			t.Fatalf("rejection %+v", x)
		}
	}
	in.Sync(context.Background())
	st, err := fs.Trace(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, d := range st.Docs {
		total += len(d.Raw)
	}
	if total > ingest.MaxTraceBytes || !st.Summary.LimitExceeded {
		t.Fatalf("stored %d bytes (limit %d), LimitExceeded=%v", total, ingest.MaxTraceBytes, st.Summary.LimitExceeded)
	}
}

// One array document whose subsegments are all rejected counts as one
// rejected document: it counted each, drove the accepted counter negative
// and Prometheus panicked after the good documents were stored.
func TestArrayDocumentRejectedCountsOnce(t *testing.T) {
	m := metrics.New(nil)
	in, fs := faulty(t, ingest.Config{Metrics: m})
	fs.fail("PutDocs", errors.New("no space left on device"))
	id := traceID(105)
	arr := "[" + sub(id, "1000000000000001") + "," + sub(id, "1000000000000002") + "," + sub(id, "1000000000000003") + "]"
	r := put(t, in, arr, seg(traceID(106), "aaaaaaaaaaaaaaaa", "svc", ""))
	if len(r) != 2 || r[0].Index != 0 || r[1].Index != 1 {
		t.Fatalf("rejections %+v, want one per document", r)
	}
	if got := testutil.ToFloat64(m.DocumentsAccepted.WithLabelValues("api")); got != 0 {
		t.Errorf("accepted = %v, want 0", got)
	}
	if got := testutil.ToFloat64(m.DocumentsRejected.WithLabelValues("api", ingest.CodeInternal)); got != 2 {
		t.Errorf("rejected = %v, want 2", got)
	}
}

// Work held in memory is bounded in bytes: past MaxPendingBytes a call is
// refused as a whole, nothing of it stored, with ErrThrottled; once the
// backlog is summarised, calls go in again.
func TestOverloadIsRefused(t *testing.T) {
	m := metrics.New(nil)
	in, fs := faulty(t, ingest.Config{Metrics: m, FlushDelay: time.Hour, PendingBytes: 1 << 20, MaxPendingBytes: 5_000})
	ctx := context.Background()
	call := func(n int) [][]byte {
		var docs [][]byte
		for i := range 20 {
			docs = append(docs, []byte(seg(traceID(1000*n+i), "aaaaaaaaaaaaaaaa", "svc", "")))
		}
		return docs
	}
	if _, err := in.TryIngest(ctx, call(1), ingest.Options{Source: "api"}); err != nil {
		t.Fatalf("first call: %v", err)
	}
	if _, err := in.TryIngest(ctx, call(2), ingest.Options{Source: "api"}); !errors.Is(err, ingest.ErrThrottled) {
		t.Fatalf("over the bound: %v, want ErrThrottled", err)
	}
	if _, err := fs.Trace(ctx, traceID(2000)); err == nil {
		t.Fatal("a refused call stored a document")
	}
	r := in.Ingest(ctx, call(2), ingest.Options{Source: "api"})
	if len(r) != 20 || r[0].Code != ingest.CodeThrottled {
		t.Fatalf("Ingest over the bound: %d rejections (%+v)", len(r), r)
	}
	if got := testutil.ToFloat64(m.DocumentsRejected.WithLabelValues("api", ingest.CodeThrottled)); got != 40 {
		t.Errorf("throttled documents counted %v, want 40", got)
	}
	in.Sync(ctx)
	if _, err := in.TryIngest(ctx, call(3), ingest.Options{Source: "api"}); err != nil {
		t.Fatalf("after the backlog was summarised: %v", err)
	}
}

// applySizes records how many traces each Apply summarises.
type applySizes struct {
	*faultStore
	mu  sync.Mutex
	max int
}

func (a *applySizes) Apply(ctx context.Context, u []store.TraceUpdate) error {
	a.mu.Lock()
	a.max = max(a.max, len(u))
	a.mu.Unlock()
	return a.faultStore.Apply(ctx, u)
}

// Recovery of many pending traces holds a bounded number in memory at a
// time: 138k pending traces took ~2 GB in one go, enough for a crash loop.
func TestRecoverInBatches(t *testing.T) {
	dir := t.TempDir()
	pst, err := pebble.Open(dir, pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := ingest.New(ingest.Config{Store: pst, Now: func() time.Time { return now }, FlushDelay: time.Hour, PendingBytes: 64 << 20})
	const n = 1500
	for lo := 0; lo < n; lo += 100 {
		var docs []string
		for i := lo; i < lo+100; i++ {
			docs = append(docs, seg(traceID(10000+i), "aaaaaaaaaaaaaaaa", "svc", ""))
		}
		if r := put(t, in, docs...); len(r) != 0 {
			t.Fatal(r[0].Error)
		}
	}
	in.Abandon()
	pst.Close()

	pst, err = pebble.Open(dir, pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pst.Close()
	as := &applySizes{faultStore: newFaultStore(pst)}
	// One core: a flush is then one Apply, whatever the machine.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	in = ingest.New(ingest.Config{Store: as, Now: func() time.Time { return now }})
	defer in.Close()
	got, err := in.Recover(context.Background())
	if err != nil || got != n {
		t.Fatalf("Recover = %d, %v; want %d", got, err, n)
	}
	if as.max > 512 {
		t.Errorf("one Apply summarised %d recovered traces; recovery must go in batches", as.max)
	}
	if _, err := pst.Head(context.Background(), traceID(10000+n-1)); err != nil {
		t.Errorf("last recovered trace: %v", err)
	}
}

// A write to a trace a flush holds waits for it: the flush clears the
// trace's pending mark when it stores the summary, and a write in between
// left documents no mark covered, whose summary a crash then lost (found
// by TestIngestAgainstModel).
func TestWriteDuringFlushSurvivesCrash(t *testing.T) {
	dir := t.TempDir()
	pst, err := pebble.Open(dir, pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fs := newFaultStore(pst)
	in := ingest.New(ingest.Config{Store: fs, Now: func() time.Time { return now }, FlushDelay: time.Hour, Logger: slog.New(slog.DiscardHandler)})
	ctx := context.Background()
	id := traceID(107)
	if r := put(t, in, seg(id, "aaaaaaaaaaaaaaaa", "svc", "")); len(r) != 0 {
		t.Fatal(r[0].Error)
	}
	entered, release := fs.pause("Apply")
	done := make(chan struct{})
	go func() { in.Sync(ctx, id); close(done) }()
	<-entered
	wrote := make(chan []ingest.Rejection, 1)
	go func() { wrote <- put(t, in, sub(id, "bbbbbbbbbbbbbbbb")) }()
	select {
	case <-wrote: // written while the flush held the trace: the bug
		wrote <- nil
	case <-time.After(100 * time.Millisecond):
	}
	release()
	<-done
	if r := <-wrote; len(r) != 0 {
		t.Fatal(r[0].Error)
	}
	in.Abandon() // crash before the late document is summarised
	pst.Close()

	pst, err = pebble.Open(dir, pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pst.Close()
	in = ingest.New(ingest.Config{Store: pst, Now: func() time.Time { return now }})
	defer in.Close()
	if _, err := in.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := pst.Trace(ctx, id); err != nil || len(st.Docs) != 2 || st.Summary == nil || st.Summary.SegmentCount != 2 {
		t.Fatalf("after the crash: %d docs, summary %+v (%v); want both documents summarised", len(st.Docs), st.Summary, err)
	}
}

// A late in-progress version must not replace a complete one the cache
// no longer holds, also while other documents of its trace await their
// summary (found by TestIngestAgainstModel).
func TestLateInProgressAfterEvictionWithPendingDocuments(t *testing.T) {
	in, fs := faulty(t, ingest.Config{FlushDelay: time.Hour, CacheBytes: 1})
	ctx := context.Background()
	id := traceID(108)
	complete := seg(id, "aaaaaaaaaaaaaaaa", "svc", "")
	if r := put(t, in, complete); len(r) != 0 {
		t.Fatal(r[0].Error)
	}
	in.Sync(ctx)
	if r := put(t, in, sub(id, "bbbbbbbbbbbbbbbb")); len(r) != 0 { // pending now
		t.Fatal(r[0].Error)
	}
	inProg := fmt.Sprintf(`{"trace_id":%q,"id":"aaaaaaaaaaaaaaaa","name":"svc","start_time":%f,"in_progress":true}`, id, t0)
	if r := put(t, in, inProg); len(r) != 0 {
		t.Fatal(r[0].Error)
	}
	in.Sync(ctx)
	st, err := fs.Trace(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range st.Docs {
		if d.ID == "aaaaaaaaaaaaaaaa" && string(d.Raw) != complete {
			t.Fatalf("the complete document was replaced by %s", d.Raw)
		}
	}
}

// A flush does not take a trace a writer is merging into: it would store
// a summary without the writer's documents and clear the pending mark the
// writer had just set, and a crash then lost their summary.
func TestFlushWaitsForTheWriterOfItsTrace(t *testing.T) {
	dir := t.TempDir()
	pst, err := pebble.Open(dir, pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fs := newFaultStore(pst)
	in := ingest.New(ingest.Config{Store: fs, Now: func() time.Time { return now }, FlushDelay: time.Hour, CacheBytes: 1, Logger: slog.New(slog.DiscardHandler)})
	ctx := context.Background()
	id := traceID(109)
	if r := put(t, in, seg(id, "aaaaaaaaaaaaaaaa", "svc", "")); len(r) != 0 {
		t.Fatal(r[0].Error)
	}
	readEntered, releaseRead := fs.pause("Trace") // the writer reads the stored trace
	applyEntered, releaseApply := fs.pause("Apply")
	inProg := fmt.Sprintf(`{"trace_id":%q,"id":"bbbbbbbbbbbbbbbb","type":"subsegment","parent_id":"aaaaaaaaaaaaaaaa","name":"db","start_time":%f,"in_progress":true}`, id, t0)
	wrote := make(chan []ingest.Rejection, 1)
	go func() { wrote <- put(t, in, inProg) }()
	<-readEntered
	synced := make(chan struct{})
	go func() { in.Sync(ctx, id); close(synced) }()
	select {
	case <-applyEntered: // the flush took the trace mid-write: the bug
	case <-time.After(100 * time.Millisecond):
	}
	releaseRead()
	if r := <-wrote; len(r) != 0 {
		t.Fatal(r[0].Error)
	}
	releaseApply()
	<-synced
	in.Abandon() // crash
	pst.Close()

	pst, err = pebble.Open(dir, pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pst.Close()
	in = ingest.New(ingest.Config{Store: pst, Now: func() time.Time { return now }})
	defer in.Close()
	if _, err := in.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := pst.Trace(ctx, id); err != nil || len(st.Docs) != 2 || st.Summary == nil || st.Summary.SegmentCount != 2 {
		t.Fatalf("after the crash: %+v (%v); want both documents summarised", st, err)
	}
}
