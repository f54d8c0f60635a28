package clickhouse_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// oldDatabase makes a database at schema version 3, as a Roentgen of
// before migration 4 left it (coarse docs and summaries, stats without
// `at`, no rollup tables, a TinyLog schema_version), holding one trace;
// it returns the trace's id.
func oldDatabase(t *testing.T, u string) string {
	t.Helper()
	s := open(t, u)
	b := storetest.Base
	id := storetest.TraceID(b+1, 1)
	storetest.Put(t, s, storetest.Summary(id, b+1), storetest.Doc("aaaaaaaaaaaaaaaa", "a1"), storetest.Doc("bbbbbbbbbbbbbbbb", "b1"))
	s.Close()
	downgrade(t, u, "docs", "p UInt32, trace String, doc String, ver UInt64, raw String", "ORDER BY (trace, doc, ver)")
	downgrade(t, u, "summaries", "p UInt32, epoch Int64, trace String, ver UInt64, sum String", "ORDER BY (trace, ver)")
	downgrade(t, u, "stats", "p UInt32, res Int64, bucket Int64, grp String, entity String, value String", "ORDER BY (res, grp, bucket, entity)")
	for _, q := range []string{
		"DROP TABLE stats_rollups", "DROP TABLE stats_cutoffs",
		"DROP TABLE schema_version",
		"CREATE TABLE schema_version (version UInt32) ENGINE = TinyLog",
		"INSERT INTO schema_version VALUES (1), (2), (3)",
	} {
		clickhousetest.Query(t, u, q)
	}
	return id
}

// downgrade makes table anew as an older schema had it (columns, at
// ClickHouse's default granularity), with its rows: the old rows are
// written by this build, then copied into the older table's columns.
func downgrade(t *testing.T, u, table, columns, order string) {
	t.Helper()
	names := []string{}
	for _, c := range strings.Split(columns, ",") {
		names = append(names, strings.Fields(c)[0])
	}
	for _, q := range []string{
		"CREATE TABLE old_" + table + " (" + columns + ") ENGINE = MergeTree PARTITION BY p " + order,
		"INSERT INTO old_" + table + " SELECT " + strings.Join(names, ", ") + " FROM " + table,
		"DROP TABLE " + table,
		"RENAME TABLE old_" + table + " TO " + table,
	} {
		clickhousetest.Query(t, u, q)
	}
}

// TestConcurrentUpgradesOfAnOldDatabase: processes opening an old
// database at once upgrade it one at a time: one holds the upgrade (held
// here, in its hook, until the others wait) and migrates, the others wait
// for it and then open the upgraded database. Without the claim every
// process ran the migrations at once (on 18.16: RENAMEs racing each other,
// TinyLog refusing concurrent INSERTs, schema changes deadlocking).
func TestConcurrentUpgradesOfAnOldDatabase(t *testing.T) {
	u := clickhousetest.NewDatabase(t)
	id := oldDatabase(t, u)

	const n = 3
	var upgrading atomic.Int32
	holding, release := make(chan struct{}), make(chan struct{})
	waited := make(chan struct{}, n)
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	second := make(chan struct{}, n)
	clickhouse.SetUpgradeHooks(t, func() {
		if upgrading.Add(1) == 1 {
			close(holding)
			<-release
		} else {
			second <- struct{}{}
		}
	}, func() { waited <- struct{}{} })

	stores := make([]*clickhouse.Store, n)
	errs := make(chan error, n)
	for i := range stores {
		go func() {
			var err error
			stores[i], err = clickhouse.Open(context.Background(), u)
			errs <- err
		}()
	}
	// Generous deadlines, only against a hang.
	deadline := time.After(2 * time.Minute)
	select {
	case <-holding:
	case <-deadline:
		t.Fatal("no process took the upgrade")
	}
	for range n - 1 {
		select {
		case <-waited:
		case <-second:
			t.Fatal("a second process ran the migrations while the first held the upgrade")
		case <-deadline:
			t.Fatalf("the other processes did not wait for the upgrade: %d processes ran it", upgrading.Load())
		}
	}
	close(release)
	released = true
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("a concurrent Open of the old database: %v", err)
		}
	}
	for _, s := range stores {
		defer s.Close()
	}
	if k := upgrading.Load(); k != 1 {
		t.Errorf("%d processes ran the migrations, want 1", k)
	}
	if v := clickhousetest.Query(t, u, "SELECT max(version) FROM schema_version"); v != clickhouse.SchemaVersion {
		t.Errorf("schema version %s, want %s", v, clickhouse.SchemaVersion)
	}
	if left := clickhousetest.Query(t, u, "SELECT count() FROM system.tables WHERE database = currentDatabase() AND (name LIKE '%_coarse' OR name LIKE '%_fine')"); left != "0" {
		t.Errorf("%s tables of the migration left", left)
	}
	for i, s := range stores {
		if st, err := s.Trace(context.Background(), id); err != nil || st.Summary == nil || len(st.Docs) != 2 {
			t.Errorf("process %d: the old trace after the upgrade: %+v, %v", i, st, err)
		}
		storetest.Put(t, s, storetest.Summary(storetest.TraceID(storetest.Base, 10+i), storetest.Base), storetest.Doc("aaaaaaaaaaaaaaaa", "a"))
	}
	for _, s := range stores {
		for i := range stores {
			if _, err := s.Trace(context.Background(), storetest.TraceID(storetest.Base, 10+i)); err != nil {
				t.Errorf("trace %d written after the upgrade, through another process: %v", i, err)
			}
		}
	}
}

