package ingest_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/metrics"
	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
)

var now = time.Date(2027, 1, 15, 12, 0, 0, 0, time.UTC)

type env struct {
	in      *ingest.Ingester
	st      store.Store
	m       *metrics.Metrics
	mu      sync.Mutex
	updates []store.TraceUpdate
}

func newEnv(t *testing.T, cacheBytes int) *env {
	t.Helper()
	st, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{st: st, m: metrics.New(nil)}
	e.in = ingest.New(ingest.Config{Store: st, Metrics: e.m, Now: func() time.Time { return now }, CacheBytes: cacheBytes})
	t.Cleanup(e.in.Close) // before the store's (cleanups run last first)
	e.in.AddHook(func(_ context.Context, u []store.TraceUpdate) {
		e.mu.Lock()
		e.updates = append(e.updates, u...)
		e.mu.Unlock()
	})
	return e
}

func traceID(n int) string { return fmt.Sprintf("1-%08x-%024x", now.Unix()-30, n) }

var t0 = float64(now.Unix() - 30)

func seg(tid, id, name string, extra string) string {
	return fmt.Sprintf(`{"trace_id":%q,"id":%q,"name":%q,"start_time":%f,"end_time":%f%s}`, tid, id, name, t0, t0+1, extra)
}

func (e *env) ingest(t *testing.T, docs ...string) []ingest.Rejection {
	t.Helper()
	raw := make([][]byte, len(docs))
	for i, d := range docs {
		raw[i] = []byte(d)
	}
	r := e.in.Ingest(context.Background(), raw, ingest.Options{Source: "api"})
	e.in.Sync(context.Background()) // each call summarised, as the tests expect
	return r
}

func (e *env) trace(t *testing.T, id string) *store.StoredTrace {
	t.Helper()
	st, err := e.st.Trace(context.Background(), id)
	if err != nil {
		t.Fatalf("Trace(%s): %v", id, err)
	}
	return st
}

func TestInProgressThenComplete(t *testing.T) {
	for _, cache := range []int{0, 1} { // 1 byte: every load comes from the store
		e := newEnv(t, cache)
		id := traceID(1)
		inProg := fmt.Sprintf(`{"trace_id":%q,"id":"aaaaaaaaaaaaaaaa","name":"svc","start_time":%f,"in_progress":true}`, id, t0)
		if r := e.ingest(t, inProg); len(r) != 0 {
			t.Fatal(r)
		}
		st := e.trace(t, id)
		if !st.Summary.IsPartial || st.Summary.Revision != 0 {
			t.Errorf("cache %d: in-progress summary partial=%v rev=%d", cache, st.Summary.IsPartial, st.Summary.Revision)
		}
		done := seg(id, "aaaaaaaaaaaaaaaa", "svc", `,"http":{"response":{"status":200}}`)
		if r := e.ingest(t, done); len(r) != 0 {
			t.Fatal(r)
		}
		st = e.trace(t, id)
		if len(st.Docs) != 1 || string(st.Docs[0].Raw) != done {
			t.Fatalf("cache %d: docs = %+v, want the complete document only", cache, st.Docs)
		}
		if st.Summary.IsPartial || st.Summary.Revision != 1 || st.Summary.Duration != 1 || st.Summary.HTTP.Status != 200 {
			t.Errorf("cache %d: complete summary = %+v", cache, st.Summary)
		}
	}
}

func TestIndependentSubsegmentEitherOrder(t *testing.T) {
	for _, parentFirst := range []bool{true, false} {
		e := newEnv(t, 0)
		id := traceID(2)
		parent := seg(id, "aaaaaaaaaaaaaaaa", "frontend", `,"subsegments":[{"id":"cccccccccccccccc","name":"work","start_time":`+fmt.Sprint(t0)+`,"end_time":`+fmt.Sprint(t0+0.5)+`}]`)
		// Grafted under an embedded subsegment of the parent, not the segment itself.
		child := seg(id, "bbbbbbbbbbbbbbbb", "db", `,"type":"subsegment","parent_id":"cccccccccccccccc","annotations":{"query":"select"},"user":"ann"`)
		first, second := parent, child
		if !parentFirst {
			first, second = child, parent
		}
		if r := e.ingest(t, first); len(r) != 0 {
			t.Fatal(r)
		}
		if r := e.ingest(t, second); len(r) != 0 {
			t.Fatal(r)
		}
		st := e.trace(t, id)
		if len(st.Docs) != 2 {
			t.Fatalf("parentFirst=%v: %d docs", parentFirst, len(st.Docs))
		}
		s := st.Summary
		if len(s.Nodes) == 0 || s.Nodes[s.EntryPoint].Name != "frontend" {
			t.Fatalf("parentFirst=%v: entry point %+v", parentFirst, s.Nodes)
		}
		if len(s.Annotations) != 1 || len(s.Annotations[0].Nodes) != 1 || s.Nodes[s.Annotations[0].Nodes[0]].Name != "frontend" {
			t.Errorf("parentFirst=%v: the subsegment's annotation is not attributed to its parent's service: %+v", parentFirst, s.Annotations)
		}
		if len(s.Users) != 1 || len(s.Users[0].Nodes) != 1 {
			t.Errorf("parentFirst=%v: users %+v", parentFirst, s.Users)
		}
	}
}

