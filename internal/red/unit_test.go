package red

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// values are the counters of one family by their joined label values.
func values(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			out[labels(m)] = m.GetCounter().GetValue()
		}
	}
	return out
}

func labels(m *dto.Metric) string {
	s := ""
	for i, l := range m.GetLabel() {
		if i > 0 {
			s += "|"
		}
		s += l.GetValue()
	}
	return s
}

var (
	web     = trace.Node{NodeID: trace.NodeID{Name: "web", Type: "AWS::EC2::Instance"}, Root: true}
	remote  = trace.Node{NodeID: trace.NodeID{Name: "backend", Type: "remote"}, Inferred: true}
	backend = trace.Node{NodeID: trace.NodeID{Name: "backend", Type: "AWS::ECS::Container"}}
)

// A callee's segment arriving after its caller's was counted moves the
// request from the inferred node (and edge) to the real one. Counters only
// grow: the real node counts it, the inferred one keeps it, and the
// retraction is counted so that the difference from the graph is visible.
func TestRetractedRequestsAreCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg, Config{})
	const st = 1.7e9
	first := &trace.Summary{TraceID: "1-a", Nodes: []trace.Node{web, remote},
		Segments: []trace.SegmentFact{{Node: 0, Root: true, Start: st, End: st + 1}, {Node: 1, Inferred: true, Start: st + .1, End: st + .5}},
		Edges:    []trace.Edge{{From: 0, To: 1, Start: st + .1, End: st + .5}}}
	second := &trace.Summary{TraceID: "1-a", Nodes: []trace.Node{web, remote, backend},
		Segments: []trace.SegmentFact{{Node: 0, Root: true, Start: st, End: st + 1}, {Node: 2, Start: st + .15, End: st + .45}},
		Edges:    []trace.Edge{{From: 0, To: 2, Start: st + .1, End: st + .5}}}
	m.Hook(context.Background(), []store.TraceUpdate{{Summary: first}})
	m.Hook(context.Background(), []store.TraceUpdate{{Summary: second, Previous: first}})

	want := map[string]float64{"backend|remote": 1, "backend|AWS::ECS::Container": 1, "web|AWS::EC2::Instance": 1}
	got := values(t, reg, "roentgen_service_requests_total")
	for k, v := range want {
		if got[k] != v {
			t.Errorf("service requests %s = %v; want %v (all: %v)", k, got[k], v, got)
		}
	}
	if r := values(t, reg, "roentgen_red_retracted_requests_total"); r["service"] != 1 || r["edge"] != 1 {
		t.Errorf("retracted = %v; want one service and one edge request", r)
	}
}

// A label set idle for Config.Idle is dropped, making room under the limit
// for a new one instead of sending it to __other__.
func TestIdleSeriesAreDropped(t *testing.T) {
	reg := prometheus.NewRegistry()
	now := time.Unix(1.7e9, 0)
	m := New(reg, Config{Limit: 1, Idle: 15 * time.Minute, Now: func() time.Time { return now }})
	one := func(name string) []store.TraceUpdate {
		return []store.TraceUpdate{{Summary: &trace.Summary{TraceID: "1-" + name,
			Nodes:    []trace.Node{{NodeID: trace.NodeID{Name: name}, Root: true}},
			Segments: []trace.SegmentFact{{Node: 0, Root: true, Start: 1.7e9, End: 1.7e9 + 1}}}}}
	}
	m.Hook(context.Background(), one("a"))
	now = now.Add(10 * time.Minute)
	m.Hook(context.Background(), one("b")) // a is not idle yet: b overflows
	if got := values(t, reg, "roentgen_service_requests_total"); got["a|"] != 1 || got["__other__|__other__"] != 1 || len(got) != 2 {
		t.Fatalf("after b = %v; want a and __other__", got)
	}
	now = now.Add(6 * time.Minute) // a idle 16 min, __other__ 6 min
	m.Hook(context.Background(), one("c"))
	got := values(t, reg, "roentgen_service_requests_total")
	if _, ok := got["a|"]; ok || got["c|"] != 1 || got["__other__|__other__"] != 1 {
		t.Errorf("after c = %v; want a dropped, c admitted, __other__ kept", got)
	}
	now = now.Add(16 * time.Minute) // everything idle
	m.Hook(context.Background(), one("a"))
	if got := values(t, reg, "roentgen_service_requests_total"); got["a|"] != 1 || len(got) != 1 {
		t.Errorf("a back after everything was dropped = %v; want a alone, counting from zero", got)
	}
}

