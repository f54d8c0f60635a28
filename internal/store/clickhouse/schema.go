package clickhouse

import (
	"context"
	"fmt"
	"strings"
)

// The schema, in SQL that ClickHouse 18.16 and current servers both run:
// MergeTree tables with a custom PARTITION BY on p, the hour (a multiple of
// store.PartitionSeconds) a row's time falls in, so retention drops whole
// partitions. Nothing is updated in place: every change is a new row with a
// larger ver, and readers take the row with the largest ver (argMax).
//
//	traces     where a trace is filed (its epoch) and whether it is pending
//	docs       documents, by trace and id, in their stored form (docform.go)
//	summaries  encoded trace.Summary blobs
//	terms      the index terms (store.TermsOf) of each summary version
//	stats      service-graph statistics deltas, summed by the reader
//	stats_rollups, stats_cutoffs  the deltas combined up to a cutoff (rollup.go)
//	meta       metadata records and tombstones (not partitioned)
//
// migrations[i] brings a database from version i to i+1. Each statement is
// idempotent, so processes opening one database at once all succeed. The
// list is written out here, in order: a version means the same tables in
// every build.
var migrations = [][]string{
	{
		`CREATE TABLE IF NOT EXISTS traces (p UInt32, trace String, epoch Int64, ver UInt64, pending UInt8)
		ENGINE = MergeTree PARTITION BY p ORDER BY (trace, ver)`,
		`CREATE TABLE IF NOT EXISTS docs (p UInt32, trace String, doc String, ver UInt64, raw String)
		ENGINE = MergeTree PARTITION BY p ORDER BY (trace, doc, ver)`,
		`CREATE TABLE IF NOT EXISTS summaries (p UInt32, epoch Int64, trace String, ver UInt64, sum String)
		ENGINE = MergeTree PARTITION BY p ORDER BY (trace, ver)`,
		`CREATE TABLE IF NOT EXISTS terms (p UInt32, field String, value String, epoch Int64, trace String, ver UInt64)
		ENGINE = MergeTree PARTITION BY p ORDER BY (field, value, epoch, trace)`,
		`CREATE TABLE IF NOT EXISTS stats (p UInt32, res Int64, bucket Int64, grp String, entity String, value String)
		ENGINE = MergeTree PARTITION BY p ORDER BY (res, grp, bucket, entity)`,
		`CREATE TABLE IF NOT EXISTS meta (kind String, key String, ver UInt64, deleted UInt8, value String)
		ENGINE = ReplacingMergeTree(ver) ORDER BY (kind, key)`,
	},
	{createLeases},  // trace leases (lease.go)
	{createReports}, // fleet-wide sampling reports (quota.go)
	nil,             // docs and summaries with finer index granules: fineGrained (granularity.go)
	createRollups,   // statistics rollups and stats.at (rollup.go; the column by addStatsAt)
	nil,             // docs.epoch: documents are their pending marks (addDocsEpoch, pending.go)
	nil,             // summaries.cleared, .owner: a summary carries its cleared marks and releases its lease (addSummariesCleared)
	nil,             // summaries in the derived form (trace's format 0x03), which builds before it cannot decode: they refuse the database
	nil,             // documents in their stored form (docform.go: compressed by Roentgen), which builds before cannot read: they refuse the database
}

// migrationSteps are the steps of a migration that are not plain
// statements, run after its statements, by the version they bring a
// database to.
var migrationSteps = map[int]func(*Store, context.Context) error{
	4: (*Store).fineGrained,
	5: (*Store).addStatsAt,
	6: (*Store).addDocsEpoch,
	7: (*Store).addSummariesCleared,
}

// addSummariesCleared adds summaries.cleared and .owner (schema version
// 7): a leased summary's row carries the versions of the marks it clears,
// so it writes no traces rows (pending.go), and releases its lease, so it
// writes no trace_leases row (lease.go). The rows written before get an
// empty array and owner: their traces rows cleared their marks, their
// trace_leases rows released their leases.
func (s *Store) addSummariesCleared(ctx context.Context) error {
	if err := s.addColumn(ctx, "summaries", "cleared", `Array(UInt64)`); err != nil {
		return err
	}
	return s.addColumn(ctx, "summaries", "owner", `String`)
}

