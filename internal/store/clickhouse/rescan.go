package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// PendingBefore's whole answer (every staleFullEvery) is, as a model, the
// traces pending among the mark rows of its window (windowWhere: the
// partitions from staleWindow ago on, versions from then on), grouped by
// the server: 2 to 3 hours of marks, ~5 s of ClickHouse's CPU at 1M traces.
// After one such scan a store makes the next whole answer from what can
// have changed since (a rescan), judged by the same rows:
//
//   - the traces pending among the rows of the parts made since the last
//     whole answer's block sample (newparts.go), grouped by the server: a
//     trace pending now whose newest open mark was written since is
//     pending among those rows alone (they hold that mark, and fewer
//     clears);
//   - the traces pending at the last whole answer, with no bound on their
//     newest mark (a mark of a clock ahead, not yet before its bound then),
//     judged again if they have a row in such a part (touchedSince), their
//     newest open mark left the window, or its first partition changed
//     (once an hour), else kept as they were.
//
// Marks are only added and clears only make a trace less pending, so a
// trace pending now whose newest open mark is in an older part was pending
// at the last whole answer, or lost a clear: to a dropped partition (then
// the store reads whole again; the purge's mutations delete only cleared
// marks), or to the window moving on. The last is where the rescan answers
// apart from the whole scan: a clear older than the window (a summary's
// version below the marks it cleared, from a writer whose clock is behind,
// or a moved trace's clear in a partition before the window) that cleared
// a mark inside it makes the whole scan call the trace pending though it is
// not (PendingAmong, which reads every row, does not), and the rescan does
// not adopt it, unless it is judged again for another reason. Reading the
// window's older versions to find such clears cost more than the rest of a
// rescan (the versions of every summary of the window, ~30 ms of the 36 at
// 200,000 traces) to adopt a trace already summarised.
//
// What is read is the parts written since (about once per merge that
// rewrites a row, as the windows read) and the pending traces touched
// since: nothing in proportion to the old parts. A sharded store's nodes
// count blocks apart: it reads whole every time, as before.

// wholeState is what the last whole answer leaves for the next rescan.
type wholeState struct {
	from time.Time   // its window's start; zero: none
	base blockSample // the blocks sampled before it read
	open []openTrace // the traces pending then, in trace order
}

// openTrace is a pending trace and its newest open mark's version.
type openTrace struct {
	id     string
	newest uint64
}

// windowWhere selects the mark rows of the whole answer's window from
// from on.
func windowWhere(from time.Time) string {
	return fmt.Sprintf(`p >= %d AND ver >= %d`, part(from.Unix()), from.UnixNano())
}

// rescannable reports that a rescan from w's answer to a window from from
// on sees everything the whole scan would: no table made anew, no
// partition of the window dropped since.
func (w *wholeState) rescannable(cur blockSample, from time.Time) bool {
	b := w.base
	if w.from.IsZero() || from.Before(w.from) || b.parts == nil ||
		cur.docs < b.docs || cur.traces < b.traces || cur.summaries < b.summaries || cur.dropped < b.dropped {
		return false
	}
	for tp := range b.parts {
		if tp.p >= part(w.from.Unix()) && !cur.parts[tp] {
			return false
		}
	}
	return true
}

// wholeAnswer is PendingBefore's whole answer: read whole, or rescanned
// from the last one.
func (s *Store) wholeAnswer(ctx context.Context, before time.Time, cur blockSample, rescan bool) ([]string, error) {
	st := &s.stale
	at, from := time.Now(), before.Add(-staleWindow)
	var open []openTrace
	var err error
	if rescan {
		open, err = s.rescanPending(ctx, st.whole, from)
	} else {
		open, err = s.scanPending(ctx, from)
	}
	if err != nil {
		return nil, err
	}
	if rescan {
		st.rescans++
	} else {
		st.fulls++
	}
	st.full, st.samples = at, nil
	st.whole = wholeState{from: from, base: cur, open: open}
	var ids []string
	for _, t := range open {
		if t.newest < uint64(before.UnixNano()) {
			ids = append(ids, t.id)
		}
	}
	return ids, nil
}

// scanPending groups every mark row of the window from from on: the
// traces pending there, in trace order.
func (s *Store) scanPending(ctx context.Context, from time.Time) ([]openTrace, error) {
	r, err := s.c.selectRows(ctx, pendingOf(`trace, `+newestMark, markRows(windowWhere(from)), ``)+` ORDER BY trace`)
	if err != nil {
		return nil, err
	}
	var open []openTrace
	for r.more() {
		if t := (openTrace{r.str(), r.u64()}); r.err == nil {
			open = append(open, t)
		}
	}
	return open, r.err
}

// rescanPending is scanPending's answer made from last's (above).
func (s *Store) rescanPending(ctx context.Context, last wholeState, from time.Time) ([]openTrace, error) {
	where := windowWhere(from)
	kept, err := s.keptPending(ctx, last, from)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, t := range last.open {
		if _, ok := kept[t.id]; !ok {
			ids = append(ids, t.id)
		}
	}
	r, err := s.c.selectRows(ctx, pendingOf(`trace`, markRowsAfter(where, last.base), ``))
	if err != nil {
		return nil, err
	}
	for r.more() {
		if id := r.str(); r.err == nil {
			ids = append(ids, id)
			delete(kept, id)
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	open := make([]openTrace, 0, len(kept))
	for id, newest := range kept {
		open = append(open, openTrace{id, newest})
	}
	for lo := 0; lo < len(ids); lo += tracesPerQuery {
		tms, err := s.readMarkRowsWhere(ctx, ids[lo:min(lo+tracesPerQuery, len(ids))], where)
		if err != nil {
			return nil, err
		}
		for i := range tms {
			if t := &tms[i]; t.pending() {
				open = append(open, openTrace{t.id, t.open[len(t.open)-1]})
			}
		}
	}
	slices.SortFunc(open, func(a, b openTrace) int { return strings.Compare(a.id, b.id) })
	return open, nil
}

// keptPending are the traces of last's answer that are as pending as they
// were, with their newest open marks, so not judged again: no row in a
// part made since (touchedSince), and a newest open mark still in the
// window (the marks that left it were older). The window's first
// partition must be the same: a moved trace's marks may sit in the
// partition that left it. None then, once an hour: every trace of the
// answer is judged again.
func (s *Store) keptPending(ctx context.Context, last wholeState, from time.Time) (map[string]uint64, error) {
	kept := map[string]uint64{}
	if part(from.Unix()) != part(last.from.Unix()) || len(last.open) == 0 {
		return kept, nil
	}
	ids := make([]string, len(last.open))
	for i, t := range last.open {
		ids[i] = t.id
	}
	touched, err := s.touchedSince(ctx, ids, last.base)
	if err != nil || touched == nil {
		return kept, err
	}
	for _, t := range last.open {
		if !touched[t.id] && t.newest >= uint64(from.UnixNano()) {
			kept[t.id] = t.newest
		}
	}
	return kept, nil
}
