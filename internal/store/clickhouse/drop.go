package clickhouse

import (
	"context"
	"fmt"
	"strings"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// Dropping a trace (keep policies, store.TraceUpdate.Drop) inserts, and
// deletes nothing: a DELETE is a mutation that rewrites whole parts, far
// too costly per trace on 18.16. The update's statistics rows go in as
// for any update, its pending mark is cleared, and a tombstone row
// (dropped) records the version the trace was dropped at. Readers hide
// every document of the trace no newer than its tombstone: those are what
// the decision was made on. Newer ones are late documents, which Trace and
// Traces return with StoredTrace.Dropped so that ingest drops them too and
// counts their statistics on their own. The hidden documents stay on disk
// until retention drops their partition, with the tombstone.
//
// A trace that has a summary is kept, tombstone or not: two processes that
// summarised it at once may have decided apart (one on part of it), and a
// kept trace may already have been read.
//
// The table is created at open, idempotently, beside the numbered
// migrations (schema.go): no existing table changes.
const dropTableDDL = `CREATE TABLE IF NOT EXISTS dropped (p UInt32, trace String, epoch Int64, ver UInt64)
	ENGINE = MergeTree PARTITION BY p ORDER BY (trace, ver)`

func init() { partitioned = append(partitioned, "dropped") }

// DropsTraces implements store.DropReporter.
func (s *Store) DropsTraces() bool { return true }

func (s *Store) migrateDrops(ctx context.Context) error {
	if err := s.c.exec(ctx, dropTableDDL); err != nil {
		return fmt.Errorf("clickhouse: creating the dropped table: %w", err)
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
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = quote(id)
	}
	r, err := s.c.selectRows(ctx, `SELECT trace, max(ver) FROM dropped WHERE trace IN (`+strings.Join(q, ", ")+`) GROUP BY trace`)
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
