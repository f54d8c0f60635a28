package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// tracesPerQuery bounds the traces one read names (an id set sent as
// external data, or a list in the query).
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
	// Where each trace is filed, and its marks not cleared (pending.go,
	// marks.go).
	tms, err := s.readMarkRows(ctx, ids)
	if err != nil {
		return err
	}
	// Sized once: a flush reads up to 1,024 traces of a few documents, and
	// growing these maps as the rows came was a third of the read's
	// allocations.
	found := make(map[string]*store.StoredTrace, len(ids))
	marks := make(map[string]map[uint64]bool, len(ids))
	at := make([]string, 0, len(ids))
	atP := make([]uint32, 0, len(ids))
	for _, tm := range tms {
		var ms map[uint64]bool
		for _, v := range tm.open {
			if v > tm.upto {
				if ms == nil {
					ms = map[uint64]bool{}
				}
				ms[v] = true
			}
		}
		found[tm.id] = &store.StoredTrace{ID: tm.id, Epoch: tm.epoch}
		marks[tm.id] = ms
		at = append(at, tm.id)
		atP = append(atP, part(tm.epoch))
	}
	if len(found) == 0 {
		s.readMarks(ids, nil, nil) // read: nothing there
		return nil
	}
	// The newest summary of each trace, picked by the server: a trace is
	// summarised again at each flush that takes its new segments, and the
	// table keeps every version, so a long trace has many (unlike its
	// documents, below, which are rarely rewritten).
	r, err := s.c.selectRowsIDs(ctx, `SELECT trace, argMax(sum, ver) FROM summaries WHERE trace IN `+idsTable+` GROUP BY trace`, ids)
	if err != nil {
		return err
	}
	for r.more() {
		id, b := r.str(), r.raw()
		if r.err != nil {
			break
		}
		if st := found[id]; st != nil {
			if st.Summary, err = trace.DecodeSummary(b); err != nil {
				return fmt.Errorf("clickhouse: summary of trace %s: %w", id, err)
			}
		}
	}
	if r.err != nil {
		return r.err
	}
	// Every version of each document, as stored: those of marks not
	// cleared are what this read covers, in the same snapshot as the
	// documents. The newest version of each document is picked here, not
	// by a GROUP BY with argMax(raw, ver): that copied every document's
	// bytes into the server's hash table, a quarter of the read's CPU
	// (older versions are few, and their bytes are not copied here).
	// The documents this process wrote come back empty, flagged, and
	// their bytes from its memory (own.go).
	where := ` FROM docs WHERE trace IN ` + idsTable + ` AND (trace, p) IN ` + atTable
	sets := []extTable{idsExt(at), atExt(at, atP)}
	mine, ownRows := s.own.among(at)
	if mine == nil {
		r, err = s.c.selectRowsExternal(ctx, `SELECT trace, doc, ver, 0, raw`+where, sets...)
	} else {
		r, err = s.c.selectRowsExternal(ctx, `SELECT trace, doc, ver, (trace, doc, ver) IN `+ownTable+` AS mine, if(mine, '', raw)`+where,
			append(sets, extTable{ownTable, ownStructure, ownRows})...)
	}
	if err != nil {
		return err
	}
	type docKey struct{ trace, doc string }
	type docVer struct {
		raw []byte // in its stored form (docform.go) unless own
		ver uint64
		own bool
	}
	docs := make(map[docKey]docVer, 4*len(at))
	covered := make(map[string][]uint64, len(at))
	newest := make(map[string]uint64, len(at))
	for r.more() {
		id, doc, v, own, raw := r.str(), r.str(), r.u64(), r.u8(), r.raw()
		if r.err != nil {
			break
		}
		if own == 1 {
			var ok bool
			if raw, ok = mine[ownKey{id, doc, v}]; !ok {
				return fmt.Errorf("clickhouse: trace %s: document %s version %d came back as this process's, which it does not hold", id, doc, v)
			}
		}
		if ms := marks[id]; ms[v] {
			covered[id] = append(covered[id], v)
			delete(ms, v) // once, though several documents carry it
		}
		if found[id] == nil {
			continue
		}
		k := docKey{id, doc}
		if cur, ok := docs[k]; !ok || v > cur.ver {
			docs[k] = docVer{raw, v, own == 1}
		}
		newest[id] = max(newest[id], v)
	}
	if r.err != nil {
		return r.err
	}
	// Each trace's documents in id order, as Trace returns them;
	// vers[id][i] is the newest version of st.Docs[i] (hideDropped).
	keys := make([]docKey, 0, len(docs))
	for k := range docs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b docKey) int {
		if c := strings.Compare(a.trace, b.trace); c != 0 {
			return c
		}
		return strings.Compare(a.doc, b.doc)
	})
	// Only the newest version of each is decompressed.
	vers := make(map[string][]uint64, len(at))
	var dr docReader
	for _, k := range keys {
		d := docs[k]
		st := found[k.trace]
		if !d.own {
			if d.raw, err = dr.doc(d.raw); err != nil {
				return fmt.Errorf("clickhouse: trace %s, document %s: %w", k.trace, k.doc, err)
			}
		}
		st.Docs = append(st.Docs, store.Doc{ID: k.doc, Raw: d.raw})
		vers[k.trace] = append(vers[k.trace], d.ver)
	}
	s.readMarks(ids, covered, newest)
	// Tombstones of the traces without a summary (drop.go).
	var unsummed []string
	for id, st := range found {
		if st.Summary == nil {
			unsummed = append(unsummed, id)
		}
	}
	if len(unsummed) > 0 {
		dv, err := s.dropVersions(ctx, unsummed)
		if err != nil {
			return err
		}
		for id, v := range dv {
			hideDropped(found[id], vers[id], v)
		}
	}
	for id, st := range found {
		if st.Summary != nil || len(st.Docs) > 0 || st.Dropped {
			out[id] = st
		}
	}
	return nil
}
