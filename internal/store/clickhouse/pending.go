package clickhouse

import (
	"github.com/roentgen-tracing/roentgen/internal/store"
)

// A trace's pending state is in its docs, traces, dropped and summaries
// rows (markRows). Each version of its documents is a mark (one written by
// this build carries its trace's epoch; older builds wrote a traces row
// with pending 1 beside theirs), and its traces rows clear them, by the
// pending column:
//
//	1  a mark, written by builds before schema version 6
//	0  cleared: every mark up to this version (a drop, or a summary
//	   written without a lease, by the only process)
//	2  cleared: the mark of exactly this version (a leased summary
//	   written before schema version 7, which wrote one such row per mark
//	   whose documents it read, and one at its own version that says where
//	   the trace is filed)
//
// Since schema version 7 a summaries row is those rows itself: it clears
// exactly the versions in its cleared column and its own (markRows), so a
// leased summary writes no traces rows, and its marks are cleared in the
// INSERT that stores it (a summary written before has no cleared
// versions: its own version clears only the documents its Apply wrote).
//
// A summary clears only the marks whose documents it read: another
// process may have committed a mark, but not yet its documents, when the
// summary read the trace, and a mark cleared by a later version would then
// hide documents nobody summarised if that process died (issue 17).
// Versions come from the writers' clocks and do not follow commit order,
// so a version range cannot say what was read; the versions themselves can.
//
// A drop's tombstone (drop.go) is itself a cleared row up to its version
// (markRows), the newest document version the drop read (dropVer): it
// hides the documents no newer than it, so the marks it clears are those
// of documents it drops, and it clears them in the INSERT
// that drops them, so no refused later INSERT can leave a dropped trace
// pending for good (before schema version 7 a drop also wrote a traces row
// with pending 0, for builds older than the tombstones).

// newestMark is, over pendingSQL's inner rows, the newest mark not cleared.
const newestMark = `maxIf(ver, mark = 1 AND exact = 0)`

// noEpoch is the epoch of documents written before schema version 6,
// which are no marks (their traces rows are).
const noEpoch = `toInt64('-9223372036854775808')`

// markRows names its traces in each branch of its UNION ALL: its callers
// given a set of ids send it once, as external data (extdata.go).
//
// markRows are the traces rows, the documents' versions as marks, the
// tombstones and the summaries' cleared versions as cleared rows (trace,
// ver, epoch, pending) where says: a PutTraceSegments call's documents
// are its marks, so it makes one INSERT, not two (issue 17).
func markRows(where string) string { return markRowsAfter(where, everyPart) }

// markRowsAfter is markRows of the parts holding a block numbered after
// the sample's (newparts.go; every part for a table sampled -1).
func markRowsAfter(where string, after blockSample) string {
	and := func(n int64) string {
		if n < 0 {
			return ""
		}
		return ` AND ` + partsAfter(n)
	}
	return `(SELECT trace, ver, epoch, pending FROM traces WHERE ` + where + and(after.traces) + `
		UNION ALL SELECT trace, ver, epoch, toUInt8(1) AS pending FROM docs WHERE epoch != ` + noEpoch + ` AND (` + where + `)` + and(after.docs) + `
		UNION ALL SELECT trace, ver, epoch, toUInt8(0) AS pending FROM dropped WHERE ` + where + and(after.dropped) + `
		UNION ALL SELECT trace, arrayJoin(arrayPushBack(cleared, ver)) AS cv, epoch, toUInt8(2) AS pending FROM summaries WHERE ` + where + and(after.summaries) + `)`
}

// pendingSQL selects the traces with a mark neither cleared exactly nor
// older than a cleared-up-to row, from the mark rows where says; having
// adds to the HAVING clause.
func pendingSQL(where, having string) string {
	return pendingOf(`trace`, markRows(where), having)
}

// pendingOf selects cols of each pending trace among the mark rows rows
// (markRows), grouped by the server.
func pendingOf(cols, rows, having string) string {
	return `SELECT ` + cols + ` FROM (SELECT trace, ver, max(pending = 1) AS mark, max(pending = 2) AS exact, max(pending = 0) AS upto
		FROM ` + rows + ` GROUP BY trace, ver)
		GROUP BY trace HAVING ` + newestMark + ` > maxIf(ver, upto = 1)` + having
}

// readMarks records, for the held traces among ids, the versions of the
// marks not yet cleared whose documents Traces read (covered): Apply clears
// exactly those. Traces takes the marks from its first query and the
// versions from the documents' read, so a mark whose documents land after
// that read stays pending, and one committed after the first query stays
// pending too (summarised again: nothing is lost).
// newest is each trace's newest document version read. A trace not found
// is recorded too: its drop or summary read nothing, so clears nothing.
func (s *Store) readMarks(ids []string, covered map[string][]uint64, newest map[string]uint64) {
	s.heldMu.Lock()
	defer s.heldMu.Unlock()
	for _, id := range ids {
		if s.held[id] {
			// marks nil: read, no mark's documents were there.
			s.read[id] = traceRead{marks: covered[id], newest: newest[id]}
		}
	}
}

// clearedCounts are how many marks each update's summary row will clear
// (writeCleared), for sizing the rows before they are written.
func (s *Store) clearedCounts(updates []store.TraceUpdate) []int {
	n := make([]int, len(updates))
	s.heldMu.Lock()
	defer s.heldMu.Unlock()
	for i := range updates {
		n[i] = len(s.read[updates[i].TraceID].marks)
	}
	return n
}

// traceRead is what Traces read of a held trace.
type traceRead struct {
	marks  []uint64 // versions of the pending marks whose documents it read
	newest uint64   // the newest version of any document it read, 0 if none
}

// takeRead takes what the last Traces read of a trace (ok: there was one)
// and whether this store holds its lease.
func (s *Store) takeRead(traceID string) (held bool, rd traceRead, ok bool) {
	s.heldMu.Lock()
	defer s.heldMu.Unlock()
	rd, ok = s.read[traceID]
	delete(s.read, traceID)
	return s.held[traceID], rd, ok
}

// dropVer is the version of u's tombstone: on a held trace, the newest
// document version its last read saw, so that the tombstone hides and
// clears only what the drop was decided on, and a document another process
// committed after that read, at a version below this process's clock,
// stays pending, a late document of a dropped trace counted on its own;
// otherwise (no lease, so no other writer) a new version.
func (s *Store) dropVer(u *store.TraceUpdate) uint64 {
	if held, rd, ok := s.takeRead(u.TraceID); held && ok {
		return rd.newest
	}
	return s.ver()
}

// writeCleared ends u's summaries row (version v) with the marks it
// clears, Array(UInt64), and the owner whose lease it releases: on a held
// trace, exactly the marks its last read
// saw documents of (the row's own version, where the trace is filed, is
// cleared too: markRows); otherwise (no lease, so no other writer) none,
// and a traces row in marks clears every mark up to v.
func (s *Store) writeCleared(sums, marks *rowWriter, u *store.TraceUpdate, v uint64) {
	held, rd, _ := s.takeRead(u.TraceID)
	if !held {
		sums.u64s(nil)
		sums.str("")
		writeMark(marks, u.Epoch, u.TraceID, v, 0)
		return
	}
	sums.u64s(rd.marks)
	sums.str(s.owner) // releases the lease (lease.go)
}

// writeMark adds a traces row: where the trace is filed, and its pending
// state at version v (above).
func writeMark(w *rowWriter, epoch int64, traceID string, v uint64, pending uint8) {
	w.u32(part(epoch))
	w.str(traceID)
	w.i64(epoch)
	w.u64(v)
	w.u8(pending)
}
