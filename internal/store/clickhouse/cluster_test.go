package clickhouse_test

import (
	"context"
	"errors"
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

// queryNode runs a statement on one shard's server ("http://host:port/
// database", as Store.Shards gives it) and returns its answer.
func queryNode(t *testing.T, node, query string) string {
	t.Helper()
	base, db, _ := strings.Cut(node, " ")
	resp, err := http.Post(base+"?"+url.Values{"database": {db}}.Encode(), "text/plain", strings.NewReader(query))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s on %s: %s %s %v", query, node, resp.Status, b, err)
	}
	return strings.TrimSpace(string(b))
}

func countOn(t *testing.T, node, query string) int {
	t.Helper()
	n, err := strconv.Atoi(queryNode(t, node, query))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestShardedRowsLandOnEveryShard writes traces through a sharded store
// and finds each trace's rows, of every table keyed by trace, on exactly
// one shard, both shards holding some; reads through the Distributed
// tables see them all, and retention drops the partitions on both shards.
func TestShardedRowsLandOnEveryShard(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := open(t, clickhousetest.NewShardedDatabase(t))
	defer s.Close()
	nodes := s.Shards()
	if len(nodes) != 2 {
		t.Fatalf("Shards() = %q; want the cluster's two", nodes)
	}
	const traces = 64
	b := storetest.Base
	ids := make([]string, traces)
	for i := range ids {
		ids[i] = storetest.TraceID(b+int64(i), i)
		storetest.Put(t, s, storetest.Summary(ids[i], b+int64(i)),
			storetest.Doc("aaaaaaaaaaaaaaa"+strconv.Itoa(i%10), "a"), storetest.Doc("bbbbbbbbbbbbbbb"+strconv.Itoa(i%10), "b"))
	}
	if err := s.PutMeta(ctx, "kind", "key", []byte("v")); err != nil {
		t.Fatal(err)
	}
	total := 0
	onShard := map[string]int{}
	for i, n := range nodes {
		docs := countOn(t, n, "SELECT count() FROM docs")
		if docs == 0 {
			t.Errorf("shard %d (%s) holds no documents of %d traces", i+1, n, traces)
		}
		total += docs
		for _, table := range []string{"docs", "summaries", "traces", "terms"} {
			for _, id := range strings.Fields(queryNode(t, n, "SELECT DISTINCT trace FROM "+table)) {
				if prev, ok := onShard[id]; ok && prev != i {
					t.Errorf("trace %s has rows in %s on shard %d and on shard %d", id, table, i+1, prev+1)
				}
				onShard[id] = i
			}
		}
	}
	if total != 2*traces || len(onShard) != traces {
		t.Errorf("the shards hold %d documents of %d traces; want %d of %d", total, len(onShard), 2*traces, traces)
	}
	for _, id := range ids {
		tr, err := s.Trace(ctx, id)
		if err != nil || tr.Summary == nil || len(tr.Docs) != 2 {
			t.Fatalf("Trace(%s) through the Distributed tables = %+v, %v; want its summary and 2 documents", id, tr, err)
		}
	}
	if v, err := s.GetMeta(ctx, "kind", "key"); err != nil || string(v) != "v" {
		t.Errorf("GetMeta = %q, %v", v, err)
	}
	if n, err := s.DropBefore(ctx, time.Unix(b+2*store.PartitionSeconds, 0)); err != nil || n != 1 {
		t.Fatalf("DropBefore = %d, %v; want the one hour", n, err)
	}
	for i, n := range nodes {
		if c := countOn(t, n, "SELECT count() FROM docs"); c != 0 {
			t.Errorf("shard %d holds %d documents after retention dropped their hour", i+1, c)
		}
	}
	if _, err := s.Trace(ctx, ids[0]); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Trace after retention: %v; want ErrNotFound", err)
	}
}

// TestShardedOpenErrors: a cluster the server does not know, one with
// replicas (Roentgen's tables would not replicate) and one with a shard no
// server answers for are each an error at start that says so.
func TestShardedOpenErrors(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(clickhousetest.NewShardedDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	for cluster, want := range map[string]string{
		"no_such_cluster":      "cluster no_such_cluster is not in the server's system.clusters",
		"roentgen_replicas":    "more than one replica in shard 1",
		"roentgen_unreachable": "shard 2 of cluster roentgen_unreachable (http://127.0.0.254:",
	} {
		u.RawQuery = "cluster=" + cluster
		if _, err := clickhouse.Open(context.Background(), u.String()); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open with cluster %s: %v; want an error saying %q", cluster, err, want)
		}
	}
}

