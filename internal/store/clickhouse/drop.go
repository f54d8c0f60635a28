package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// Dropping a trace (keep policies, store.TraceUpdate.Drop) inserts, and
// deletes nothing: a DELETE is a mutation that rewrites whole parts, far
// too costly per trace on 18.16. The update's statistics rows go in as
// for any update, then a tombstone row (dropped) records the newest
// document version the drop read and clears the pending marks up to it
// (pending.go: dropVer):
// refused, it leaves the trace pending and its statistics reported
// (store.StatsStoredError), never a tombstone uncounted. Readers hide
// every document of the trace no newer than its tombstone: those are what
// the decision was made on, and PurgeDropped deletes them once their hour
// is well past. Newer ones are late documents, which Trace and
// Traces return with StoredTrace.Dropped so that ingest drops them too and
// counts their statistics on their own.
//
// A trace that has a summary is kept, tombstone or not: two processes that
// summarised it at once may have decided apart (one on part of it), and a
// kept trace may already have been read.
//
// The table is created at open, idempotently, beside the numbered
// migrations (schema.go): no existing table changes. Every flush reads it
// by trace id (the tombstones' branch of markRows), a granule per part, so
// a new database's has 256-row granules, as trace_leases has (a table made
// before keeps 18.16's 8,192: the rows and what they mean are the same).
const dropTableDDL = `CREATE TABLE IF NOT EXISTS dropped (p UInt32, trace String, epoch Int64, ver UInt64)
	ENGINE = MergeTree PARTITION BY p ORDER BY (trace, ver) SETTINGS index_granularity = 256`

func init() { partitioned = append(partitioned, "dropped") }

// DropsTraces implements store.DropReporter.
func (s *Store) DropsTraces() bool { return true }

func (s *Store) migrateDrops(ctx context.Context) error {
	if err := s.c.exec(ctx, dropTableDDL); err != nil {
		return fmt.Errorf("clickhouse: creating the dropped table: %w", err)
	}
	if err := s.c.exec(ctx, purgeListDDL); err != nil {
		return fmt.Errorf("clickhouse: creating the dropped_docs table: %w", err)
	}
	return nil
}

// writeDrop adds a trace's tombstone row, at version v.
func writeDrop(w *rowWriter, u *store.TraceUpdate, v uint64) {
	w.u32(part(u.Epoch))
	w.str(u.TraceID)
	w.i64(u.Epoch)
	w.u64(v)
}

// dropVersions returns, for those of ids that were dropped, the version of
// their newest tombstone.
func (s *Store) dropVersions(ctx context.Context, ids []string) (map[string]uint64, error) {
	r, err := s.c.selectRowsIDs(ctx, `SELECT trace, max(ver) FROM dropped WHERE trace IN `+idsTable+` GROUP BY trace`, ids)
	if err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	for r.more() {
		id, v := r.str(), r.u64()
		if r.err == nil {
			out[id] = v
		}
	}
	return out, r.err
}

// hideDropped applies a tombstone at version dv to a trace without a
// summary: it is Dropped, and only documents newer than dv are returned
// (vers holds each document's newest version, by index in st.Docs).
func hideDropped(st *store.StoredTrace, vers []uint64, dv uint64) {
	st.Dropped = true
	late := st.Docs[:0]
	for i, d := range st.Docs {
		if vers[i] > dv {
			late = append(late, d)
		}
	}
	st.Docs = late
}

// purgeAge is how long after its hour ends a partition's dropped documents
// are deleted: by then its traces have long been quiet, so no late document
// of theirs is likely to be awaiting its summary.
const purgeAge = time.Hour

// purgedKind records, in meta, the partitions whose dropped documents were
// deleted, so that each is rewritten once, whichever process gets there.
const purgedKind = "clickhouse-dropped-purged"

// purgeHook, if set, runs between purgePartition's list and its mutation
// on each node (tests).
var purgeHook func(node *client)

