package clickhouse_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// PurgeDropped deletes, from partitions well past, the documents of
// dropped traces, and only those: not a kept trace's, not those of a trace
// that was also summarised (kept by a process that decided apart), not a
// late document awaiting its summary. Each partition is purged once.
func TestPurgeDropped(t *testing.T) {
	u := clickhousetest.NewDatabase(t)
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
	waitMutations(t, u)
	want := map[string]int{dropped: 0, kept: 2, both: 2, late: 3}
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
