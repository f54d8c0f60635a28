package clickhouse

import (
	"context"
	"fmt"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// tracesPerQuery bounds the ids of one IN list.
const tracesPerQuery = 2000

// Traces implements store.TraceReader: four queries for many traces (a
// fifth for the tombstones of those without a summary), where Trace makes
// four for one (a point query costs a round trip and a look at
// every part, so the ingest path reads a whole flush's traces at once).
func (s *Store) Traces(ctx context.Context, ids []string) (map[string]*store.StoredTrace, error) {
	out := make(map[string]*store.StoredTrace, len(ids))
	for lo := 0; lo < len(ids); lo += tracesPerQuery {
		if err := s.traces(ctx, ids[lo:min(lo+tracesPerQuery, len(ids))], out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) traces(ctx context.Context, ids []string, out map[string]*store.StoredTrace) error {
	if len(ids) == 0 {
		return nil
	}
	in := inSet(ids)
	// Where each trace is filed, and its marks not cleared (pending.go).
	r, err := s.c.selectRowsIDs(ctx, `SELECT trace, argMax(ep, ver), maxIf(ver, upto = 1), groupArrayIf(ver, mark = 1 AND exact = 0)
		FROM (SELECT trace, ver, max(epoch) AS ep, max(pending = 1) AS mark, max(pending = 2) AS exact, max(pending = 0) AS upto
			FROM `+markRows(`trace IN `+idsTable)+` GROUP BY trace, ver)
		GROUP BY trace`, ids)
	if err != nil {
		return err
	}
	// Per trace, what its reads find; keyed by the ids the first read
	// answered, so that the later reads' rows (several per trace) look
	// their trace up without a string of their own.
	type read struct {
		st      *store.StoredTrace
		marks   map[uint64]bool // marks not cleared, above the newest clearing
		vers    []uint64        // st.Docs[i]'s newest version
		covered []uint64        // marks whose documents the read found
		newest  uint64
	}
	found := map[string]*read{}
	var at []string
	var atP []uint32
	for r.more() {
		id, ep, upto := r.str(), r.i64(), r.u64()
		var ms map[uint64]bool
		r.u64s(func(v uint64) {
			if v > upto {
				if ms == nil {
					ms = map[uint64]bool{}
				}
				ms[v] = true
			}
		})
		if r.err != nil {
			break
		}
		found[id] = &read{st: &store.StoredTrace{ID: id, Epoch: ep}, marks: ms}
		at = append(at, id)
		atP = append(atP, part(ep))
	}
	if r.err != nil {
		return r.err
	}
	if len(found) == 0 {
		s.readMarks(ids, nil, nil) // read: nothing there
		return nil
	}
	r, err = s.c.selectRows(ctx, `SELECT trace, argMax(sum, ver) FROM summaries WHERE trace IN `+in+` GROUP BY trace`)
	if err != nil {
		return err
	}
	for r.more() {
		id, b := r.raw(), r.raw()
		if r.err != nil {
			break
		}
		if t := found[string(id)]; t != nil {
			if t.st.Summary, err = trace.DecodeSummary(b); err != nil {
				return fmt.Errorf("clickhouse: summary of trace %s: %w", id, err)
			}
		}
	}
	if r.err != nil {
		return r.err
	}
	// Every version of each document: those of marks not cleared are
	// what this read covers, in the same snapshot as the documents.
	r, err = s.c.selectRows(ctx, `SELECT trace, doc, argMax(raw, ver), max(ver), groupUniqArray(ver) FROM docs WHERE trace IN `+in+` AND (trace, p) IN `+
		pairSet(at, atP)+` GROUP BY trace, doc ORDER BY trace, doc`)
	if err != nil {
		return err
	}
	var t *read // the rows' trace: they come ordered by it
	for r.more() {
		id, doc, raw, v := r.raw(), r.str(), r.raw(), r.u64()
		if t == nil || t.st.ID != string(id) {
			t = found[string(id)]
		}
		r.u64s(func(dv uint64) {
			if t != nil && t.marks[dv] {
				t.covered = append(t.covered, dv)
				delete(t.marks, dv) // once, though several documents carry it
			}
		})
		if r.err != nil {
			break
		}
		if t != nil {
			t.st.Docs = append(t.st.Docs, store.Doc{ID: doc, Raw: raw})
			t.vers = append(t.vers, v)
			t.newest = max(t.newest, v)
		}
	}
	if r.err != nil {
		return r.err
	}
	covered := make(map[string][]uint64, len(found))
	newest := make(map[string]uint64, len(found))
	for id, t := range found {
		if t.covered != nil {
			covered[id] = t.covered
		}
		if len(t.vers) > 0 {
			newest[id] = t.newest
		}
	}
	s.readMarks(ids, covered, newest)
	// Tombstones of the traces without a summary (drop.go).
	var unsummed []string
	for id, t := range found {
		if t.st.Summary == nil {
			unsummed = append(unsummed, id)
		}
	}
	if len(unsummed) > 0 {
		dv, err := s.dropVersions(ctx, unsummed)
		if err != nil {
			return err
		}
		for id, v := range dv {
			if t := found[id]; t != nil {
				hideDropped(t.st, t.vers, v)
			}
		}
	}
	for id, t := range found {
		if st := t.st; st.Summary != nil || len(st.Docs) > 0 || st.Dropped {
			out[id] = st
		}
	}
	return nil
}
