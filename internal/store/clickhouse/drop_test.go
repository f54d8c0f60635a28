package clickhouse_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// PurgeDropped deletes, from partitions well past, the documents of
// dropped traces, and only those: not a kept trace's, not those of a trace
// that was also summarised (kept by a process that decided apart), not a
// late document awaiting its summary (newer than its trace's tombstone).
// Each partition is purged once.
func TestPurgeDropped(t *testing.T) {
	t.Parallel()
	onBothLayouts(t, purgeDropped)
}

func purgeDropped(t *testing.T, u string) {
	s := open(t, u)
	defer s.Close()
	ctx := context.Background()
	b := storetest.Base
	dropped, kept, both, late := storetest.TraceID(b+1, 1), storetest.TraceID(b+2, 2), storetest.TraceID(b+3, 3), storetest.TraceID(b+4, 4)
	var puts []store.DocPut
	for _, id := range []string{dropped, kept, both, late} {
		puts = append(puts, store.DocPut{TraceID: id, Epoch: b, Docs: []store.Doc{storetest.Doc("aaaaaaaaaaaaaaaa", "a"), storetest.Doc("bbbbbbbbbbbbbbbb", "b")}})
	}
	if err := s.PutDocs(ctx, puts); err != nil {
		t.Fatal(err)
	}
	var ups []store.TraceUpdate
	for _, id := range []string{dropped, both, late} {
		ups = append(ups, store.TraceUpdate{TraceID: id, Epoch: b, Summary: storetest.Summary(id, b), Drop: true})
	}
	ups = append(ups, store.TraceUpdate{TraceID: kept, Epoch: b, Summary: storetest.Summary(kept, b)})
	if err := s.Apply(ctx, ups); err != nil {
		t.Fatal(err)
	}
	// both: another process kept it; late: a document arrived since.
	if err := s.Apply(ctx, []store.TraceUpdate{{TraceID: both, Epoch: b, Summary: storetest.Summary(both, b)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutDocs(ctx, []store.DocPut{{TraceID: late, Epoch: b, Docs: []store.Doc{storetest.Doc("cccccccccccccccc", "c")}}}); err != nil {
		t.Fatal(err)
	}

	soon := time.Unix(b+store.PartitionSeconds, 0)
	if n, err := s.PurgeDropped(ctx, soon); err != nil || n != 0 {
		t.Fatalf("PurgeDropped right after the hour = %d, %v; want nothing yet", n, err)
	}
	later := time.Unix(b+3*store.PartitionSeconds, 0)
	if n, err := s.PurgeDropped(ctx, later); err != nil || n != 1 {
		t.Fatalf("PurgeDropped = %d, %v; want the one partition", n, err)
	}
	waitStoreMutations(t, s, u)
	// late: its two documents the tombstone hides go (readers never
	// return them), the late one awaiting its summary stays.
	want := map[string]int{dropped: 0, kept: 2, both: 2, late: 1}
	for id, n := range want {
		if got := rows(t, u, fmt.Sprintf("SELECT count() FROM docs WHERE trace = '%s'", id)); got != n {
			t.Errorf("%s: %d document rows left, want %d", id, got, n)
		}
	}
	if n, err := s.PurgeDropped(ctx, later); err != nil || n != 0 {
		t.Errorf("a second PurgeDropped = %d, %v; want none (done once)", n, err)
	}
	// What readers see is unchanged by the purge.
	if tr, err := s.Trace(ctx, late); err != nil || !tr.Dropped || len(tr.Docs) != 1 {
		t.Errorf("late document after the purge: %+v, %v", tr, err)
	}
	if tr, err := s.Trace(ctx, both); err != nil || tr.Summary == nil || len(tr.Docs) != 2 {
		t.Errorf("trace kept by another process after the purge: %+v, %v", tr, err)
	}
}

// A drop's tombstone hides only the documents the drop read: a document
// another process commits between the dropping process's read and its
// Apply, at a version below the dropper's clock, is no part of the decision,
// so it stays pending and reads return it as a late document of the dropped
// trace, to be dropped and counted on its own (issue 17, found in review).
func TestDropHidesOnlyTheDocumentsItRead(t *testing.T) {
	t.Parallel()
	onBothLayouts(t, func(t *testing.T, db string) { dropHidesOnlyTheDocumentsItRead(t, db, true) })
}

// The same when the drop read nothing at all: its tombstone hides nothing.
func TestDropThatReadNothingHidesNothing(t *testing.T) {
	t.Parallel()
	onBothLayouts(t, func(t *testing.T, db string) { dropHidesOnlyTheDocumentsItRead(t, db, false) })
}

func dropHidesOnlyTheDocumentsItRead(t *testing.T, db string, withB bool) {
	a, b := open(t, db), open(t, db)
	defer a.Close()
	defer b.Close()
	ctx := context.Background()
	ep := time.Now().Unix()
	id := storetest.TraceID(ep, 1)
	docA, docB := storetest.Doc("aaaaaaaaaaaaaaaa", "a"), storetest.Doc("bbbbbbbbbbbbbbbb", "b")
	var want []string
	if withB {
		if err := b.PutDocs(ctx, []store.DocPut{{TraceID: id, Epoch: ep, Docs: []store.Doc{docB}}}); err != nil {
			t.Fatal(err)
		}
		want = []string{docB.ID}
	}
	if got, err := b.LeaseTraces(ctx, []string{id}); err != nil || len(got) != 1 {
		t.Fatalf("B leased %v, %v", got, err)
	}
	read, err := b.Traces(ctx, []string{id})
	if err != nil {
		t.Fatal(err)
	}
	if got := docIDs(read[id]); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("B read %v, want %v", got, want)
	}
	// A's document lands after B's read, before B's Apply: its version,
	// taken before its INSERT, is below any B takes after it returns.
	if err := a.PutDocs(ctx, []store.DocPut{{TraceID: id, Epoch: ep, Docs: []store.Doc{docA}}}); err != nil {
		t.Fatal(err)
	}
	if err := b.Apply(ctx, []store.TraceUpdate{{TraceID: id, Epoch: ep, Summary: storetest.Summary(id, ep), Drop: true}}); err != nil {
		t.Fatal(err)
	}
	among, err := a.PendingAmong(ctx, []string{id})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(among) != fmt.Sprint([]string{id}) {
		t.Errorf("pending among the trace: %v; want it, for A's unread document", among)
	}
	got, err := a.Traces(ctx, []string{id})
	if err != nil {
		t.Fatal(err)
	}
	if st := got[id]; st == nil || !st.Dropped || fmt.Sprint(docIDs(st)) != fmt.Sprint([]string{docA.ID}) {
		t.Errorf("after the drop Traces = %+v; want A's document alone, the trace dropped", st)
	}
	if _, err := a.Head(ctx, id); !errors.Is(err, store.ErrDropped) {
		t.Errorf("Head = %v, want ErrDropped", err)
	}
}

// A late document of a dropped trace inserted while PurgeDropped runs,
// between its read of what to delete and its mutation, is not deleted: it
// awaits the summary that counts it (its trace pending), and reads return
// it, after the purge as before.
func TestPurgeDroppedLeavesADocumentInsertedDuringIt(t *testing.T) {
	onBothLayouts(t, purgeDroppedLeavesADocumentInsertedDuringIt)
}

func purgeDroppedLeavesADocumentInsertedDuringIt(t *testing.T, u string) {
	s := open(t, u)
	defer s.Close()
	ctx := context.Background()
	b := storetest.Base
	id := storetest.TraceID(b+1, 1)
	if err := s.PutDocs(ctx, []store.DocPut{{TraceID: id, Epoch: b, Docs: []store.Doc{storetest.Doc("aaaaaaaaaaaaaaaa", "a")}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, []store.TraceUpdate{{TraceID: id, Epoch: b, Summary: storetest.Summary(id, b), Drop: true}}); err != nil {
		t.Fatal(err)
	}
	// The late document lands between the list and the mutation of the
	// node that holds the trace: on a sharded store, its shard (a hook on
	// another shard's would insert it before its own shard's list).
	holder := ""
	for _, n := range s.Shards() {
		if countOn(t, n, fmt.Sprintf("SELECT count() FROM docs WHERE trace = '%s'", id)) > 0 {
			holder = n
		}
	}
	if len(s.Shards()) > 0 && holder == "" {
		t.Fatal("no shard holds the trace's document")
	}
	hooked := 0
	clickhouse.SetPurgeHook(t, func(node string) {
		if holder != "" && node != holder {
			return
		}
		hooked++
		if err := s.PutDocs(ctx, []store.DocPut{{TraceID: id, Epoch: b, Docs: []store.Doc{storetest.Doc("cccccccccccccccc", "c")}}}); err != nil {
			t.Error(err)
		}
	})
	if n, err := s.PurgeDropped(ctx, time.Unix(b+3*store.PartitionSeconds, 0)); err != nil || n != 1 {
		t.Fatalf("PurgeDropped = %d, %v; want the one partition", n, err)
	}
	if hooked == 0 {
		t.Fatal("the hook never ran")
	}
	waitStoreMutations(t, s, u)
	if n := rows(t, u, fmt.Sprintf("SELECT count() FROM docs WHERE trace = '%s'", id)); n != 1 {
		t.Errorf("%d document rows left, want the late one", n)
	}
	if tr, err := s.Trace(ctx, id); err != nil || !tr.Dropped || len(tr.Docs) != 1 || tr.Docs[0].ID != "cccccccccccccccc" {
		t.Errorf("after the purge: Trace = %+v, %v; want the late document, dropped", tr, err)
	}
	var pending []string
	if err := s.Pending(ctx, func(id string) bool { pending = append(pending, id); return true }); err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || pending[0] != id {
		t.Errorf("pending %v, want the trace of the late document", pending)
	}
}

// query runs SQL on the database a store URL names and returns its answer.
func query(t testing.TB, storeURL, sql string) string {
	t.Helper()
	u, err := url.Parse(storeURL)
	if err != nil {
		t.Fatal(err)
	}
	db := strings.TrimPrefix(u.Path, "/")
	u.Path, u.RawQuery = "/", url.Values{"database": {db}}.Encode()
	resp, err := http.Post(u.String(), "text/plain", strings.NewReader(sql))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", sql, resp.StatusCode, b)
	}
	return strings.TrimSpace(string(b))
}

func rows(t testing.TB, storeURL, sql string) int {
	t.Helper()
	n, err := strconv.Atoi(query(t, storeURL, sql))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// waitMutations waits for the database's mutations, which ClickHouse runs
// in the background (18.16 has no synchronous mode); the deadline only
// guards against a server that never finishes.
func waitMutations(t testing.TB, storeURL string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for rows(t, storeURL, "SELECT count() FROM system.mutations WHERE database = currentDatabase() AND is_done = 0") > 0 {
		if time.Now().After(deadline) {
			t.Fatal("mutations not done after 2 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitStoreMutations is waitMutations on each node of s, sharded or not.
func waitStoreMutations(t *testing.T, s *clickhouse.Store, storeURL string) {
	t.Helper()
	nodes := s.Shards()
	if len(nodes) == 0 {
		waitMutations(t, storeURL)
		return
	}
	deadline := time.Now().Add(2 * time.Minute)
	for _, n := range nodes {
		for countOn(t, n, "SELECT count() FROM system.mutations WHERE database = currentDatabase() AND is_done = 0") > 0 {
			if time.Now().After(deadline) {
				t.Fatal("mutations not done after 2 minutes")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// TestDropClearsTheMarksItRead: a drop's tombstone is its trace's cleared
// mark up to the version it read (pending.go), in every pending lookup; a
// document stored after it is pending again.
func TestDropClearsTheMarksItRead(t *testing.T) {
	t.Parallel()
	onBothLayouts(t, func(t *testing.T, db string) {
		a, b := open(t, db), open(t, db)
		defer a.Close()
		defer b.Close()
		ctx := context.Background()
		ep := time.Now().Unix()
		id := storetest.TraceID(ep, 2)
		if err := b.PutDocs(ctx, []store.DocPut{{TraceID: id, Epoch: ep, Docs: []store.Doc{storetest.Doc("aaaaaaaaaaaaaaaa", "a")}}}); err != nil {
			t.Fatal(err)
		}
		if got, err := b.LeaseTraces(ctx, []string{id}); err != nil || len(got) != 1 {
			t.Fatalf("B leased %v, %v", got, err)
		}
		if _, err := b.Traces(ctx, []string{id}); err != nil {
			t.Fatal(err)
		}
		if err := b.Apply(ctx, []store.TraceUpdate{{TraceID: id, Epoch: ep, Summary: storetest.Summary(id, ep), Drop: true}}); err != nil {
			t.Fatal(err)
		}
		pending := func() (among, all []string) {
			t.Helper()
			among, err := a.PendingAmong(ctx, []string{id})
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Pending(ctx, func(p string) bool { all = append(all, p); return true }); err != nil {
				t.Fatal(err)
			}
			return among, all
		}
		if among, all := pending(); len(among) != 0 || len(all) != 0 {
			t.Errorf("after the drop: pending among the trace %v, pending %v; want none", among, all)
		}
		got, err := a.Traces(ctx, []string{id})
		if err != nil {
			t.Fatal(err)
		}
		if st := got[id]; st == nil || !st.Dropped || len(st.Docs) != 0 {
			t.Errorf("after the drop Traces = %+v; want the trace dropped, no documents", st)
		}
		if err := a.PutDocs(ctx, []store.DocPut{{TraceID: id, Epoch: ep, Docs: []store.Doc{storetest.Doc("bbbbbbbbbbbbbbbb", "b")}}}); err != nil {
			t.Fatal(err)
		}
		if among, all := pending(); fmt.Sprint(among) != fmt.Sprint([]string{id}) || fmt.Sprint(all) != fmt.Sprint([]string{id}) {
			t.Errorf("after a late document: pending among the trace %v, pending %v; want the trace", among, all)
		}
	})
}

// TestDropsOfACoarseTable: a new database's dropped table has 256-row
// granules (every flush reads it by trace id); one made before, with
// 18.16's default of 8,192, is kept as it is, and its tombstones hide and
// clear as before.
func TestDropsOfACoarseTable(t *testing.T) {
	t.Parallel()
	u := clickhousetest.NewDatabase(t)
	coarsen(t, u, "dropped", `CREATE TABLE dropped (p UInt32, trace String, epoch Int64, ver UInt64)
		ENGINE = MergeTree PARTITION BY p ORDER BY (trace, ver)`)
	s := open(t, u)
	defer s.Close()
	wantGranularity(t, u, "dropped", 8192)
	ctx := context.Background()
	ep := time.Now().Unix()
	id := storetest.TraceID(ep, 1)
	if err := s.PutDocs(ctx, []store.DocPut{{TraceID: id, Epoch: ep, Docs: []store.Doc{storetest.Doc("aaaaaaaaaaaaaaaa", "a")}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, []store.TraceUpdate{{TraceID: id, Epoch: ep, Summary: storetest.Summary(id, ep), Drop: true}}); err != nil {
		t.Fatal(err)
	}
	wantPending(t, s, nil, id)
	got, err := s.Traces(ctx, []string{id})
	if err != nil {
		t.Fatal(err)
	}
	if st := got[id]; st == nil || !st.Dropped || len(st.Docs) != 0 {
		t.Errorf("Traces = %+v; want the trace dropped, no documents", st)
	}
}
