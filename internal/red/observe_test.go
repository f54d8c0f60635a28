package red

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Counted through the graph aggregator (Observe, given the changes its
// Prepare computed with the statistics), RED's series are exactly those
// its own Hook counts: new traces, a trace summarised again that moves a
// request from an inferred node to a real one (a retraction), an update
// without a summary, and batches the aggregator did not prepare.
func TestObserveCountsAsHook(t *testing.T) {
	now := time.Unix(1.7e9, 0)
	cfg := Config{Now: func() time.Time { return now }}
	regHook, regObs := prometheus.NewRegistry(), prometheus.NewRegistry()
	hook, obs := New(regHook, cfg), New(regObs, cfg)
	agg := graph.NewAggregator(graph.AggregatorConfig{})
	agg.AddObserver(obs.Observe)

	const st = 1.7e9
	var batches [][]store.TraceUpdate
	var firsts []store.TraceUpdate
	for i := range 30 {
		s := &trace.Summary{TraceID: fmt.Sprintf("1-%08x-%024x", int64(st), i), Nodes: []trace.Node{web, remote},
			Segments: []trace.SegmentFact{{Node: 0, Root: true, Start: st, End: st + 1 + float64(i)/10, Fault: i%7 == 0}, {Node: 1, Inferred: true, Start: st + .1, End: st + .5}},
			Edges:    []trace.Edge{{From: 0, To: 1, Start: st + .1, End: st + .5, Error: i%5 == 0}}}
		firsts = append(firsts, store.TraceUpdate{TraceID: s.TraceID, Summary: s})
	}
	batches = append(batches, firsts)
	var seconds []store.TraceUpdate
	for i, u := range firsts[:10] {
		s := &trace.Summary{TraceID: u.TraceID, Nodes: []trace.Node{web, remote, backend},
			Segments: []trace.SegmentFact{{Node: 0, Root: true, Start: st, End: st + 1}, {Node: 2, Start: st + .15, End: st + .45 + float64(i)/100}},
			Edges:    []trace.Edge{{From: 0, To: 2, Start: st + .1, End: st + .5}}}
		seconds = append(seconds, store.TraceUpdate{TraceID: s.TraceID, Summary: s, Previous: u.Summary})
	}
	seconds = append(seconds, store.TraceUpdate{TraceID: "1-none", Previous: firsts[11].Summary})
	batches = append(batches, seconds, seconds[5:])
	for n, b := range batches {
		hook.Hook(context.Background(), b)
		ups := append([]store.TraceUpdate(nil), b...)
		if n < 2 {
			agg.Prepare(ups)
		} // the last batch is not prepared: Hook computes its changes
		agg.Hook(context.Background(), ups)
	}
	if h, o := scrape(t, regHook), scrape(t, regObs); h != o {
		t.Errorf("observed:\n%s\nwant, as Hook counts:\n%s", o, h)
	}
	if r := values(t, regObs, "roentgen_red_retracted_requests_total"); r["service"] != 15 {
		t.Errorf("retracted = %v; want 15 service requests", r)
	}
}

func scrape(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	// OpenMetrics, so that exemplars (and their trace ids) are compared too.
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeOpenMetrics))
	for _, f := range fams {
		if err := enc.Encode(f); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// Entities named by one shared string (as the graph interns a batch's)
// count as entities named by a fresh string each time: across sweeps that
// drop their sets and admit others in their place, and the overflow set.
// A family that found a dropped set by its entity's address would keep
// counting into a series no longer exported.
func TestSharedEntityStringsCountAsFresh(t *testing.T) {
	now := time.Unix(1.7e9, 0)
	cfg := Config{Limit: 3, Idle: 15 * time.Minute, Now: func() time.Time { return now }}
	regShared, regFresh := prometheus.NewRegistry(), prometheus.NewRegistry()
	shared, fresh := New(regShared, cfg), New(regFresh, cfg)
	var ents []graph.Entity
	for i := range 6 {
		n := trace.NodeID{Name: fmt.Sprint("svc", i), Type: "AWS::EC2::Instance"}
		ents = append(ents, graph.NodeEntity(n), graph.EdgeEntity(graph.ClientOf(n), n))
	}
	ups := []store.TraceUpdate{{Summary: &trace.Summary{TraceID: "1-5f84c7a1-000000000000000000000001"}}}
	for step := range 200 {
		// Entities used in turns, so that some idle long enough to be
		// swept while others stay, and the limit overflows.
		var changes []graph.Change
		for j, e := range ents {
			if (step/20+j)%4 == 0 || step%7 == 0 && j == (step/7)%len(ents) {
				changes = append(changes, graph.Change{Entity: e, Stats: &graph.Stats{OK: 1, ResponseMicros: 5000, Response: graph.Histogram{{Ms: 5, Count: 1}}}})
			}
		}
		shared.Observe(ups, func(int) []graph.Change { return changes })
		clones := make([]graph.Change, len(changes))
		for i, c := range changes {
			clones[i] = graph.Change{Entity: graph.Entity(strings.Clone(string(c.Entity))), Stats: c.Stats}
		}
		fresh.Observe(ups, func(int) []graph.Change { return clones })
		now = now.Add(time.Minute)
	}
	if s, f := scrape(t, regShared), scrape(t, regFresh); s != f {
		t.Errorf("shared entity strings counted:\n%s\nwant, as fresh ones:\n%s", s, f)
	}
}