func TestSameDocumentTwiceIsNoChange(t *testing.T) {
	e := newEnv(t, 0)
	id := traceID(3)
	d := seg(id, "aaaaaaaaaaaaaaaa", "svc", "")
	e.ingest(t, d)
	e.ingest(t, d)
	e.ingest(t, d, d)
	if st := e.trace(t, id); st.Summary.Revision != 0 || len(st.Docs) != 1 {
		t.Errorf("revision %d, %d docs after the same document thrice", st.Summary.Revision, len(st.Docs))
	}
	if len(e.updates) != 1 {
		t.Errorf("hooks saw %d updates, want 1", len(e.updates))
	}
	// A changed document with the same id is a new revision, and the hook
	// gets the previous summary.
	e.ingest(t, seg(id, "aaaaaaaaaaaaaaaa", "svc", `,"fault":true`))
	if st := e.trace(t, id); st.Summary.Revision != 1 || !st.Summary.HasFault {
		t.Errorf("after a change: %+v", st.Summary)
	}
	if len(e.updates) != 2 || e.updates[1].Previous == nil || e.updates[1].Previous.HasFault || !e.updates[1].Summary.HasFault {
		t.Errorf("hook updates = %+v", e.updates)
	}
}

func TestMixedBatchKeepsTheValid(t *testing.T) {
	e := newEnv(t, 0)
	a, b := traceID(4), traceID(5)
	docs := []string{
		seg(a, "aaaaaaaaaaaaaaaa", "svc", ""),
		`{"not json`,
		seg(b, "bbbbbbbbbbbbbbbb", "svc", ""),
		seg("1-00000001-000000000000000000000001", "cccccccccccccccc", "svc", ""), // 1970
		seg(a, "dddddddddddddddd", "bad!name", ""),
		seg(a, "eeeeeeeeeeeeeeee", "svc", ""),
	}
	r := e.ingest(t, docs...)
	want := map[int]string{1: segment.CodeMalformed, 3: segment.CodeInvalidTraceID, 4: segment.CodeInvalidName}
	if len(r) != len(want) {
		t.Fatalf("rejections = %+v", r)
	}
	for _, x := range r {
		if want[x.Index] != x.Code {
			t.Errorf("rejection %d: %s (%s), want %s", x.Index, x.Code, x.Message, want[x.Index])
		}
	}
	if r[1].ID != "cccccccccccccccc" {
		t.Errorf("rejection id = %q", r[1].ID)
	}
	if st := e.trace(t, a); len(st.Docs) != 2 {
		t.Errorf("trace a has %d docs, want 2", len(st.Docs))
	}
	e.trace(t, b)
	if got := testutil.ToFloat64(e.m.DocumentsAccepted.WithLabelValues("api")); got != 3 {
		t.Errorf("accepted counter = %v, want 3", got)
	}
	if got := testutil.ToFloat64(e.m.DocumentsRejected.WithLabelValues("api", segment.CodeInvalidTraceID)); got != 1 {
		t.Errorf("rejected{InvalidTraceId} = %v", got)
	}
	if got := testutil.ToFloat64(e.m.DocumentsReceived.WithLabelValues("api")); got != 6 {
		t.Errorf("received = %v", got)
	}
}

func TestArrayDocument(t *testing.T) {
	e := newEnv(t, 0)
	id := traceID(6)
	arr := "[" + seg(id, "aaaaaaaaaaaaaaaa", "svc", "") + "," + seg(id, "bbbbbbbbbbbbbbbb", "x", `,"type":"subsegment","parent_id":"aaaaaaaaaaaaaaaa"`) + "]"
	if r := e.ingest(t, arr); len(r) != 0 {
		t.Fatal(r)
	}
	if st := e.trace(t, id); len(st.Docs) != 2 {
		t.Errorf("array stored %d docs, want 2", len(st.Docs))
	}
}