// addDocsEpoch adds docs.epoch (schema version 6): a document written with
// it is its trace's pending mark and says where the trace is filed, so a
// PutTraceSegments call writes no traces row (pending.go). The rows written
// before get noEpoch: their traces rows are their marks.
func (s *Store) addDocsEpoch(ctx context.Context) error {
	return s.addColumn(ctx, "docs", "epoch", `Int64 DEFAULT `+noEpoch)
}

// addColumn adds a column to a table unless it has it already (ALTER …
// ADD COLUMN IF NOT EXISTS is newer than 18.16).
func (s *Store) addColumn(ctx context.Context, table, column, typ string) error {
	has := func() (bool, error) {
		r, err := s.c.selectRows(ctx, fmt.Sprintf(`SELECT toUInt64(count()) FROM system.columns
			WHERE database = %s AND table = %s AND name = %s`, quote(s.c.database), quote(table), quote(column)))
		if err != nil {
			return false, err
		}
		n := r.u64()
		return n > 0, r.err
	}
	if ok, err := has(); err != nil || ok {
		return err
	}
	err := s.c.exec(ctx, `ALTER TABLE `+table+` ADD COLUMN `+column+` `+typ)
	if err != nil {
		if ok, _ := has(); ok {
			return nil
		}
	}
	return err
}

// fineAtCreation gives a table of a new database the granularity
// migration 4 would give it (fineTables), so that migration finds it fine
// and renames nothing: processes starting together on a new database
// would otherwise race its RENAMEs and fail.
func fineAtCreation(stmt string) string {
	for _, t := range fineTables {
		if strings.HasPrefix(stmt, "CREATE TABLE IF NOT EXISTS "+t.name+" (") {
			return stmt + fmt.Sprintf(" SETTINGS index_granularity = %d", t.granularity)
		}
	}
	return stmt
}

// partitioned are the tables retention drops partitions of.
var partitioned = []string{"traces", "docs", "summaries", "terms", "stats", "stats_rollups", "stats_cutoffs"}

// migrate creates the database and brings its schema to the newest version.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.c.do(ctx, "CREATE DATABASE IF NOT EXISTS "+s.c.database, nil, false); err != nil {
		return err
	}
	// MergeTree, not TinyLog (which databases made before keep): TinyLog
	// fails INSERTs made at once, and processes starting together on a new
	// database each record the versions they ran.
	if err := s.c.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version UInt32) ENGINE = MergeTree ORDER BY version`); err != nil {
		return err
	}
	have, err := s.schemaVersion(ctx)
	if err != nil {
		return err
	}
	if have > len(migrations) {
		return fmt.Errorf("clickhouse: database %s has schema version %d, newer than this Roentgen's %d", s.c.database, have, len(migrations))
	}
	if have == len(migrations) {
		return nil
	}
	// One process upgrades; the others wait for it (upgrade.go).
	return s.upgrade(ctx, s.runMigrations)
}

// runMigrations brings the schema from version have to the newest.
func (s *Store) runMigrations(ctx context.Context, have int) error {
	for v := have; v < len(migrations); v++ {
		for _, stmt := range migrations[v] {
			if v == 0 && have == 0 {
				stmt = fineAtCreation(stmt)
			}
			if err := s.c.exec(ctx, stmt); err != nil {
				return fmt.Errorf("clickhouse: migrating to schema version %d: %w", v+1, err)
			}
		}
		if step := migrationSteps[v+1]; step != nil {
			if err := step(s, ctx); err != nil {
				return fmt.Errorf("clickhouse: migrating to schema version %d: %w", v+1, err)
			}
		}
		if err := s.c.exec(ctx, fmt.Sprintf("INSERT INTO schema_version VALUES (%d)", v+1)); err != nil {
			return err
		}
	}
	return nil
}