// TestConcurrentOpensOfAnOldDatabase: three processes opening an old
// database at once, no hooks, a few rounds: every Open succeeds, the old
// trace reads back whole and no table of the migration is left. Before
// the upgrade claim 5 rounds in 6 failed an Open here ("docs_coarse
// already exists", or the TinyLog schema_version's "File not found:
// tmp_sizes.json") and some left docs_fine behind.
func TestConcurrentOpensOfAnOldDatabase(t *testing.T) {
	t.Parallel()
	for round := range 3 {
		u := clickhousetest.NewDatabase(t)
		id := oldDatabase(t, u)
		errs := make(chan error, 3)
		stores := make(chan *clickhouse.Store, 3)
		for range 3 {
			go func() {
				s, err := clickhouse.Open(context.Background(), u)
				if err == nil {
					stores <- s
				}
				errs <- err
			}()
		}
		for range 3 {
			if err := <-errs; err != nil {
				t.Errorf("round %d: a concurrent Open of the old database: %v", round, err)
			}
		}
		close(stores)
		for s := range stores {
			if st, err := s.Trace(context.Background(), id); err != nil || st.Summary == nil || len(st.Docs) != 2 {
				t.Errorf("round %d: the old trace after the upgrade: %+v, %v", round, st, err)
			}
			s.Close()
		}
		if left := clickhousetest.Query(t, u, "SELECT count() FROM system.tables WHERE database = currentDatabase() AND (name LIKE '%_coarse' OR name LIKE '%_fine')"); left != "0" {
			t.Errorf("round %d: %s tables of the migration left", round, left)
		}
	}
}

// TestUpgradeClaimsOfOtherProcesses: an expired claim (its process died
// mid-upgrade) does not hold the upgrade up; an unexpired one does until
// its process releases it, and the waiting Open then upgrades.
func TestUpgradeClaimsOfOtherProcesses(t *testing.T) {
	u := clickhousetest.NewDatabase(t)
	oldDatabase(t, u)
	claim := func(owner string, ver, until int64) {
		clickhousetest.Query(t, u, fmt.Sprintf("INSERT INTO schema_upgrades (owner, ver, until) VALUES ('%s', %d, %d)", owner, ver, until))
	}
	clickhousetest.Query(t, u, `CREATE TABLE IF NOT EXISTS schema_upgrades (owner String, ver UInt64, until Int64) ENGINE = MergeTree ORDER BY (owner, ver)`)
	now := time.Now()
	claim("dead", now.Add(-2*time.Minute).UnixNano(), now.Add(-time.Minute).UnixNano())
	claim("alive", now.UnixNano(), now.Add(time.Hour).UnixNano())

	var upgrading atomic.Int32
	waiting := make(chan struct{}, 1)
	clickhouse.SetUpgradeHooks(t, func() { upgrading.Add(1) }, func() { waiting <- struct{}{} })
	opened := make(chan error, 1)
	var s *clickhouse.Store
	go func() {
		var err error
		s, err = clickhouse.Open(context.Background(), u)
		opened <- err
	}()
	select {
	case <-waiting:
	case err := <-opened:
		t.Fatalf("Open did not wait for the unexpired claim of another process: %v", err)
	}
	if k := upgrading.Load(); k != 0 {
		t.Fatalf("upgraded while another process held the upgrade")
	}
	claim("alive", now.Add(time.Second).UnixNano(), 0) // released
	if err := <-opened; err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if k := upgrading.Load(); k != 1 {
		t.Errorf("%d upgrades, want 1", k)
	}
	if v := clickhousetest.Query(t, u, "SELECT max(version) FROM schema_version"); v != clickhouse.SchemaVersion {
		t.Errorf("schema version %s, want %s", v, clickhouse.SchemaVersion)
	}
}

