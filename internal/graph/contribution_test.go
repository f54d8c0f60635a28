package graph_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// TestContributeEntities: the entities Contribute hands to add are the
// documented ones (a root's client edge is EdgeEntity(ClientOf(n), n), for
// names and accounts of any length), and they stay intact after later calls
// reuse Contribute's scratch.
func TestContributeEntities(t *testing.T) {
	long := strings.Repeat("x", 300) // past the encoders' stack buffers
	ids := []trace.NodeID{
		{Name: "api", Type: "AWS::EC2::Instance"},
		{Name: "api", Type: "AWS::Lambda::Function", AccountID: "123456789012"},
		{Name: "ünïcode", Type: ""},
		{Name: long, Type: "AWS::ECS::Container", AccountID: long},
	}
	entities := func(s *trace.Summary) []graph.Entity {
		var out []graph.Entity
		graph.Contribute(s, 1, func(k graph.Key, _ *graph.Stats) { out = append(out, k.Entity) })
		return out
	}
	var kept [][]graph.Entity
	var copies [][]string
	for i, id := range ids {
		callee := ids[(i+1)%len(ids)]
		s := &trace.Summary{
			Nodes:    []trace.Node{{NodeID: id}, {NodeID: callee, Inferred: true}},
			Segments: []trace.SegmentFact{{Node: 0, Root: true, Start: 60, End: 61}, {Node: 1, Inferred: true, Start: 60, End: 60.5}},
			Edges:    []trace.Edge{{From: 0, To: 1, Start: 60, End: 60.5}},
		}
		got := entities(s)
		want := []graph.Entity{
			graph.NodeEntity(id), graph.EdgeEntity(graph.ClientOf(id), id),
			graph.NodeEntity(callee), graph.EdgeEntity(id, callee),
		}
		if len(got) != len(want) {
			t.Fatalf("%v: %d entities, want %d", id, len(got), len(want))
		}
		for j := range want {
			if got[j] != want[j] {
				t.Errorf("%v: entity %d = %q, want %q", id, j, got[j], want[j])
			}
		}
		if from, to, ok := got[1].Edge(); !ok || from != graph.ClientOf(id) || to != id {
			t.Errorf("%v: client edge decodes to %v -> %v (%v)", id, from, to, ok)
		}
		kept = append(kept, got)
		var c []string
		for _, e := range got {
			c = append(c, string([]byte(e)))
		}
		copies = append(copies, c)
	}
	for i := range kept {
		for j := range kept[i] {
			if string(kept[i][j]) != copies[i][j] {
				t.Fatalf("entity %d of call %d changed by later calls", j, i)
			}
		}
	}
}

// BenchmarkContribute is one summary's contribution, as each of the
// statistics and RED pay it per version of a trace: a single-segment trace
// and a synthetic ~8-node one.
func BenchmarkContribute(b *testing.B) {
	single := &trace.Summary{
		Nodes:    []trace.Node{{NodeID: trace.NodeID{Name: "checkout", Type: "AWS::EC2::Instance"}}},
		Segments: []trace.SegmentFact{{Node: 0, Root: true, Start: 1.8e9, End: 1.8e9 + 0.1}},
		Duration: 0.1,
	}
	for _, c := range []struct {
		name string
		s    *trace.Summary
	}{{"single", single}, {"multi", syntheticSummary(rand.New(rand.NewPCG(1, 1)), 1.8e9)}} {
		b.Run(c.name, func(b *testing.B) {
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				graph.Contribute(c.s, 1, func(graph.Key, *graph.Stats) { n++ })
			}
		})
	}
}

// TestContributeStats pins the statistics of each request Contribute hands
// add (the ingest path adds the same requests to its sums without building
// these): outcomes, rounded response time, bins, a root's duration as the
// trace's, and extremes that a subtraction leaves alone.
func TestContributeStats(t *testing.T) {
	const st = 1.8e9 + 30.25
	api := trace.NodeID{Name: "api", Type: "AWS::EC2::Instance"}
	db := trace.NodeID{Name: "db", Type: "AWS::DynamoDB::Table"}
	s := &trace.Summary{
		Duration: 2.5,
		Nodes:    []trace.Node{{NodeID: api}, {NodeID: db, Inferred: true}},
		Segments: []trace.SegmentFact{
			{Node: 0, Root: true, Start: st, End: st + 1.0005, Throttle: true, Error: true},
			{Node: 1, Inferred: true, Start: st + 0.1, End: st + 0.35, Fault: true},
			{Node: 1, Inferred: true, Start: st + 0.4, End: 0}, // not completed: counts nowhere
		},
		Edges: []trace.Edge{{From: 0, To: 1, Start: st + 0.1, End: st + 0.35, Error: true}},
	}
	bucket := int64(1.8e9)
	h := func(ms int64, n int64) graph.Histogram { return graph.Histogram{{Ms: ms, Count: n}} }
	for _, sign := range []int64{1, -1} {
		first, last, lastDB := int64(1.8e9+30), int64(1.8e9+32), int64(1.8e9+31)
		if sign < 0 {
			first, last, lastDB = 0, 0, 0
		}
		want := []struct {
			e graph.Entity
			s graph.Stats
		}{
			{graph.NodeEntity(api), graph.Stats{Throttle: sign, ResponseMicros: sign * 1000500, Root: sign, Real: sign, First: first, Last: last, Response: h(1000, sign), Duration: h(2500, sign)}},
			{graph.EdgeEntity(graph.ClientOf(api), api), graph.Stats{Throttle: sign, ResponseMicros: sign * 1000500, First: first, Last: last, Response: h(1000, sign)}},
			{graph.NodeEntity(db), graph.Stats{Fault: sign, ResponseMicros: sign * 250000, First: first, Last: lastDB, Response: h(250, sign), Duration: h(250, sign)}},
			{graph.EdgeEntity(api, db), graph.Stats{ErrorOther: sign, ResponseMicros: sign * 250000, First: first, Last: lastDB, Response: h(250, sign)}},
		}
		i := 0
		graph.Contribute(s, sign, func(k graph.Key, got *graph.Stats) {
			if i >= len(want) {
				t.Fatalf("sign %d: more than %d requests", sign, len(want))
			}
			w := want[i]
			i++
			if k.Entity != w.e || k.Bucket != bucket {
				t.Fatalf("sign %d: request %d at %q %d, want %q %d", sign, i, k.Entity, k.Bucket, w.e, bucket)
			}
			if string(got.Encode()) != string(w.s.Encode()) {
				t.Errorf("sign %d, %q: %+v, want %+v", sign, k.Entity, *got, w.s)
			}
		})
		if i != len(want) {
			t.Fatalf("sign %d: %d requests, want %d", sign, i, len(want))
		}
	}
}
