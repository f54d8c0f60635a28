package graph

import (
	"context"
	"runtime"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Batches whose Apply failed are prepared and never handed over: they are
// dropped rather than kept (each holds its updates), while the batches in
// flight stay, and a batch handed over leaves nothing behind.
func TestBatchesNeverStoredAreDropped(t *testing.T) {
	a := NewAggregator(AggregatorConfig{})
	var observed int
	a.AddObserver(func(ups []store.TraceUpdate, changes func(int) []Change) {
		for i := range ups {
			observed += len(changes(i))
		}
	})
	s := &trace.Summary{TraceID: "1-5f000000-000000000000000000000001", StartTime: 1.6e9,
		Nodes:    []trace.Node{{NodeID: trace.NodeID{Name: "a", Type: "AWS::EC2::Instance"}}},
		Segments: []trace.SegmentFact{{Node: 0, Root: true, Start: 1.6e9, End: 1.6e9 + 1}}}
	for range 100 {
		a.Prepare([]store.TraceUpdate{{TraceID: s.TraceID, Summary: s}}) // Apply failed: no Hook
	}
	if n, limit := len(a.prepared), max(2, runtime.GOMAXPROCS(0)); n > limit {
		t.Errorf("%d batches kept that were never stored, want at most %d", n, limit)
	}
	ups := []store.TraceUpdate{{TraceID: s.TraceID, Summary: s}}
	a.Prepare(ups)
	cb := a.prepared[&ups[0]]
	if cb == nil {
		t.Fatal("the batch just prepared is not kept")
	}
	a.Hook(context.Background(), ups)
	if a.prepared[&ups[0]] != nil {
		t.Error("a batch handed over is still kept")
	}
	if observed != 2 { // the node and its client edge
		t.Errorf("observed %d changes, want 2", observed)
	}
}