// A series takes an exemplar for its first request of each ExemplarEvery
// interval and for any request slower than those given one in it; the
// others are observed without (an exemplar costs more than the rest).
func TestExemplarEveryIntervalAndSlowest(t *testing.T) {
	reg := prometheus.NewRegistry()
	now := time.Unix(1.7e9, 0)
	m := New(reg, Config{Now: func() time.Time { return now }})
	put := func(id string, seconds float64) {
		m.Hook(context.Background(), []store.TraceUpdate{{Summary: &trace.Summary{TraceID: id,
			Nodes:    []trace.Node{{NodeID: trace.NodeID{Name: "a"}, Root: true}},
			Segments: []trace.SegmentFact{{Node: 0, Root: true, Start: 1.7e9, End: 1.7e9 + seconds}}}}})
	}
	put("first", 0.1)
	put("faster", 0.04)
	put("slower", 0.2)
	now = now.Add(ExemplarEvery)
	put("next", 0.003)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[float64]string{} // bucket upper bound -> exemplar's trace id
	for _, f := range fams {
		if f.GetName() != "roentgen_service_duration_seconds" {
			continue
		}
		for _, b := range f.GetMetric()[0].GetHistogram().GetBucket() {
			if e := b.GetExemplar(); e != nil {
				got[b.GetUpperBound()] = e.GetLabel()[0].GetValue()
			}
		}
	}
	want := map[float64]string{0.005: "next", 0.1: "first", 0.25: "slower"}
	if len(got) != len(want) {
		t.Errorf("exemplars by bucket = %v; want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("exemplar of bucket le=%v = %q; want %q (all: %v)", k, got[k], v, got)
		}
	}
}

// The duration histograms keep their exemplars in the label sets and attach
// them as they are written: what a scrape gets must be what client_golang's
// own ObserveWithExemplar gives for the same observations (buckets, counts,
// sum, the native histogram, each classic bucket's latest exemplar), with
// the hook's clock as the exemplars' time.
func TestDurationsMatchClientGolang(t *testing.T) {
	reg := prometheus.NewRegistry()
	now := time.Unix(1.7e9, 0)
	m := New(reg, Config{Now: func() time.Time { return now }})
	ref := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ref", Buckets: Buckets,
		NativeHistogramBucketFactor: 1.1, NativeHistogramMaxBucketNumber: 160, NativeHistogramMinResetDuration: time.Hour},
		[]string{"service", "type"}).WithLabelValues("a", "").(prometheus.ExemplarObserver)
	ms := []int64{0, 1, 2, 3, 7, 40, 40, 99, 100, 101, 250, 251, 999, 2500, 7000, 29999, 60000, 60001, 3600000, 5}
	at := map[string]time.Time{}
	for i, d := range ms {
		id := fmt.Sprintf("1-%08x-%024x", int64(1.7e9), i)
		at[id] = now
		m.Hook(context.Background(), []store.TraceUpdate{{Summary: &trace.Summary{TraceID: id,
			Nodes:    []trace.Node{{NodeID: trace.NodeID{Name: "a"}, Root: true}},
			Segments: []trace.SegmentFact{{Node: 0, Root: true, Start: 1.7e9, End: 1.7e9 + float64(d)/1e3}}}}})
		ref.ObserveWithExemplar(float64(graph.BinOf(float64(d)/1e3))/1e3, prometheus.Labels{"trace_id": id}) // every one: each is its interval's first
		now = now.Add(ExemplarEvery)
	}
	var got *dto.Histogram
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == "roentgen_service_duration_seconds" {
			got = f.GetMetric()[0].GetHistogram()
		}
	}
	var want dto.Metric
	if err := ref.(prometheus.Histogram).Write(&want); err != nil {
		t.Fatal(err)
	}
	w := want.GetHistogram()
	if got.GetSampleCount() != w.GetSampleCount() || got.GetSampleSum() != w.GetSampleSum() || got.GetSchema() != w.GetSchema() ||
		got.GetZeroCount() != w.GetZeroCount() || fmt.Sprint(got.GetPositiveSpan(), got.GetPositiveDelta()) != fmt.Sprint(w.GetPositiveSpan(), w.GetPositiveDelta()) {
		t.Fatalf("histogram differs from client_golang's:\n got %v\nwant %v", got, w)
	}
	if len(got.GetBucket()) != len(w.GetBucket()) {
		t.Fatalf("%d classic buckets; client_golang writes %d", len(got.GetBucket()), len(w.GetBucket()))
	}
	classic := map[string]bool{}
	for i, b := range got.GetBucket() {
		wb := w.GetBucket()[i]
		if b.GetUpperBound() != wb.GetUpperBound() || b.GetCumulativeCount() != wb.GetCumulativeCount() {
			t.Errorf("bucket %d: le=%v count %d; want le=%v count %d", i, b.GetUpperBound(), b.GetCumulativeCount(), wb.GetUpperBound(), wb.GetCumulativeCount())
		}
		e, we := b.GetExemplar(), wb.GetExemplar()
		if (e == nil) != (we == nil) {
			t.Errorf("bucket le=%v: exemplar %v; want %v", b.GetUpperBound(), e, we)
			continue
		}
		if e == nil {
			continue
		}
		id := e.GetLabel()[0].GetValue()
		if e.GetValue() != we.GetValue() || id != we.GetLabel()[0].GetValue() || !e.GetTimestamp().AsTime().Equal(at[id]) {
			t.Errorf("bucket le=%v: exemplar %v; want %v at %v", b.GetUpperBound(), e, we, at[id])
		}
		classic[id] = true
	}
	// The native histogram's exemplars are the classic buckets' latest,
	// oldest first, as Prometheus takes them.
	if len(got.GetExemplars()) != len(classic) {
		t.Errorf("%d native exemplars; want the %d classic ones", len(got.GetExemplars()), len(classic))
	}
	for i, e := range got.GetExemplars() {
		if !classic[e.GetLabel()[0].GetValue()] || i > 0 && e.GetTimestamp().AsTime().Before(got.GetExemplars()[i-1].GetTimestamp().AsTime()) {
			t.Errorf("native exemplar %d: %v", i, e)
		}
	}
}