// TestShardedAndPlainDatabasesDoNotMix: a sharded database opened
// without cluster=, or a plain one with it, is refused at start, and
// neither is changed.
func TestShardedAndPlainDatabasesDoNotMix(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sharded := clickhousetest.NewShardedDatabase(t)
	s := open(t, sharded)
	storetest.Put(t, s, storetest.Summary(storetest.TraceID(storetest.Base, 1), storetest.Base), storetest.Doc("aaaaaaaaaaaaaaaa", "a"))
	s.Close()
	u, err := url.Parse(sharded)
	if err != nil {
		t.Fatal(err)
	}
	u.RawQuery = ""
	if _, err := clickhouse.Open(ctx, u.String()); err == nil || !strings.Contains(err.Error(), "is sharded") {
		t.Errorf("Open of a sharded database without cluster=: %v; want a refusal", err)
	}
	s = open(t, sharded)
	if tr, err := s.Trace(ctx, storetest.TraceID(storetest.Base, 1)); err != nil || len(tr.Docs) != 1 {
		t.Errorf("the sharded database after the refusal: %+v, %v", tr, err)
	}
	s.Close()

	// A plain database on the same server: another name, no cluster=.
	plain := *u
	plain.Path += "_plain"
	plainURL := plain.String()
	open(t, plainURL).Close()
	t.Cleanup(func() {
		s := open(t, plainURL)
		defer s.Close()
		if err := s.DropDatabase(ctx); err != nil {
			t.Error(err)
		}
	})
	plain.RawQuery = "cluster=" + clickhousetest.Cluster
	if _, err := clickhouse.Open(ctx, plain.String()); err == nil || !strings.Contains(err.Error(), "not a Distributed table") {
		t.Errorf("Open of a plain database with cluster=: %v; want a refusal", err)
	}
	for _, n := range s.Shards() {
		if got := queryNode(t, n, "SELECT count() FROM system.databases WHERE name = '"+strings.TrimPrefix(plain.Path, "/")+"_local'"); got != "0" {
			t.Errorf("the refused Open created the local database on %s", n)
		}
	}
}

// TestConcurrentOpens: processes starting at once on a new database all
// succeed and see one another's writes. It failed one run in two before
// schema_version was a MergeTree and new tables were made fine-grained
// at creation (TinyLog refused the INSERTs made at once; migration 4's
// RENAMEs raced).
func TestConcurrentOpens(t *testing.T) {
	t.Parallel()
	concurrentOpens(t, clickhousetest.NewDatabase(t))
}

// TestShardedConcurrentOpens is the same on a sharded database.
func TestShardedConcurrentOpens(t *testing.T) {
	t.Parallel()
	concurrentOpens(t, clickhousetest.NewShardedDatabase(t))
}

func concurrentOpens(t *testing.T, u string) {
	const n = 3
	stores := make([]*clickhouse.Store, n)
	errs := make(chan error, n)
	for i := range stores {
		go func() {
			var err error
			stores[i], err = clickhouse.Open(context.Background(), u)
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("a concurrent Open: %v", err)
		}
	}
	for i, s := range stores {
		defer s.Close()
		storetest.Put(t, s, storetest.Summary(storetest.TraceID(storetest.Base, i), storetest.Base), storetest.Doc("aaaaaaaaaaaaaaaa", "a"))
	}
	for _, s := range stores {
		for i := range stores {
			if _, err := s.Trace(context.Background(), storetest.TraceID(storetest.Base, i)); err != nil {
				t.Errorf("Trace %d through another store: %v", i, err)
			}
		}
	}
}

// TestClusterURLErrors: URL options that cannot work are refused before
// any request.
func TestClusterURLErrors(t *testing.T) {
	for raw, want := range map[string]string{
		"clickhouse://127.0.0.1:1/db?local_database=x":             "local_database needs cluster",
		"clickhouse://127.0.0.1:1/db?cluster=c&local_database=db":  "local_database must differ",
		"clickhouse://127.0.0.1:1/db?cluster=c-d":                  "must be letters, digits and _",
		"clickhouse://127.0.0.1:1/db?cluster=c&local_database=a-b": "must be letters, digits and _",
	} {
		if _, err := clickhouse.Open(context.Background(), raw); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%s) = %v; want an error saying %q", raw, err, want)
		}
	}
}

// TestShardedStatsCarryTheirInsertTime: rollups (rollup.go) cut statistics
// rows by stats.at, which the server fills on INSERT; through a Distributed
// table that lacked the column's default every row would read as inserted
// at the epoch, before every cutoff, and a rolled-up graph would miss them.
func TestShardedStatsCarryTheirInsertTime(t *testing.T) {
	t.Parallel()
	s := open(t, clickhousetest.NewShardedDatabase(t))
	defer s.Close()
	b := storetest.Base
	var ups []store.TraceUpdate
	for i := range 16 {
		id := storetest.TraceID(b, i)
		d := statDelta(int64(i+1), b)
		k := store.StatKey{Resolution: 60, Bucket: b - b%60, Group: "Default", Entity: "svc-" + strconv.Itoa(i)}
		ups = append(ups, store.TraceUpdate{TraceID: id, Epoch: b, Summary: storetest.Summary(id, b),
			Stats: []store.StatRecord{{StatKey: k, Value: d.Encode()}}})
	}
	if err := s.Apply(context.Background(), ups); err != nil {
		t.Fatal(err)
	}
	total := 0
	for i, n := range s.Shards() {
		total += countOn(t, n, "SELECT count() FROM stats")
		if c := countOn(t, n, "SELECT count() FROM stats WHERE at < toDateTime('2020-01-01 00:00:00')"); c != 0 {
			t.Errorf("shard %d holds %d statistics rows without their insert time", i+1, c)
		}
	}
	if total != 16 {
		t.Errorf("the shards hold %d statistics rows; want 16", total)
	}
}
