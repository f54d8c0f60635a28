package clickhouse_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// TestSummaryClearsOnlyWhatItRead (issue 17): process A commits a put's
// pending mark; process B, holding the trace's lease, reads and summarises
// the trace before A's documents are stored; then A's documents are stored
// and A dies without summarising them. B's cleared mark must not hide A's:
// the trace stays pending, and a recovering process reads A's documents.
func TestSummaryClearsOnlyWhatItRead(t *testing.T) { onBothLayouts(t, summaryClearsOnlyWhatItRead) }

func summaryClearsOnlyWhatItRead(t *testing.T, db string) {
	a, b := open(t, db), open(t, db)
	defer a.Close()
	defer b.Close()
	ctx := context.Background()
	ep := time.Now().Unix()
	id := storetest.TraceID(ep, 1)
	docA, docB := storetest.Doc("aaaaaaaaaaaaaaaa", "a"), storetest.Doc("bbbbbbbbbbbbbbbb", "b")

	marks, docs := a.PrepareDocsInStages([]store.DocPut{{TraceID: id, Epoch: ep, Docs: []store.Doc{docA}}})
	if err := marks(ctx); err != nil {
		t.Fatal(err)
	}
	// B stores a document of its own, then summarises what it reads.
	if err := b.PutDocs(ctx, []store.DocPut{{TraceID: id, Epoch: ep, Docs: []store.Doc{docB}}}); err != nil {
		t.Fatal(err)
	}
	if got, err := b.LeaseTraces(ctx, []string{id}); err != nil || len(got) != 1 {
		t.Fatalf("B leased %v, %v; want the trace", got, err)
	}
	read, err := b.Traces(ctx, []string{id})
	if err != nil {
		t.Fatal(err)
	}
	if got := docIDs(read[id]); fmt.Sprint(got) != fmt.Sprint([]string{docB.ID}) {
		t.Fatalf("B read documents %v, want only its own %s", got, docB.ID)
	}
	if err := b.Apply(ctx, []store.TraceUpdate{{TraceID: id, Epoch: ep, Summary: storetest.Summary(id, ep)}}); err != nil {
		t.Fatal(err)
	}
	// A's documents land; A dies before summarising them.
	if err := docs(ctx); err != nil {
		t.Fatal(err)
	}

	among, err := b.PendingAmong(ctx, []string{id})
	if err != nil || !slices.Equal(among, []string{id}) {
		t.Errorf("PendingAmong = %v, %v; want [%s]: A's documents are not summarised", among, err, id)
	}
	var all, stale []string
	if err := b.Pending(ctx, func(t string) bool { all = append(all, t); return true }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(all, []string{id}) {
		t.Errorf("Pending = %v, want [%s]", all, id)
	}
	if err := b.PendingBefore(ctx, time.Now().Add(time.Minute), func(t string) bool { stale = append(stale, t); return true }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(stale, []string{id}) {
		t.Errorf("PendingBefore(in a minute) = %v, want [%s]", stale, id)
	}

	// A recovering process reads both documents, and its summary clears
	// the trace.
	c := open(t, db)
	defer c.Close()
	if got, err := c.LeaseTraces(ctx, []string{id}); err != nil || len(got) != 1 {
		t.Fatalf("C leased %v, %v; want the trace", got, err)
	}
	read, err = c.Traces(ctx, []string{id})
	if err != nil {
		t.Fatal(err)
	}
	if got := docIDs(read[id]); fmt.Sprint(got) != fmt.Sprint([]string{docA.ID, docB.ID}) {
		t.Fatalf("C read documents %v, want both", got)
	}
	if err := c.Apply(ctx, []store.TraceUpdate{{TraceID: id, Epoch: ep, Summary: storetest.Summary(id, ep), Previous: read[id].Summary}}); err != nil {
		t.Fatal(err)
	}
	if among, err := c.PendingAmong(ctx, []string{id}); err != nil || len(among) != 0 {
		t.Errorf("after C's summary PendingAmong = %v, %v; want none", among, err)
	}
}

// TestSummaryClearsRewrittenDocuments: a mark whose documents were since
// replaced by newer versions of the same ids is cleared by a summary that
// read the newer ones, else the trace would be summarised again forever.
func TestSummaryClearsRewrittenDocuments(t *testing.T) {
	onBothLayouts(t, summaryClearsRewrittenDocuments)
}

func summaryClearsRewrittenDocuments(t *testing.T, db string) {
	a, b := open(t, db), open(t, db)
	defer a.Close()
	defer b.Close()
	ctx := context.Background()
	ep := time.Now().Unix()
	id := storetest.TraceID(ep, 1)
	for i, s := range []*clickhouse.Store{a, b} {
		put := store.DocPut{TraceID: id, Epoch: ep, Docs: []store.Doc{storetest.Doc("aaaaaaaaaaaaaaaa", fmt.Sprint("version ", i))}}
		if err := s.PutDocs(ctx, []store.DocPut{put}); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := b.LeaseTraces(ctx, []string{id}); err != nil || len(got) != 1 {
		t.Fatalf("B leased %v, %v; want the trace", got, err)
	}
	read, err := b.Traces(ctx, []string{id})
	if err != nil {
		t.Fatal(err)
	}
	if st := read[id]; st == nil || len(st.Docs) != 1 || string(st.Docs[0].Raw) != "version 1" {
		t.Fatalf("B read %+v, want the newer document", st)
	}
	if err := b.Apply(ctx, []store.TraceUpdate{{TraceID: id, Epoch: ep, Summary: storetest.Summary(id, ep)}}); err != nil {
		t.Fatal(err)
	}
	if among, err := b.PendingAmong(ctx, []string{id}); err != nil || len(among) != 0 {
		t.Errorf("PendingAmong = %v, %v; want none: both marks' documents were read", among, err)
	}
}

// onBothLayouts runs test on a database of one server and on a sharded one.
func onBothLayouts(t *testing.T, test func(t *testing.T, db string)) {
	t.Run("server", func(t *testing.T) { test(t, clickhousetest.NewDatabase(t)) })
	t.Run("sharded", func(t *testing.T) { test(t, clickhousetest.NewShardedDatabase(t)) })
}

func docIDs(st *store.StoredTrace) []string {
	if st == nil {
		return nil
	}
	var ids []string
	for _, d := range st.Docs {
		ids = append(ids, d.ID)
	}
	return ids
}
