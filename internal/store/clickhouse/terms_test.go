package clickhouse_test

import (
	"context"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// TestApplyWritesOnlyAddedTerms: a summary version writes the index terms
// its trace did not carry before in its epoch, all of them when the trace
// moved to another epoch, and a search still finds the trace by a term
// only an older version wrote (the conformance suite checks lost terms).
func TestApplyWritesOnlyAddedTerms(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := clickhouse.Open(ctx, clickhousetest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ep := storetest.Base
	id := storetest.TraceID(ep, 1)
	rows := func() uint64 {
		t.Helper()
		n, err := s.Count(ctx, "terms")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	apply := func(sum, prev *trace.Summary) {
		t.Helper()
		if err := s.Apply(ctx, []store.TraceUpdate{{TraceID: id, Epoch: sum.Epoch, Summary: sum, Previous: prev}}); err != nil {
			t.Fatal(err)
		}
	}
	first := storetest.Summary(id, ep)
	apply(first, nil)
	all := uint64(len(store.TermsOf(first)))
	if n := rows(); n != all {
		t.Fatalf("%d term rows for a new trace, want its %d terms", n, all)
	}
	same := storetest.Summary(id, ep)
	same.Revision = 1
	apply(same, first)
	if n := rows(); n != all {
		t.Errorf("%d term rows after a version with the same terms, want still %d", n, all)
	}
	annotated := storetest.Summary(id, ep)
	annotated.Annotations = []trace.Annotation{{Key: "tier", Value: "gold", Nodes: []int{0}}}
	apply(annotated, same)
	if n, want := rows(), all+2; n != want { // the key, and the key with its value
		t.Errorf("%d term rows after adding an annotation, want %d", n, want)
	}
	// The service's term was written by the first version alone.
	svc := store.Term{Field: store.FieldService, Value: "svc"}
	got := storetest.Collect(t, s, store.SummaryQuery{From: ep, To: ep + 60, AnyOf: []store.Term{svc}})
	if len(got) != 1 || got[0] != id {
		t.Errorf("search by the service found %v, want [%s]", got, id)
	}
	moved := storetest.Summary(id, ep+store.PartitionSeconds)
	moved.Annotations = annotated.Annotations
	apply(moved, annotated)
	if n, want := rows(), 2*all+4; n != want {
		t.Errorf("%d term rows after the trace moved epoch, want %d (all its terms again)", n, want)
	}
}