// PurgeDropped deletes the documents of dropped traces in partitions that
// ended purgeAge or more before now: one DELETE mutation per partition,
// which ClickHouse runs in the background by rewriting the partition's
// parts once, as a merge would. Until then readers hide those documents;
// after it, the disk holds what was kept. Only documents their trace's
// tombstone hides go (purgePartition): a late one, awaiting the summary
// that drops and counts it, stays, and a trace with a summary (kept by a
// process that decided apart) keeps them all. Retention's pass (DropBefore) calls it; it returns the partitions it
// submitted.
func (s *Store) PurgeDropped(ctx context.Context, now time.Time) (int, error) {
	var parts []int64
	seen := map[int64]bool{}
	for _, node := range s.nodes() { // a sharded store's: cluster.go
		r, err := node.selectRows(ctx, fmt.Sprintf(`SELECT DISTINCT partition FROM system.parts
			WHERE database = %s AND active AND table = 'dropped'`, quote(node.database)))
		if err != nil {
			return 0, err
		}
		for r.more() {
			p := r.str()
			if r.err != nil {
				break
			}
			n, err := strconv.ParseInt(p, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("clickhouse: partition %q of dropped is not an hour", p)
			}
			if !seen[n] && n+store.PartitionSeconds+int64(purgeAge/time.Second) <= now.Unix() {
				seen[n] = true
				parts = append(parts, n)
			}
		}
		if r.err != nil {
			return 0, r.err
		}
	}
	done := 0
	for _, p := range parts {
		key := strconv.FormatInt(p, 10)
		if _, err := s.GetMeta(ctx, purgedKind, key); err == nil {
			continue
		} else if !errors.Is(err, store.ErrNotFound) {
			return done, err
		}
		// On a sharded store, on each shard's local tables: every table
		// is sharded by trace, so each shard holds all of its traces' rows.
		for _, node := range s.nodes() {
			if err := purgePartition(ctx, node, p); err != nil {
				return done, err
			}
		}
		if err := s.PutMeta(ctx, purgedKind, key, []byte(now.UTC().Format(time.RFC3339))); err != nil {
			return done, err
		}
		done++
	}
	return done, nil
}

// purgeListDDL is the table of the document rows PurgeDropped deletes, by
// partition (dropped with it by retention).
const purgeListDDL = `CREATE TABLE IF NOT EXISTS dropped_docs (p UInt32, trace String, ver UInt64)
	ENGINE = MergeTree PARTITION BY p ORDER BY (trace, ver)`

func init() { partitioned = append(partitioned, "dropped_docs") }

// purgePartition deletes, on one node, partition p's documents hidden by
// their traces' tombstones, and only those. It first lists them (trace,
// version) in dropped_docs, then deletes the rows listed: a mutation is
// one statement and 18.16 runs no subquery in FROM inside one, so the
// version bound cannot be in it, and without the bound a document that
// arrives between a read of what to spare and the mutation (a late
// document of a dropped trace, awaiting the summary that counts it) would
// be deleted with its mark, uncounted. A listed row is no newer than its
// trace's tombstone: readers hide it, and the tombstone cleared its mark
// (pending.go), so nothing awaits it. Listing again after a failure only
// repeats rows.
func purgePartition(ctx context.Context, node *client, p int64) error {
	dropped := fmt.Sprintf("SELECT trace FROM dropped WHERE p = %d", p)
	// A trace with a summary keeps its documents (drop.go).
	summarised := fmt.Sprintf("SELECT trace FROM summaries WHERE trace IN (%s)", dropped)
	err := node.exec(ctx, fmt.Sprintf(`INSERT INTO dropped_docs (p, trace, ver)
		SELECT toUInt32(%d), trace, ver FROM (
			SELECT trace, ver, dv FROM (SELECT trace, ver FROM docs WHERE p = %d AND trace IN (%s))
			ALL INNER JOIN (SELECT trace, max(ver) AS dv FROM dropped WHERE p = %d GROUP BY trace) USING trace)
		WHERE ver <= dv AND trace NOT IN (%s)`, p, p, dropped, p, summarised))
	if err != nil {
		return err
	}
	if purgeHook != nil {
		purgeHook(node)
	}
	return node.exec(ctx, fmt.Sprintf(`ALTER TABLE docs DELETE WHERE p = %d
		AND (trace, ver) IN (SELECT trace, ver FROM dropped_docs WHERE p = %d)
		AND trace NOT IN (%s)`, p, p, summarised))
}
