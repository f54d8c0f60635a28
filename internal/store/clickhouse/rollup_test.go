package clickhouse_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// statSums reads every record of res over [from, to) and sums them per
// bucket and entity.
func statSums(t *testing.T, s store.Store, res, from, to int64) map[string]graph.Stats {
	t.Helper()
	out := map[string]graph.Stats{}
	err := s.Stats(context.Background(), store.StatQuery{Resolution: res, Group: "Default", From: from, To: to}, func(r store.StatRecord) bool {
		var d graph.Stats
		if err := d.Decode(r.Value); err != nil {
			t.Fatalf("%s: %v", r.Entity, err)
		}
		k := fmt.Sprintf("%d/%s", r.Bucket, r.Entity)
		sum := out[k]
		sum.Add(&d, 1)
		out[k] = sum
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// statDelta is a delta of n requests taking n ms each.
func statDelta(n int64, start int64) graph.Stats {
	return graph.Stats{OK: n, ResponseMicros: n * 1000, First: start, Last: start + n}
}

// insertOld inserts a stats row as if by an INSERT taken ago before now
// (its `at`), bypassing the writer.
func insertOld(t *testing.T, u string, bucket int64, entity string, d graph.Stats, ago time.Duration) {
	t.Helper()
	query(t, u, fmt.Sprintf(`INSERT INTO stats (p, res, bucket, grp, entity, value, at)
		SELECT toUInt32(%d), toInt64(60), toInt64(%d), 'Default', '%s', unhex('%s'), toDateTime(toUInt32(now()) - %d)`,
		store.PartitionOf(bucket), bucket, entity, hex.EncodeToString(d.Encode()), int(ago/time.Second)))
}

// TestStatsRollupsCountEveryRowOnce: reads through rollups (of rows
// inserted long ago, beside rows since their cutoff; rolled up again; a
// rollup whose process died before its mark; two rollups at one cutoff)
// answer exactly the sums of every row written.
func TestStatsRollupsCountEveryRowOnce(t *testing.T) {
	t.Parallel()
	u := clickhousetest.NewDatabase(t)
	s := open(t, u)
	defer s.Close()
	ctx := context.Background()
	b := storetest.Base - storetest.Base%3600
	want := map[string]graph.Stats{}
	add := func(bucket int64, entity string, d graph.Stats) {
		k := fmt.Sprintf("%d/%s", bucket, entity)
		sum := want[k]
		sum.Add(&d, 1)
		want[k] = sum
	}
	check := func(step string) {
		t.Helper()
		if got := statSums(t, s, 60, b, b+2*3600); !maps.EqualFunc(got, want, statsEqual) {
			t.Fatalf("%s: got %v\nwant %v", step, got, want)
		}
	}
	// A: an hour old, two partitions, several deltas per key.
	for i := range int64(30) {
		bucket := b + (i%4)*60 + (i%2)*3600
		d := statDelta(i+1, bucket)
		insertOld(t, u, bucket, fmt.Sprintf("n%d", i%3), d, time.Hour)
		add(bucket, fmt.Sprintf("n%d", i%3), d)
	}
	// B: written now, through the store.
	var recs []store.StatRecord
	for i := range int64(5) {
		bucket := b + i*60
		d := statDelta(100+i, bucket)
		recs = append(recs, store.StatRecord{StatKey: store.StatKey{Resolution: 60, Bucket: bucket, Group: "Default", Entity: "n1"}, Value: d.Encode()})
		add(bucket, "n1", d)
	}
	if err := s.AddStats(ctx, recs); err != nil {
		t.Fatal(err)
	}

	clickhouse.SetRollup(s, 10*time.Minute, time.Minute, 1, nil)
	check("first read")
	if n := rows(t, u, "SELECT count() FROM stats_cutoffs"); n != 2 {
		t.Fatalf("%d rollups after the first read, want one per partition", n)
	}
	// A's 30 rows on 24 keys are in the rollups; B (after the cutoff) not.
	if n := rows(t, u, "SELECT count() FROM stats_rollups"); n != 3*4 {
		t.Fatalf("%d rollup rows, want 12 (A's keys)", n)
	}
	check("through the rollups")
	if n := rows(t, u, "SELECT count() FROM stats_cutoffs"); n != 2 {
		t.Fatalf("%d rollups: rolled up again within a minute", n)
	}

	// C: after the cutoff, before now.
	c := statDelta(7, b+60)
	insertOld(t, u, b+60, "n2", c, 5*time.Minute)
	add(b+60, "n2", c)
	check("a row since the cutoff")

	// A rollup whose process dies between its rows and its mark.
	clickhouse.SetRollup(s, 4*time.Minute, time.Minute, 1, func() error { return errors.New("killed") })
	check("a rollup without its mark")
	if n := rows(t, u, "SELECT count() FROM stats_cutoffs"); n != 2 {
		t.Fatalf("%d marks, want the 2 of before", n)
	}
	// Only the first partition has rows since its cutoff (B, C).
	if n := rows(t, u, "SELECT count(DISTINCT id) FROM stats_rollups"); n != 3 {
		t.Fatalf("%d rollups' rows, want 3 (2 marked, 1 not)", n)
	}
	check("after the unmarked rollup")

	// The next rollup, on top of the first: C goes in.
	clickhouse.SetRollup(s, 4*time.Minute, time.Minute, 1, nil)
	check("second rollup")
	if n := rows(t, u, "SELECT count() FROM stats_cutoffs"); n != 3 {
		t.Fatalf("%d marks, want 3", n)
	}
	check("through the second rollups")

	// Two processes rolling up to one cutoff: two whole rollups, one read.
	query(t, u, `INSERT INTO stats_rollups SELECT p, res, grp, cutoff, id + 2, bucket, entity, value FROM stats_rollups
		WHERE (p, cutoff, id) IN (SELECT p, cutoff, id FROM stats_cutoffs)`)
	query(t, u, `INSERT INTO stats_cutoffs SELECT p, res, grp, cutoff, id + 2 FROM stats_cutoffs`)
	check("two rollups at each cutoff")

	// Another process reads the same.
	s2 := open(t, u)
	defer s2.Close()
	if got := statSums(t, s2, 60, b, b+2*3600); !maps.EqualFunc(got, want, statsEqual) {
		t.Fatalf("another process: got %v\nwant %v", got, want)
	}
}

// TestApplyCombinesDeltasPerKey: a flush's deltas of one key are one row.
func TestApplyCombinesDeltasPerKey(t *testing.T) {
	t.Parallel()
	u := clickhousetest.NewDatabase(t)
	s := open(t, u)
	defer s.Close()
	b := storetest.Base
	var ups []store.TraceUpdate
	want := map[string]graph.Stats{}
	for i := range 20 {
		id := storetest.TraceID(b, i)
		d := statDelta(int64(i+1), b)
		k := store.StatKey{Resolution: 60, Bucket: b - b%60 + int64(i%2)*60, Group: "Default", Entity: "svc"}
		ups = append(ups, store.TraceUpdate{TraceID: id, Epoch: b, Summary: storetest.Summary(id, b),
			Stats: []store.StatRecord{{StatKey: k, Value: d.Encode()}}})
		sum := want[fmt.Sprintf("%d/svc", k.Bucket)]
		sum.Add(&d, 1)
		want[fmt.Sprintf("%d/svc", k.Bucket)] = sum
	}
	if err := s.Apply(context.Background(), ups); err != nil {
		t.Fatal(err)
	}
	if n := rows(t, u, "SELECT count() FROM stats"); n != 2 {
		t.Errorf("%d stats rows for 20 deltas of 2 keys, want 2", n)
	}
	if got := statSums(t, s, 60, b-b%60, b-b%60+120); !maps.EqualFunc(got, want, statsEqual) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

func statsEqual(a, b graph.Stats) bool { return string(a.Encode()) == string(b.Encode()) }

// TestStatsRollupsAfterMigratingAnOldDatabase: rows written before
// schema version 5 (no `at`) count once, before and after a merge writes
// their `at`, read through rollups.
func TestStatsRollupsAfterMigratingAnOldDatabase(t *testing.T) {
	t.Parallel()
	u := clickhousetest.NewDatabase(t)
	s := open(t, u)
	b := storetest.Base
	want := map[string]graph.Stats{}
	var recs []store.StatRecord
	for i := range int64(4) {
		d := statDelta(i+1, b)
		bucket := b + i*60
		recs = append(recs, store.StatRecord{StatKey: store.StatKey{Resolution: 60, Bucket: bucket, Group: "Default", Entity: "n"}, Value: d.Encode()})
		want[fmt.Sprintf("%d/n", bucket)] = d
	}
	// Back to version 4, with the rows in a part without `at`.
	query(t, u, "DROP TABLE stats")
	query(t, u, "DROP TABLE stats_rollups")
	query(t, u, "DROP TABLE stats_cutoffs")
	query(t, u, "CREATE TABLE stats (p UInt32, res Int64, bucket Int64, grp String, entity String, value String) ENGINE = MergeTree PARTITION BY p ORDER BY (res, grp, bucket, entity)")
	if err := s.AddStats(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	s.Close()
	query(t, u, "DROP TABLE schema_version")
	query(t, u, "CREATE TABLE schema_version (version UInt32) ENGINE = TinyLog")
	query(t, u, "INSERT INTO schema_version VALUES (1), (2), (3), (4)")

	s = open(t, u)
	defer s.Close()
	if v := query(t, u, "SELECT max(version) FROM schema_version"); v != clickhouse.SchemaVersion {
		t.Fatalf("schema version %s, want %s", v, clickhouse.SchemaVersion)
	}
	clickhouse.SetRollup(s, 0, 0, 1, nil)
	for _, step := range []string{"migrated", "again"} {
		if got := statSums(t, s, 60, b, b+3600); !maps.EqualFunc(got, want, statsEqual) {
			t.Fatalf("%s: got %v\nwant %v", step, got, want)
		}
	}
	query(t, u, "OPTIMIZE TABLE stats FINAL")
	for _, step := range []string{"merged", "merged, again"} {
		if got := statSums(t, s, 60, b, b+3600); !maps.EqualFunc(got, want, statsEqual) {
			t.Fatalf("%s: got %v\nwant %v", step, got, want)
		}
	}
}

// TestStatsRollupsOfSeveralProcessesAtOnce: three processes on one
// database, two adding statistics while all three read (and so roll up
// the older rows, each as it finds them) at once: every read counts every
// older row once, and the last read every row.
func TestStatsRollupsOfSeveralProcessesAtOnce(t *testing.T) {
	t.Parallel()
	u := clickhousetest.NewDatabase(t)
	b := storetest.Base
	var ps []*clickhouse.Store
	for range 3 {
		s := open(t, u)
		defer s.Close()
		clickhouse.SetRollup(s, 10*time.Minute, 0, 1, nil)
		ps = append(ps, s)
	}
	old := map[string]graph.Stats{}
	add := func(m map[string]graph.Stats, bucket int64, entity string, d graph.Stats) {
		k := fmt.Sprintf("%d/%s", bucket, entity)
		sum := m[k]
		sum.Add(&d, 1)
		m[k] = sum
	}
	for i := range int64(40) {
		bucket := b + (i%5)*60 + (i%2)*3600
		d := statDelta(i+1, bucket)
		insertOld(t, u, bucket, fmt.Sprintf("n%d", i%4), d, time.Hour-time.Duration(i)*time.Minute)
		add(old, bucket, fmt.Sprintf("n%d", i%4), d)
	}
	const writes = 10
	fresh := make([][]store.StatRecord, 2)
	all := maps.Clone(old)
	for w := range fresh {
		for i := range int64(writes) {
			bucket := b + i%3*60 + int64(w)*3600
			d := statDelta(1000+i, bucket)
			fresh[w] = append(fresh[w], store.StatRecord{StatKey: store.StatKey{Resolution: 60, Bucket: bucket, Group: "Default", Entity: "n1"}, Value: d.Encode()})
			add(all, bucket, "n1", d)
		}
	}
	ctx := context.Background()
	errs := make(chan error, 16)
	start := make(chan struct{})
	for w, recs := range fresh {
		go func() {
			<-start
			for _, r := range recs {
				if err := ps[w].AddStats(ctx, []store.StatRecord{r}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	// A read counts every old row once, and fresh rows' at most as often
	// as they were written.
	checkRead := func(s *clickhouse.Store) error {
		got := map[string]graph.Stats{}
		err := s.Stats(ctx, store.StatQuery{Resolution: 60, Group: "Default", From: b, To: b + 2*3600}, func(r store.StatRecord) bool {
			var d graph.Stats
			if err := d.Decode(r.Value); err != nil {
				return false
			}
			add(got, r.Bucket, r.Entity, d)
			return true
		})
		if err != nil {
			return err
		}
		for k, w := range old {
			g, a := got[k], all[k]
			if g.OK < w.OK || g.OK > a.OK {
				return fmt.Errorf("%s: %d requests, want %d to %d", k, g.OK, w.OK, a.OK)
			}
		}
		return nil
	}
	for _, s := range ps {
		go func() {
			<-start
			for range 5 {
				if err := checkRead(s); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	close(start)
	for range 2 + len(ps) {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range ps {
		if got := statSums(t, s, 60, b, b+2*3600); !maps.EqualFunc(got, all, statsEqual) {
			t.Fatalf("process %d after: got %v\nwant %v", i, got, all)
		}
	}
	if n := rows(t, u, "SELECT count() FROM stats_cutoffs"); n == 0 {
		t.Fatal("no rollups written")
	}
}
