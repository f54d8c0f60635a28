package red

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

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
