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
