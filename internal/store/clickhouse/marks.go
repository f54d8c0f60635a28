package clickhouse

import (
	"cmp"
	"context"
	"slices"
)

// The flush's two reads of its traces' marks (PendingAmong before the
// lease, Traces' first query after it) send markRows' branches as a
// top-level UNION ALL and group the rows here, as pendingSQL groups them.
// On 18.16 the same UNION ALL as a subquery in FROM, grouped by the server
// twice, cost ~11 ms of CPU for 1,000 traces of a run's tables, the bare
// top-level UNION ALL ~6 ms (most of the difference is the subquery, not
// the grouping: 10 ms ungrouped); the rows, ~5 per trace, are grouped here
// in a sort. The scans (Pending, PendingBefore) stay grouped by the
// server: they read whole partitions.

// markUnionSQL is markRows' branches for the traces of the external table
// idsTable, a top-level UNION ALL of (trace, ver, epoch, pending).
func markUnionSQL() string {
	m := markRows(`trace IN ` + idsTable)
	return m[1 : len(m)-1]
}

// traceMarks is what one trace's mark rows say (pending.go).
type traceMarks struct {
	id    string
	epoch int64    // the newest version's (the largest of its rows')
	upto  uint64   // the newest cleared-up-to version, 0 if none
	open  []uint64 // versions with a mark and no exact clear, ascending
}

// pending is pendingSQL's test: a mark not cleared exactly, newer than
// every cleared-up-to row.
func (t *traceMarks) pending() bool {
	return len(t.open) > 0 && t.open[len(t.open)-1] > t.upto
}

// markRow is one row of markUnionSQL; t indexes its trace.
type markRow struct {
	t     int32
	kind  uint8
	ver   uint64
	epoch int64
}

// readMarkRows runs markUnionSQL for ids and groups its rows by trace, in
// no particular order of traces: one per trace with any row.
func (s *Store) readMarkRows(ctx context.Context, ids []string) ([]traceMarks, error) {
	r, err := s.c.selectRowsIDs(ctx, markUnionSQL(), ids)
	if err != nil {
		return nil, err
	}
	return groupMarks(r)
}

// readMarkRowsWhere is readMarkRows of the mark rows where also selects.
func (s *Store) readMarkRowsWhere(ctx context.Context, ids []string, where string) ([]traceMarks, error) {
	m := markRows(`trace IN ` + idsTable + ` AND ` + where)
	r, err := s.c.selectRowsIDs(ctx, m[1:len(m)-1], ids)
	if err != nil {
		return nil, err
	}
	return groupMarks(r)
}

// groupMarks groups markUnionSQL's rows: by trace and version, then by
// trace, as pendingSQL does (kinds 1 a mark, 2 an exact clear, 0 a clear
// up to the version; a version's epoch is the largest of its rows').
// Rows of one trace and version are taken in any order: the grouping is
// an or and a max.
func groupMarks(r *rowReader) ([]traceMarks, error) {
	idx := map[string]int32{}
	var ids []string
	rows := make([]markRow, 0, len(r.b)/56+1) // a row is ~54 bytes
	for r.more() {
		id, ver, ep, kind := r.raw(), r.u64(), r.i64(), r.u8()
		if r.err != nil {
			break
		}
		i, ok := idx[string(id)]
		if !ok {
			i = int32(len(ids))
			ids = append(ids, string(id))
			idx[ids[i]] = i
		}
		rows = append(rows, markRow{i, kind, ver, ep})
	}
	if r.err != nil {
		return nil, r.err
	}
	rows = byTrace(rows, len(ids))
	out := make([]traceMarks, len(ids))
	for lo := 0; lo < len(rows); {
		t := rows[lo].t
		tm := &out[t]
		tm.id = ids[t]
		for lo < len(rows) && rows[lo].t == t {
			v, ep := rows[lo].ver, rows[lo].epoch
			var mark, exact bool
			for ; lo < len(rows) && rows[lo].t == t && rows[lo].ver == v; lo++ {
				switch rows[lo].kind {
				case 1:
					mark = true
				case 2:
					exact = true
				case 0:
					tm.upto = v // versions ascend
				}
				ep = max(ep, rows[lo].epoch)
			}
			if mark && !exact {
				tm.open = append(tm.open, v)
			}
			tm.epoch = ep // versions ascend: the last is the newest's
		}
	}
	return out, nil
}

// byTrace orders rows by trace and version: placed by trace first (the
// traces are numbered 0 to n-1 as first read), then each trace's rows, ~5
// of a flush's trace, sorted by version. One sort of every row by both
// (ch12) was half of groupMarks' CPU; this is linear in the rows but for
// each trace's own sort (n log n in its versions, as before).
func byTrace(rows []markRow, n int) []markRow {
	start := make([]int32, n+1) // trace t's rows are out[start[t]:start[t+1]]
	for _, m := range rows {
		start[m.t+1]++
	}
	for t := range n {
		start[t+1] += start[t]
	}
	out := make([]markRow, len(rows))
	next := start[:n:n]
	for _, m := range rows {
		out[next[m.t]] = m
		next[m.t]++
	}
	// next[t] is now where trace t's rows end, which is where t+1's begin.
	lo := int32(0)
	for t := range n {
		if hi := next[t]; hi-lo > 1 {
			slices.SortFunc(out[lo:hi], func(a, b markRow) int { return cmp.Compare(a.ver, b.ver) })
		}
		lo = next[t]
	}
	return out
}
