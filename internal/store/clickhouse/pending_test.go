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

// TestSummaryClearsOnlyWhatItRead (issue 17): process A prepares a put
// (its version fixed) and, as builds before schema version 6 did, commits
// its pending mark; process B, holding the trace's lease, reads and
// summarises the trace before A's documents are stored; then A's documents
// are stored and A dies without summarising them. B's cleared marks must
// not hide A's documents: the trace stays pending, and a recovering
// process reads them. A is this build (its documents are its mark) or an
// older one (a traces row, then the documents).
func TestSummaryClearsOnlyWhatItRead(t *testing.T) {
	t.Parallel()
	onBothLayouts(t, func(t *testing.T, db string) { summaryClearsOnlyWhatItRead(t, db, false) })
	t.Run("older-build", func(t *testing.T) {
		onBothLayouts(t, func(t *testing.T, db string) { summaryClearsOnlyWhatItRead(t, db, true) })
	})
}

func summaryClearsOnlyWhatItRead(t *testing.T, db string, olderA bool) {
	a, b := open(t, db), open(t, db)
	defer a.Close()
	defer b.Close()
	ctx := context.Background()
	ep := time.Now().Unix()
	id := storetest.TraceID(ep, 1)
	docA, docB := storetest.Doc("aaaaaaaaaaaaaaaa", "a"), storetest.Doc("bbbbbbbbbbbbbbbb", "b")

	putA := []store.DocPut{{TraceID: id, Epoch: ep, Docs: []store.Doc{docA}}}
	marks, docs := func(context.Context) error { return nil }, a.PrepareDocs(putA)
	if olderA {
		marks, docs = a.PrepareDocsInStages(putA)
	}
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
	t.Parallel()
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

// TestPendingMarksOfAnOldDatabase: a database at schema version 5, written
// by a build whose marks were traces rows, holds a summarised trace and a
// pending one (its mark and document as that build wrote them). Opened by
// this build (version 6, docs.epoch) the pending trace is pending to every
// lookup, reads back where it is filed, and a summary clears it; a put of
// this build, with no traces row, is pending until summarised too; the
// summarised trace stays clear.
func TestPendingMarksOfAnOldDatabase(t *testing.T) {
	t.Parallel()
	u := clickhousetest.NewDatabase(t)
	ctx := context.Background()
	s := open(t, u)
	ep := time.Now().Unix()
	done, old, fresh := storetest.TraceID(ep, 1), storetest.TraceID(ep, 2), storetest.TraceID(ep, 3)
	storetest.Put(t, s, storetest.Summary(done, ep), storetest.Doc("aaaaaaaaaaaaaaaa", "a"))
	marks, docs := s.PrepareDocsInStages([]store.DocPut{{TraceID: old, Epoch: ep, Docs: []store.Doc{storetest.Doc("bbbbbbbbbbbbbbbb", "b")}}})
	if err := marks(ctx); err != nil {
		t.Fatal(err)
	}
	if err := docs(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
	downgrade(t, u, "docs", "p UInt32, trace String, doc String, ver UInt64, raw String", "ORDER BY (trace, doc, ver) SETTINGS index_granularity = 256")
	query(t, u, "DROP TABLE schema_version")
	query(t, u, "CREATE TABLE schema_version (version UInt32) ENGINE = MergeTree ORDER BY version")
	query(t, u, "INSERT INTO schema_version VALUES (1), (2), (3), (4), (5)")

	s = open(t, u)
	defer s.Close()
	if v := query(t, u, "SELECT max(version) FROM schema_version"); v != clickhouse.SchemaVersion {
		t.Fatalf("schema version %s after the upgrade, want %s", v, clickhouse.SchemaVersion)
	}
	if err := s.PutDocs(ctx, []store.DocPut{{TraceID: fresh, Epoch: ep, Docs: []store.Doc{storetest.Doc("cccccccccccccccc", "c")}}}); err != nil {
		t.Fatal(err)
	}
	wantPending(t, s, []string{old, fresh}, done, old, fresh)
	if st, err := s.Trace(ctx, old); err != nil || len(st.Docs) != 1 || st.Epoch != ep {
		t.Fatalf("the old pending trace: %+v, %v", st, err)
	}
	if ep2, err := s.ForeignEpoch(ctx, fresh); err == nil {
		t.Errorf("ForeignEpoch(%s) = %d, want none: it is filed under its own epoch", fresh, ep2)
	}
	if got, err := s.LeaseTraces(ctx, []string{old, fresh}); err != nil || len(got) != 2 {
		t.Fatalf("leased %v, %v; want both", got, err)
	}
	read, err := s.Traces(ctx, []string{old, fresh})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{old, fresh} {
		if st := read[id]; st == nil || len(st.Docs) != 1 || st.Epoch != ep {
			t.Fatalf("Traces(%s) = %+v, want its document, filed under %d", id, st, ep)
		}
	}
	err = s.Apply(ctx, []store.TraceUpdate{
		{TraceID: old, Epoch: ep, Summary: storetest.Summary(old, ep)},
		{TraceID: fresh, Epoch: ep, Summary: storetest.Summary(fresh, ep)},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantPending(t, s, nil, done, old, fresh)
}

// wantPending checks Pending, PendingBefore and PendingAmong(ids) against
// want.
func wantPending(t *testing.T, s *clickhouse.Store, want []string, ids ...string) {
	t.Helper()
	ctx := context.Background()
	want = slices.Sorted(slices.Values(want))
	var all, stale []string
	if err := s.Pending(ctx, func(id string) bool { all = append(all, id); return true }); err != nil {
		t.Fatal(err)
	}
	if err := s.PendingBefore(ctx, time.Now().Add(time.Minute), func(id string) bool { stale = append(stale, id); return true }); err != nil {
		t.Fatal(err)
	}
	among, err := s.PendingAmong(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(among)
	for name, got := range map[string][]string{"Pending": all, "PendingBefore": stale, "PendingAmong": among} {
		if !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

// TestSummaryRowClearsItsMarks: since schema version 7 a leased summary's
// row carries the marks it clears, so it writes no traces rows, and a
// database written by a version-6 build (summaries without that column,
// their marks cleared by traces rows) upgrades: its summarised trace stays
// clear, its pending one stays pending until this build summarises it.
func TestSummaryRowClearsItsMarks(t *testing.T) {
	t.Parallel()
	u := clickhousetest.NewDatabase(t)
	ctx := context.Background()
	s := open(t, u)
	ep := time.Now().Unix()
	done, old, fresh := storetest.TraceID(ep, 1), storetest.TraceID(ep, 2), storetest.TraceID(ep, 3)
	summarise := func(s *clickhouse.Store, ids ...string) {
		t.Helper()
		if got, err := s.LeaseTraces(ctx, ids); err != nil || len(got) != len(ids) {
			t.Fatalf("leased %v, %v; want %v", got, err, ids)
		}
		if _, err := s.Traces(ctx, ids); err != nil {
			t.Fatal(err)
		}
		var us []store.TraceUpdate
		for _, id := range ids {
			us = append(us, store.TraceUpdate{TraceID: id, Epoch: ep, Summary: storetest.Summary(id, ep)})
		}
		if err := s.Apply(ctx, us); err != nil {
			t.Fatal(err)
		}
	}
	put := func(s *clickhouse.Store, id, doc string) {
		t.Helper()
		if err := s.PutDocs(ctx, []store.DocPut{{TraceID: id, Epoch: ep, Docs: []store.Doc{storetest.Doc(doc, "x")}}}); err != nil {
			t.Fatal(err)
		}
	}
	put(s, done, "aaaaaaaaaaaaaaaa")
	summarise(s, done)
	if n := query(t, u, "SELECT count() FROM traces"); n != "0" {
		t.Fatalf("%s traces rows written by a leased summary, want none", n)
	}
	wantPending(t, s, nil, done)
	put(s, old, "bbbbbbbbbbbbbbbb")
	s.Close()

	// As a version-6 build wrote it: the summary's cleared rows in traces
	// (its mark's version and its own), no cleared column.
	query(t, u, fmt.Sprintf(`INSERT INTO traces SELECT p, trace, epoch, arrayJoin(arrayPushBack(cleared, ver)), 2 FROM summaries WHERE trace = '%s'`, done))
	downgrade(t, u, "summaries", "p UInt32, epoch Int64, trace String, ver UInt64, sum String", "ORDER BY (trace, ver) SETTINGS index_granularity = 256")
	query(t, u, "DROP TABLE schema_version")
	query(t, u, "CREATE TABLE schema_version (version UInt32) ENGINE = MergeTree ORDER BY version")
	query(t, u, "INSERT INTO schema_version VALUES (1), (2), (3), (4), (5), (6)")
	if n := query(t, u, "SELECT count() FROM system.columns WHERE database = currentDatabase() AND table = 'summaries' AND name = 'cleared'"); n != "0" {
		t.Fatalf("the downgraded summaries table still has its cleared column")
	}

	s = open(t, u)
	defer s.Close()
	if v := query(t, u, "SELECT max(version) FROM schema_version"); v != clickhouse.SchemaVersion {
		t.Fatalf("schema version %s after the upgrade, want %s", v, clickhouse.SchemaVersion)
	}
	wantPending(t, s, []string{old}, done, old)
	put(s, fresh, "cccccccccccccccc")
	wantPending(t, s, []string{old, fresh}, done, old, fresh)
	summarise(s, old, fresh)
	wantPending(t, s, nil, done, old, fresh)
	if n := query(t, u, fmt.Sprintf("SELECT count() FROM traces WHERE trace != '%s'", done)); n != "0" {
		t.Errorf("%s traces rows written by this build's leased summaries, want none", n)
	}
	for _, id := range []string{done, old, fresh} {
		if st, err := s.Trace(ctx, id); err != nil || len(st.Docs) != 1 || st.Epoch != ep || st.Summary == nil {
			t.Errorf("Trace(%s) = %+v, %v; want its document and summary, filed under %d", id, st, err, ep)
		}
	}
}
