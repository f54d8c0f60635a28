package clickhouse

import (
	"context"
	"fmt"
	"strconv"
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

// The last answer's traces are judged again only if one of their rows
// (a mark, or a clear: traces, summaries, dropped) is in a part made
// since the sample; the others are as pending as they were (a sample an
// overlap older than the last answer's read is older than every INSERT
// that read did not see, unless one took longer than that).

// blockSample is the newest block numbers of the mark tables at a time
// (-1: none taken; every part is read), and the partitions that held
// active parts then (rescan.go).
type blockSample struct {
	at                               time.Time
	docs, traces, summaries, dropped int64
	parts                            map[tablePart]bool
}

// tablePart is a partition of a table.
type tablePart struct {
	table string
	p     uint32
}

// everyPart is the sample after which every part's blocks come.
var everyPart = blockSample{docs: -1, traces: -1, summaries: -1, dropped: -1}

// newestBlocks samples the newest block numbers of the active parts (0
// for a table with none: every part is newer), and their partitions.
// Inactive parts are left out: their rows are in an active part (a merge
// or mutation made since) or gone (a dropped partition).
func (s *Store) newestBlocks(ctx context.Context) (blockSample, error) {
	smp := blockSample{at: time.Now(), parts: map[tablePart]bool{}}
	r, err := s.c.selectRows(ctx, fmt.Sprintf(`SELECT table, partition, max(max_block_number) FROM system.parts
		WHERE database = %s AND active AND table IN ('docs', 'traces', 'summaries', 'dropped') GROUP BY table, partition`, quote(s.c.database)))
	if err != nil {
		return smp, err
	}
	for r.more() {
		table, partition, n := r.str(), r.str(), r.i64()
		p, perr := strconv.ParseUint(partition, 10, 32)
		if r.err != nil {
			break
		} else if perr != nil {
			return smp, fmt.Errorf("clickhouse: partition %q of %s is not an hour", partition, table)
		}
		smp.parts[tablePart{table, uint32(p)}] = true
		switch table {
		case "docs":
			smp.docs = max(smp.docs, n)
		case "traces":
			smp.traces = max(smp.traces, n)
		case "summaries":
			smp.summaries = max(smp.summaries, n)
		case "dropped":
			smp.dropped = max(smp.dropped, n)
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
		return cur.docs < last.docs || cur.traces < last.traces || cur.summaries < last.summaries || cur.dropped < last.dropped
	}
	return false
}

// touchedSince are those of ids with a row in a part of the mark tables
// made after the sample's blocks; nil (all of them) with no sample.
func (s *Store) touchedSince(ctx context.Context, ids []string, after blockSample) (map[string]bool, error) {
	if after.docs < 0 || len(ids) == 0 {
		return nil, nil
	}
	touched := map[string]bool{}
	for lo := 0; lo < len(ids); lo += tracesPerQuery {
		in := `trace IN ` + idsTable + ` AND `
		r, err := s.c.selectRowsIDs(ctx, `SELECT DISTINCT trace FROM (SELECT trace FROM docs WHERE `+in+partsAfter(after.docs)+`
			UNION ALL SELECT trace FROM traces WHERE `+in+partsAfter(after.traces)+`
			UNION ALL SELECT trace FROM summaries WHERE `+in+partsAfter(after.summaries)+`
			UNION ALL SELECT trace FROM dropped WHERE `+in+partsAfter(after.dropped)+`)`, ids[lo:min(lo+tracesPerQuery, len(ids))])
		if err != nil {
			return nil, err
		}
		for r.more() {
			if id := r.str(); r.err == nil {
				touched[id] = true
			}
		}
		if r.err != nil {
			return nil, r.err
		}
	}
	return touched, nil
}
