package clickhouse_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// TestTraceLeases: a trace leased by one store is refused to another until
// released; traces nobody holds are granted.
func TestTraceLeases(t *testing.T) {
	t.Parallel()
	db := clickhousetest.NewDatabase(t)
	a, b := open(t, db), open(t, db)
	defer a.Close()
	defer b.Close()
	ctx := context.Background()
	lease := func(s *clickhouse.Store, ids ...string) string {
		t.Helper()
		got, err := s.LeaseTraces(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(got)
	}
	if got := lease(a, "t1", "t2"); got != "[t1 t2]" {
		t.Errorf("A leased %s, want [t1 t2]", got)
	}
	if got := lease(b, "t1", "t3"); got != "[t3]" {
		t.Errorf("B leased %s while A holds t1, want [t3]", got)
	}
	if got := lease(a, "t3"); got != "[]" {
		t.Errorf("A leased %s while B holds t3, want []", got)
	}
	if err := a.ReleaseTraces(ctx, []string{"t1"}); err != nil {
		t.Fatal(err)
	}
	if got := lease(b, "t1", "t2"); got != "[t1]" {
		t.Errorf("B leased %s after A released t1, want [t1]", got)
	}
}

// TestPendingOfOtherProcesses: the pending traces another process may
// summarise, by id and by the age of their marks.
func TestPendingOfOtherProcesses(t *testing.T) {
	t.Parallel()
	s := open(t, clickhousetest.NewDatabase(t))
	defer s.Close()
	ctx := context.Background()
	ep := time.Now().Unix()
	left, done := storetest.TraceID(ep, 1), storetest.TraceID(ep, 2)
	for _, id := range []string{left, done} {
		if err := s.PutDocs(ctx, []store.DocPut{{TraceID: id, Epoch: ep, Docs: []store.Doc{storetest.Doc("aaaaaaaaaaaaaaaa", "a")}}}); err != nil {
			t.Fatal(err)
		}
	}
	storetest.Put(t, s, storetest.Summary(done, ep), storetest.Doc("aaaaaaaaaaaaaaaa", "a"))
	got, err := s.PendingAmong(ctx, []string{left, done, storetest.TraceID(ep, 3)})
	if err != nil || fmt.Sprint(got) != fmt.Sprint([]string{left}) {
		t.Errorf("PendingAmong = %v, %v; want [%s]", got, err, left)
	}
	before := func(at time.Time) string {
		var ids []string
		if err := s.PendingBefore(ctx, at, func(id string) bool { ids = append(ids, id); return true }); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(ids)
	}
	if got := before(time.Now().Add(time.Second)); got != fmt.Sprint([]string{left}) {
		t.Errorf("PendingBefore(now) = %s, want [%s]", got, left)
	}
	if got := before(time.Now().Add(-time.Minute)); got != "[]" {
		t.Errorf("PendingBefore(a minute ago) = %s, want none: the mark is newer", got)
	}
}

// TestContendedLeaseClaimsOnlyFreeTraces: once a store lost a trace to
// another, it claims again only what nobody holds, so retrying a held
// trace (a read's Sync does, every few ms) inserts no claim rows.
func TestContendedLeaseClaimsOnlyFreeTraces(t *testing.T) {
	t.Parallel()
	db := clickhousetest.NewDatabase(t)
	a, b := open(t, db), open(t, db)
	defer a.Close()
	defer b.Close()
	ctx := context.Background()
	claims := func() string {
		t.Helper()
		resp, err := http.Post(clickhousetest.ServerURL(t), "text/plain",
			strings.NewReader("SELECT count() FROM "+a.Database()+".trace_leases"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return strings.TrimSpace(string(out))
	}
	if got, err := a.LeaseTraces(ctx, []string{"t1"}); err != nil || len(got) != 1 {
		t.Fatalf("A leased %v, %v", got, err)
	}
	if got, err := b.LeaseTraces(ctx, []string{"t1", "t2"}); err != nil || fmt.Sprint(got) != "[t2]" {
		t.Fatalf("B leased %v, %v; want [t2]", got, err)
	}
	before := claims()
	for range 3 {
		if got, err := b.LeaseTraces(ctx, []string{"t1"}); err != nil || len(got) != 0 {
			t.Fatalf("B leased %v, %v while A holds t1", got, err)
		}
	}
	if after := claims(); after != before {
		t.Errorf("B's retries of a held trace wrote lease rows: %s before, %s after", before, after)
	}
	if err := a.ReleaseTraces(ctx, []string{"t1"}); err != nil {
		t.Fatal(err)
	}
	if got, err := b.LeaseTraces(ctx, []string{"t1"}); err != nil || fmt.Sprint(got) != "[t1]" {
		t.Errorf("B leased %v, %v after A released t1; want [t1]", got, err)
	}
}

// TestSummaryReleasesItsLease: since schema version 7 a leased summary's
// row is its lease's release (no trace_leases row), visible exactly when
// the summary is; a drop's release is still a trace_leases row. Another
// process claims both traces once they are stored, not before.
func TestSummaryReleasesItsLease(t *testing.T) {
	t.Parallel()
	test := func(t *testing.T, db string) {
		a, b := open(t, db), open(t, db)
		defer a.Close()
		defer b.Close()
		ctx := context.Background()
		ep := time.Now().Unix()
		kept, dropped := storetest.TraceID(ep, 1), storetest.TraceID(ep, 2)
		for _, id := range []string{kept, dropped} {
			if err := a.PutDocs(ctx, []store.DocPut{{TraceID: id, Epoch: ep, Docs: []store.Doc{storetest.Doc("aaaaaaaaaaaaaaaa", "x")}}}); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := a.LeaseTraces(ctx, []string{kept, dropped}); err != nil || len(got) != 2 {
			t.Fatalf("A leased %v, %v; want both", got, err)
		}
		if got, err := b.LeaseTraces(ctx, []string{kept, dropped}); err != nil || len(got) != 0 {
			t.Fatalf("B leased %v, %v while A holds both; want none", got, err)
		}
		if _, err := a.Traces(ctx, []string{kept, dropped}); err != nil {
			t.Fatal(err)
		}
		// B's claims, withdrawn, are release rows too: count A's Apply's.
		releases := func(id string) int {
			n, _ := strconv.Atoi(clickhousetest.Query(t, db, fmt.Sprintf("SELECT count() FROM trace_leases WHERE until = 0 AND trace = '%s'", id)))
			return n
		}
		before := map[string]int{kept: releases(kept), dropped: releases(dropped)}
		err := a.Apply(ctx, []store.TraceUpdate{
			{TraceID: kept, Epoch: ep, Summary: storetest.Summary(kept, ep)},
			{TraceID: dropped, Epoch: ep, Summary: storetest.Summary(dropped, ep), Drop: true},
		})
		if err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]int{kept: 0, dropped: 1} {
			if n := releases(id) - before[id]; n != want {
				t.Errorf("Apply wrote %d release rows of %s, want %d", n, id, want)
			}
		}
		if got, err := b.HeldByOthers(ctx, []string{kept, dropped}); err != nil || len(got) != 0 {
			t.Errorf("held by others after A's Apply: %v, %v; want none", got, err)
		}
		if got, err := b.LeaseTraces(ctx, []string{kept, dropped}); err != nil || len(got) != 2 {
			t.Errorf("B leased %v, %v after A's Apply; want both", got, err)
		}
		// B's new claim is newer than A's summary: A cannot take it back.
		if got, err := a.LeaseTraces(ctx, []string{kept}); err != nil || len(got) != 0 {
			t.Errorf("A leased %v, %v while B holds it; want none", got, err)
		}
	}
	t.Run("server", func(t *testing.T) { test(t, clickhousetest.NewDatabase(t)) })
	t.Run("sharded", func(t *testing.T) { test(t, clickhousetest.NewShardedDatabase(t)) })
}

// TestLeasesOfACoarseTable: a new database's trace_leases has 256-row
// granules (its claims are read by trace id at every flush); one made
// before, with 18.16's default of 8,192, is kept as it is and its leases
// work the same: a claim holds the trace from another process until it is
// released.
func TestLeasesOfACoarseTable(t *testing.T) {
	t.Parallel()
	u := clickhousetest.NewDatabase(t)
	coarsen(t, u, "trace_leases", `CREATE TABLE trace_leases (p UInt32, trace String, owner String, ver UInt64, until Int64)
		ENGINE = MergeTree PARTITION BY p ORDER BY (trace, owner, ver)`)
	a, b := open(t, u), open(t, u)
	defer a.Close()
	defer b.Close()
	wantGranularity(t, u, "trace_leases", 8192)
	ctx := context.Background()
	if got, err := a.LeaseTraces(ctx, []string{"t1"}); err != nil || len(got) != 1 {
		t.Fatalf("A leased %v, %v", got, err)
	}
	if got, err := b.LeaseTraces(ctx, []string{"t1", "t2"}); err != nil || fmt.Sprint(got) != "[t2]" {
		t.Fatalf("B leased %v, %v; want [t2]", got, err)
	}
	if err := a.ReleaseTraces(ctx, []string{"t1"}); err != nil {
		t.Fatal(err)
	}
	if got, err := b.LeaseTraces(ctx, []string{"t1"}); err != nil || fmt.Sprint(got) != "[t1]" {
		t.Errorf("B leased %v, %v after A released t1; want [t1]", got, err)
	}
}

// coarsen checks that a new database's table has 256-row granules, then
// makes it again by ddl, as a database from before them has it.
func coarsen(t *testing.T, u, table, ddl string) {
	t.Helper()
	open(t, u).Close()
	wantGranularity(t, u, table, 256)
	query(t, u, "DROP TABLE "+table)
	query(t, u, ddl)
}

// wantGranularity checks a table's rows per granule.
func wantGranularity(t *testing.T, u, table string, rows int) {
	t.Helper()
	g := query(t, u, "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = '"+table+"'")
	if !strings.Contains(g, fmt.Sprintf("index_granularity = %d", rows)) {
		t.Fatalf("%s: %s; want index_granularity = %d", table, g, rows)
	}
}
