package clickhouse_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// TestBatchReadsNameExactlyTheirTraces: the summarising path's reads name
// their traces in external data and array literals (idset.go); ids that need escaping, in
// several partitions and more than one query's worth, read back exactly
// their own documents, where each is filed, are all pending, and their
// lease claims are seen by another process.
func TestBatchReadsNameExactlyTheirTraces(t *testing.T) {
	t.Parallel()
	db := clickhousetest.NewDatabase(t)
	s := open(t, db)
	defer s.Close()
	ctx := context.Background()
	ids := []string{"a'b", `c\d`, "e\tf", "g\xffh", "[i]", "j, 'k'"}
	for i := range 2100 { // past tracesPerQuery
		ids = append(ids, storetest.TraceID(storetest.Base, i))
	}
	epochOf := func(i int) int64 { return storetest.Base + int64(i%3)*store.PartitionSeconds }
	var puts []store.DocPut
	for i, id := range ids {
		puts = append(puts, store.DocPut{TraceID: id, Epoch: epochOf(i), Docs: []store.Doc{storetest.Doc("aaaaaaaaaaaaaaaa", fmt.Sprint("doc ", i))}})
	}
	if err := s.PutDocs(ctx, puts); err != nil {
		t.Fatal(err)
	}
	unknown := []string{"a'", "b", storetest.TraceID(storetest.Base, 99999)}
	got, err := s.Traces(ctx, append(slices.Clone(ids), unknown...))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ids) {
		t.Errorf("Traces found %d traces, want %d", len(got), len(ids))
	}
	for i, id := range ids {
		st := got[id]
		if st == nil || st.Epoch != epochOf(i) || len(st.Docs) != 1 || string(st.Docs[0].Raw) != string(puts[i].Docs[0].Raw) {
			t.Errorf("Traces[%q] = %+v, want epoch %d and %q", id, st, epochOf(i), puts[i].Docs[0].Raw)
		}
	}
	among, err := s.PendingAmong(ctx, append(slices.Clone(ids), unknown...))
	slices.Sort(among)
	want := slices.Sorted(slices.Values(ids))
	if err != nil || !slices.Equal(among, want) {
		t.Errorf("PendingAmong = %d traces (%v), want the %d stored", len(among), err, len(want))
	}
	held, err := s.LeaseTraces(ctx, ids[:10])
	if err != nil || len(held) != 10 {
		t.Errorf("LeaseTraces = %v, %v; want all 10", held, err)
	}
	other := open(t, db) // another process: each claim it reads back is held
	defer other.Close()
	if held, err := other.LeaseTraces(ctx, ids[:10]); err != nil || len(held) != 0 {
		t.Errorf("the other process's LeaseTraces = %q, %v; want none", held, err)
	}
}