func TestTraceSizeLimit(t *testing.T) {
	e := newEnv(t, 0)
	id := traceID(7)
	pad := strings.Repeat("x", 60<<10)
	var docs []string
	n := ingest.MaxTraceBytes/(60<<10) + 3
	for i := range n {
		docs = append(docs, seg(id, fmt.Sprintf("%016x", i+1), "svc", `,"type":"subsegment","parent_id":"0000000000000001","metadata":{"default":{"p":"`+pad+`"}}`))
	}
	r := e.ingest(t, docs...)
	if len(r) == 0 {
		t.Fatal("no document was refused past the trace size limit")
	}
	for _, x := range r {
		if x.Code != ingest.CodeTraceTooLarge || !strings.Contains(x.Message, id) {
			t.Errorf("rejection %+v", x)
		}
	}
	st := e.trace(t, id)
	if !st.Summary.LimitExceeded || len(st.Docs)+len(r) != n {
		t.Errorf("LimitExceeded=%v, %d stored + %d refused of %d", st.Summary.LimitExceeded, len(st.Docs), len(r), n)
	}
	total := 0
	for _, d := range st.Docs {
		total += len(d.Raw)
	}
	if total > ingest.MaxTraceBytes {
		t.Errorf("stored %d bytes, over the %d limit", total, ingest.MaxTraceBytes)
	}
	// Other traces are unaffected.
	if r := e.ingest(t, seg(traceID(8), "aaaaaaaaaaaaaaaa", "svc", "")); len(r) != 0 {
		t.Errorf("another trace refused: %+v", r)
	}
}

func TestConcurrentWritersOneTrace(t *testing.T) {
	for _, cache := range []int{0, 1} {
		e := newEnv(t, cache)
		id := traceID(9)
		const writers, each = 8, 25
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					d := seg(id, fmt.Sprintf("%08x%08x", w+1, i+1), "svc", `,"type":"subsegment","parent_id":"ffffffffffffffff"`)
					if r := e.ingest(t, d); len(r) != 0 {
						t.Error(r)
					}
				}
			}()
		}
		wg.Add(1)
		go func() { defer wg.Done(); e.ingest(t, seg(id, "ffffffffffffffff", "root", "")) }()
		wg.Wait()
		st := e.trace(t, id)
		if len(st.Docs) != writers*each+1 || st.Summary.SegmentCount != writers*each+1 {
			t.Errorf("cache %d: %d docs, summary counts %d; want %d", cache, len(st.Docs), st.Summary.SegmentCount, writers*each+1)
		}
		// Concurrent changes may share one summary; never more than one each.
		if st.Summary.Revision > writers*each {
			t.Errorf("cache %d: revision %d, want at most %d (one per change)", cache, st.Summary.Revision, writers*each)
		}
	}
}

func TestIngestSegmentsPreParsed(t *testing.T) {
	e := newEnv(t, 0)
	id := traceID(10)
	segs, err := segment.Parse([]byte(seg(id, "aaaaaaaaaaaaaaaa", "otel", "")), segment.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if r := e.in.IngestSegments(context.Background(), segs, "otlp"); len(r) != 0 {
		t.Fatal(r)
	}
	e.trace(t, id)
	if got := testutil.ToFloat64(e.m.DocumentsAccepted.WithLabelValues("otlp")); got != 1 {
		t.Errorf("otlp accepted = %v", got)
	}
}

func TestLateInProgressDoesNotUndoComplete(t *testing.T) {
	e := newEnv(t, 0)
	id := traceID(11)
	done := seg(id, "aaaaaaaaaaaaaaaa", "svc", "")
	e.ingest(t, done)
	e.ingest(t, fmt.Sprintf(`{"trace_id":%q,"id":"aaaaaaaaaaaaaaaa","name":"svc","start_time":%f,"in_progress":true}`, id, t0))
	st := e.trace(t, id)
	if string(st.Docs[0].Raw) != done || st.Summary.IsPartial {
		t.Errorf("a late in-progress document replaced the complete one: %s", st.Docs[0].Raw)
	}
}

func TestHostileDocumentsDoNotCrashIngest(t *testing.T) {
	e := newEnv(t, 0)
	id := traceID(12)
	deep := strings.Repeat(fmt.Sprintf(`{"name":"a","id":"53995c3f42cd8ad8","start_time":%f,"end_time":%f,"subsegments":[`, t0, t0), 500) + strings.Repeat("]}", 500)
	docs := []string{
		seg(id, "aaaaaaaaaaaaaaaa", "svc", `,"subsegments":[`+deep+`]`),
		// Independent subsegments naming each other as parents: a cycle.
		seg(id, "bbbbbbbbbbbbbbbb", "x", `,"type":"subsegment","parent_id":"cccccccccccccccc"`),
		seg(id, "cccccccccccccccc", "y", `,"type":"subsegment","parent_id":"bbbbbbbbbbbbbbbb"`),
		// A subsegment that is its own parent.
		seg(id, "dddddddddddddddd", "z", `,"type":"subsegment","parent_id":"dddddddddddddddd"`),
	}
	for _, r := range e.ingest(t, docs...) {
		t.Logf("rejected %d: %s %s", r.Index, r.Code, r.Message)
	}
	st := e.trace(t, id)
	if len(st.Docs) != 4 {
		t.Errorf("stored %d of 4 documents", len(st.Docs))
	}
}