// serverNowNs is the ClickHouse server's clock in SQL, in the claims' unit.
const serverNowNs = `toInt64(toUInt64(now())) * 1000000000`

// TestUpgradeClaimsUseTheServersClock: upgrade claims expire by the
// server's clock, so a process whose clock is minutes off neither takes
// the upgrade from a live holder (clock ahead) nor waits on a dead one's
// expired claim (clock behind), and the claim it writes holds for the
// others for its whole TTL.
func TestUpgradeClaimsUseTheServersClock(t *testing.T) {
	for _, c := range []struct {
		name string
		skew time.Duration
		// until is the other process's claim's expiry, in SQL.
		until string
		wait  bool // the Open waits for the other's release
	}{
		{"ahead of a live claim", 2 * time.Minute, serverNowNs + ` + 60000000000`, true},
		{"behind a dead claim", -2 * time.Minute, serverNowNs + ` - 1000000000`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := clickhousetest.NewDatabase(t)
			oldDatabase(t, u)
			clickhousetest.Query(t, u, `CREATE TABLE IF NOT EXISTS schema_upgrades (owner String, ver UInt64, until Int64) ENGINE = MergeTree ORDER BY (owner, ver)`)
			clickhousetest.Query(t, u, `INSERT INTO schema_upgrades (owner, ver, until) SELECT 'other', toUInt64(1), `+c.until)
			clickhouse.SetUpgradeClock(t, func() time.Time { return time.Now().Add(c.skew) })

			var upgrading atomic.Int32
			held := make(chan int, 1) // unexpired claims by the server's clock, while upgrading
			waiting := make(chan struct{}, 1)
			clickhouse.SetUpgradeHooks(t, func() {
				upgrading.Add(1)
				held <- rows(t, u, "SELECT count() FROM (SELECT owner, argMax(until, ver) AS u FROM schema_upgrades GROUP BY owner) WHERE u > "+serverNowNs)
			}, func() {
				select {
				case waiting <- struct{}{}:
				default:
				}
			})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			opened := make(chan error, 1)
			var s *clickhouse.Store
			go func() {
				var err error
				s, err = clickhouse.Open(ctx, u)
				opened <- err
			}()
			if c.wait {
				select {
				case <-waiting:
				case err := <-opened:
					t.Fatalf("Open did not wait for a live claim (its clock %v ahead): %v", c.skew, err)
				}
				if k := upgrading.Load(); k != 0 {
					t.Fatal("upgraded while another process held the upgrade")
				}
				clickhousetest.Query(t, u, "INSERT INTO schema_upgrades (owner, ver, until) VALUES ('other', 2, 0)") // released
			} else {
				select {
				case <-waiting:
					cancel()
					<-opened
					t.Fatalf("Open waits on an expired claim (its clock %v behind)", -c.skew)
				case err := <-opened:
					if err != nil {
						t.Fatal(err)
					}
					opened <- nil
				}
			}
			if err := <-opened; err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if k := upgrading.Load(); k != 1 {
				t.Fatalf("%d upgrades, want 1", k)
			}
			if n := <-held; n != 1 {
				t.Errorf("%d unexpired claims by the server's clock while upgrading, want 1 (the holder's own)", n)
			}
		})
	}
}
