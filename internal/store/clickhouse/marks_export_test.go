package clickhouse

import (
	"context"
	"fmt"
	"slices"
)

// MarkView is what the flush's reads take of a trace's marks: where it is
// filed, and the open marks newer than every cleared-up-to row.
type MarkView struct {
	Epoch   int64
	Open    []uint64 // ascending
	Pending bool
}

// MarksByServer is the server's grouping of markRows, the SQL the flush's
// reads sent before marks.go (pendingSQL and Traces' first query).
func (s *Store) MarksByServer(ctx context.Context, ids []string) (map[string]MarkView, error) {
	out := map[string]MarkView{}
	r, err := s.c.selectRowsIDs(ctx, `SELECT trace, argMax(ep, ver), maxIf(ver, upto = 1), groupArrayIf(ver, mark = 1 AND exact = 0)
		FROM (SELECT trace, ver, max(epoch) AS ep, max(pending = 1) AS mark, max(pending = 2) AS exact, max(pending = 0) AS upto
			FROM `+markRows(`trace IN `+idsTable)+` GROUP BY trace, ver)
		GROUP BY trace`, ids)
	if err != nil {
		return nil, err
	}
	for r.more() {
		id, ep, upto := r.str(), r.i64(), r.u64()
		var open []uint64
		r.u64s(func(v uint64) {
			if v > upto {
				open = append(open, v)
			}
		})
		slices.Sort(open)
		out[id] = MarkView{Epoch: ep, Open: open}
	}
	if r.err != nil {
		return nil, r.err
	}
	r, err = s.c.selectRowsIDs(ctx, pendingSQL(`trace IN `+idsTable, ""), ids)
	if err != nil {
		return nil, err
	}
	for r.more() {
		id := r.str()
		v, ok := out[id]
		if !ok {
			return nil, fmt.Errorf("pending trace %s has no marks", id)
		}
		v.Pending = true
		out[id] = v
	}
	return out, r.err
}

// MarksInGo is marks.go's grouping of the same rows.
func (s *Store) MarksInGo(ctx context.Context, ids []string) (map[string]MarkView, error) {
	tms, err := s.readMarkRows(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := map[string]MarkView{}
	for _, tm := range tms {
		if _, dup := out[tm.id]; dup {
			return nil, fmt.Errorf("trace %s grouped twice", tm.id)
		}
		var open []uint64
		for _, v := range tm.open {
			if v > tm.upto {
				open = append(open, v)
			}
		}
		out[tm.id] = MarkView{Epoch: tm.epoch, Open: open, Pending: tm.pending()}
	}
	return out, nil
}

// Exec runs a statement in s's database.
func (s *Store) Exec(ctx context.Context, stmt string) error { return s.c.exec(ctx, stmt) }
