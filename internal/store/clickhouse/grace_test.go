package clickhouse_test

import (
	"encoding/hex"
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

// insertAt inserts a stats row whose `at` (the server's time of taking
// its INSERT) is at, bypassing the writer: as an INSERT taken at `at`
// whose part became visible only now.
func insertAt(t *testing.T, u string, bucket int64, entity string, d graph.Stats, at uint32) {
	t.Helper()
	clickhousetest.Query(t, u, fmt.Sprintf(`INSERT INTO stats (p, res, bucket, grp, entity, value, at)
		SELECT toUInt32(%d), toInt64(60), toInt64(%d), 'Default', '%s', unhex('%s'), toDateTime(toUInt32(%d))`,
		store.PartitionOf(bucket), bucket, entity, hex.EncodeToString(d.Encode()), at))
}

// TestStatsRollupGraceKeepsInsertsUnderWay: what the rollups' grace
// promises, on a server clock the test sets. A rollup cuts a grace period
// before the server's now; rows inside the grace (an INSERT the server
// took but whose part may not be visible yet) are left to the rows since
// the cutoff, so they count exactly once before and after that rollup,
// and once more after the next, which takes them. An INSERT whose rows
// became visible later than the grace after the server took it is missed
// by every read (docs/clickhouse.md): that is what the grace must exceed.
func TestStatsRollupGraceKeepsInsertsUnderWay(t *testing.T) {
	t.Parallel()
	u := clickhousetest.NewDatabase(t)
	s := open(t, u)
	defer s.Close()
	b := storetest.Base - storetest.Base%3600
	const grace = 30 * time.Second
	now := uint32(b) + 2*3600
	clickhouse.SetRollup(s, grace, 0, 1, nil)
	clickhouse.SetServerClock(s, func() uint32 { return now })

	want := map[string]graph.Stats{}
	put := func(bucket int64, d graph.Stats, at uint32) {
		insertAt(t, u, bucket, "n", d, at)
		k := fmt.Sprintf("%d/n", bucket)
		sum := want[k]
		sum.Add(&d, 1)
		want[k] = sum
	}
	check := func(step string) {
		t.Helper()
		if got := statSums(t, s, 60, b, b+3600); !maps.EqualFunc(got, want, statsEqual) {
			t.Fatalf("%s: got %v\nwant %v", step, got, want)
		}
	}
	cutoffs := func() string {
		return clickhousetest.Query(t, u, "SELECT arrayStringConcat(groupArray(toString(cutoff - "+fmt.Sprint(now)+")), ',') FROM (SELECT cutoff FROM stats_cutoffs ORDER BY cutoff)")
	}

	put(b, statDelta(1, b), now-60)       // older than the grace
	put(b+60, statDelta(2, b+60), now-10) // inside it
	check("before the first rollup")      // and the read rolls up
	if c := cutoffs(); c != "-30" {
		t.Fatalf("rollup cutoffs %s s from now, want -30", c)
	}
	if n := clickhousetest.Query(t, u, "SELECT count() FROM stats_rollups"); n != "1" {
		t.Fatalf("%s rollup rows, want 1 (the row older than the grace)", n)
	}
	check("through the first rollup")

	// An INSERT the server took inside the grace, visible only now.
	put(b, statDelta(4, b), now-5)
	check("an INSERT under way at the rollup")

	// A minute later the next rollup takes both rows inside the old grace.
	now += 60
	check("before the second rollup")
	if c := cutoffs(); c != "-90,-30" {
		t.Fatalf("rollup cutoffs %s s from now, want -90,-30", c)
	}
	check("through the second rollup")
	if n := clickhousetest.Query(t, u, fmt.Sprintf("SELECT count() FROM stats WHERE toUInt32(at) >= %d", now-30)); n != "0" {
		t.Fatalf("%s rows since the cutoff, want 0: the rollup took them all", n)
	}

	// An INSERT visible more than the grace after the server took it: its
	// rows are older than the cutoff made meanwhile, so no read counts
	// them, now or after later rollups.
	late := statDelta(8, b)
	insertAt(t, u, b, "n", late, now-40)
	check("an INSERT later than the grace: missed")
	now += 60
	check("an INSERT later than the grace: missed after the next rollup too")
}