// A request that takes an exemplar allocates no more than one that does not:
// no exemplar objects, no label maps (live, they pinned most of the heap
// spans an idle server kept after a load).
func TestHookAllocatesNoExemplars(t *testing.T) {
	now := time.Unix(1.7e9, 0)
	m := New(prometheus.NewRegistry(), Config{Now: func() time.Time { return now }})
	ups := make([][]store.TraceUpdate, 16)
	for i := range ups {
		ups[i] = []store.TraceUpdate{{Summary: &trace.Summary{TraceID: fmt.Sprintf("1-%08x-%024x", int64(1.7e9), i),
			Nodes:    []trace.Node{{NodeID: trace.NodeID{Name: "a"}, Root: true}},
			Segments: []trace.SegmentFact{{Node: 0, Root: true, Start: 1.7e9, End: 1.7e9 + float64(i)}}}}}
	}
	i, step := 0, ExemplarEvery // every request takes an exemplar
	hook := func() {
		now = now.Add(step)
		m.Hook(context.Background(), ups[i%len(ups)])
		i++
	}
	for range 2 * len(ups) { // the series and their native buckets exist
		hook()
	}
	with := testing.AllocsPerRun(100, hook)
	step = 0 // none does: one interval, its slowest request seen
	without := testing.AllocsPerRun(100, hook)
	if with > without {
		t.Errorf("%v allocations per trace taking an exemplar, %v without", with, without)
	}
}

// Scrapes read the exemplars the hook writes: under the race detector, a
// scrape running beside counting must find them guarded (Metrics.mu).
func TestScrapeWhileCounting(t *testing.T) {
	reg := prometheus.NewRegistry()
	var mu sync.Mutex // the test's clock, advanced by the hook's goroutine
	now := time.Unix(1.7e9, 0)
	m := New(reg, Config{Now: func() time.Time { mu.Lock(); defer mu.Unlock(); now = now.Add(ExemplarEvery); return now }})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 200 {
			m.Hook(context.Background(), []store.TraceUpdate{{Summary: &trace.Summary{TraceID: fmt.Sprintf("1-%08x-%024x", int64(1.7e9), i),
				Nodes:    []trace.Node{{NodeID: trace.NodeID{Name: fmt.Sprintf("svc-%d", i%7)}, Root: true}},
				Segments: []trace.SegmentFact{{Node: 0, Root: true, Start: 1.7e9, End: 1.7e9 + float64(i%50)}}}}})
		}
	})
	for range 50 {
		if _, err := reg.Gather(); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
	if got := values(t, reg, "roentgen_service_requests_total"); len(got) != 7 {
		t.Errorf("%d service series; want 7", len(got))
	}
}
