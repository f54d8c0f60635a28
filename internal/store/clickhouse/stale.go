package clickhouse

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// Every process calls PendingBefore every few seconds (Ingester.Adopt).
// Its whole answer groups every mark of staleWindow's hours by trace: the
// tables are ordered by trace, so no version bound prunes what is read,
// and the grouping cost ~1.5 µs per mark row, minutes of CPU per call at
// 50,000 segments a second. So after one whole scan a store reads only
// what can have changed since its last answer:
//
//   - the traces with a mark written since that answer's bound (less
//     staleOverlap, for writers' clocks behind ours and INSERTs that
//     became visible late), found by filtering versions, not grouping
//     them, in the parts made since (newparts.go);
//   - and that answer's traces again (only those with a row in a part
//     made since: newparts.go).
//
// Both are then judged by their marks alone (readMarkRows). A trace stale
// now whose newest open mark is older than the window was stale at the
// last answer too (marks are only ever added, and clears only make a trace
// less pending), so the union holds the whole answer. A whole scan runs
// again every staleFullEvery, and after any error, to bound what a clock
// skewed beyond the overlap could hide.
const (
	staleOverlap   = time.Minute
	staleFullEvery = 10 * time.Minute
)

// staleScan is what the last PendingBefore answered.
type staleScan struct {
	mu    sync.Mutex
	upTo  time.Time // the last answer's before; zero: none yet
	full  time.Time // when the last whole answer ran
	found []string  // the last answer
	// samples are the tables' newest block numbers at each call since
	// (newparts.go), oldest first; none on a sharded store.
	samples []blockSample
	// whole is the last whole answer's state (rescan.go).
	whole wholeState

	overlap, fullEvery      time.Duration // staleOverlap, staleFullEvery unless a test sets them
	fulls, rescans, windows int           // answers of each kind, for tests
	newParts                int           // windows that read only new parts, for tests
	startRescans            atomic.Int32  // Pending answers rescanned (pendingstart.go), for tests
}

var _ store.StalePending = (*Store)(nil)

// PendingBefore implements store.StalePending: traces filed within
// staleWindow whose newest mark is not cleared and was written before
// before, in trace order.
func (s *Store) PendingBefore(ctx context.Context, before time.Time, fn func(traceID string) bool) error {
	st := &s.stale
	st.mu.Lock()
	defer st.mu.Unlock()
	var ids []string
	var err error
	var cur blockSample
	sampled := len(s.shards) == 0
	if sampled {
		cur, err = s.newestBlocks(ctx)
	}
	overlap := cmp.Or(st.overlap, staleOverlap)
	switch {
	case err != nil:
	case st.upTo.IsZero() || before.Before(st.upTo) || st.restarted(cur):
		ids, err = s.wholeAnswer(ctx, before, cur, false)
	case time.Since(st.full) >= cmp.Or(st.fullEvery, staleFullEvery):
		ids, err = s.wholeAnswer(ctx, before, cur, sampled && st.whole.rescannable(cur, before.Add(-staleWindow)))
		if err == nil {
			s.refreshPending(ctx, cmp.Or(st.fullEvery, staleFullEvery)) // the next start's (pendingstart.go)
		}
	default:
		since := st.upTo.Add(-overlap)
		after := everyPart
		if smp, ok := st.sampleBefore(since.Add(-overlap)); ok {
			after = smp
			st.newParts++
		}
		ids, err = s.pendingBeforeSince(ctx, since, before, st.found, after)
		st.windows++
	}
	if err != nil {
		st.upTo, st.found, st.samples, st.whole = time.Time{}, nil, nil, wholeState{}
		return err
	}
	st.upTo, st.found = before, ids
	if sampled {
		st.samples = append(st.samples, cur)
	}
	for _, id := range ids {
		if !fn(id) {
			return nil
		}
	}
	return nil
}

// pendingBeforeSince is PendingBefore's answer from the traces marked in
// [since, before), in the parts made after the blocks after numbers
// (newparts.go), and the last answer's traces (again), judged again if
// they have a row in such a part.
func (s *Store) pendingBeforeSince(ctx context.Context, since, before time.Time, again []string, after blockSample) ([]string, error) {
	from := before.Add(-staleWindow)
	window := fmt.Sprintf(`p >= %d AND ver >= %d AND ver < %d`,
		uint32(store.PartitionOf(from.Unix())), max(since.UnixNano(), from.UnixNano()), before.UnixNano())
	r, err := s.c.selectRows(ctx, `SELECT DISTINCT trace FROM (SELECT trace FROM docs WHERE epoch != `+noEpoch+` AND `+window+` AND `+partsAfter(after.docs)+`
		UNION ALL SELECT trace FROM traces WHERE pending = 1 AND `+window+` AND `+partsAfter(after.traces)+`)`)
	if err != nil {
		return nil, err
	}
	ids, err := r.strs()
	if err != nil {
		return nil, err
	}
	// The last answer's traces with no row in a part made since the
	// sample are as pending as they were: kept, not judged again.
	var out []string
	if touched, err := s.touchedSince(ctx, again, after); err != nil {
		return nil, err
	} else if touched != nil {
		for _, id := range again {
			if touched[id] {
				ids = append(ids, id)
			} else {
				out = append(out, id)
			}
		}
	} else {
		ids = append(ids, again...)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for lo := 0; lo < len(ids); lo += tracesPerQuery {
		tms, err := s.readMarkRows(ctx, ids[lo:min(lo+tracesPerQuery, len(ids))])
		if err != nil {
			return nil, err
		}
		for i := range tms {
			if t := &tms[i]; t.pending() && t.open[len(t.open)-1] < uint64(before.UnixNano()) {
				out = append(out, t.id)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
