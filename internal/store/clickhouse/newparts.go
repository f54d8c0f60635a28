package clickhouse

import (
	"context"
	"fmt"
	"time"
)

// PendingBefore's window (stale.go) reads only the parts of docs and
// traces made since a sample of their newest block numbers, so its cost
// follows what was written lately, not what the hours' partitions hold.
//
// A plain MergeTree numbers the blocks of its INSERTs from one counter per
// table (not per partition; 18.16 and current servers alike) and names a
// part <partition>_<min block>_<max block>_<level>[_<mutation>]; a merge's
// part carries the largest block it holds. So every row of an INSERT whose
// block was numbered after a sample of the table's newest block number n is
// in a part whose max block exceeds n, and a WHERE on the _part virtual
// column alone makes the server open only those parts (it prunes parts by
// it before reading: TestWindowReadsOnlyNewParts). A merge of old rows with
// new ones is read whole, so a row is read about once per rewrite, not once
// per call for hours. A mark's version is taken before its INSERT numbers
// its block, so the marks of versions from t on, by writers whose clocks
// are at most staleOverlap ahead of this one's, are in the parts made since
// a sample taken staleOverlap before t. A table made anew (a migration's
// copy) starts its count again: a sample lower than the last one makes the
// next answer a whole scan. A sharded store's nodes count apart: its window
// reads every part, as before.

// blockSample is the newest block numbers of docs and traces at a time.
type blockSample struct {
	at           time.Time
	docs, traces int64
}

// newestBlocks samples the newest block numbers (0 for a table with no
// parts: every part is newer).
func (s *Store) newestBlocks(ctx context.Context) (blockSample, error) {
	smp := blockSample{at: time.Now()}
	r, err := s.c.selectRows(ctx, fmt.Sprintf(`SELECT table, max(max_block_number) FROM system.parts
		WHERE database = %s AND table IN ('docs', 'traces') GROUP BY table`, quote(s.c.database)))
	if err != nil {
		return smp, err
	}
	for r.more() {
		table, n := r.str(), r.i64()
		switch table {
		case "docs":
			smp.docs = n
		case "traces":
			smp.traces = n
		}
	}
	return smp, r.err
}

// partsAfter is the condition that selects the parts holding a block
// numbered after n.
func partsAfter(n int64) string {
	return fmt.Sprintf(`toInt64(splitByChar('_', _part)[3]) > %d`, n)
}

// sampleBefore is the newest sample taken at or before t, if any; the
// older ones are dropped (t only moves on).
func (st *staleScan) sampleBefore(t time.Time) (blockSample, bool) {
	i := -1
	for j, smp := range st.samples {
		if !smp.at.After(t) {
			i = j
		}
	}
	if i < 0 {
		return blockSample{}, false
	}
	st.samples = st.samples[i:]
	return st.samples[0], true
}

// restarted reports that a table's newest block is below the last
// sample's: the table was made anew, and a window could miss its parts.
func (st *staleScan) restarted(cur blockSample) bool {
	if n := len(st.samples); n > 0 {
		last := st.samples[n-1]
		return cur.docs < last.docs || cur.traces < last.traces
	}
	return false
}
