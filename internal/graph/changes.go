package graph

import (
	"runtime"
	"sync"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// Change is one update's change to one node or edge, summed over the
// minutes it counts in: Contribute(Summary) − Contribute(Previous), per
// entity. RED counts these (internal/red).
type Change struct {
	Entity Entity
	Stats  *Stats
}

// Observer is told, once a batch of updates is stored, what each update
// changed: changes(i) for updates[i], nil for an update without a Summary.
// It must keep neither the slices nor the Stats: they are reused.
type Observer func(updates []store.TraceUpdate, changes func(i int) []Change)

// AddObserver registers an observer of stored updates (Hook calls it).
// Prepare computes each update's changes in the same pass as its
// statistics deltas, so a summary's contribution is computed once for
// both: computed again by RED's own ingest hook it was ~2% of
// single-segment ingest's CPU.
func (a *Aggregator) AddObserver(o Observer) {
	a.obsMu.Lock()
	defer a.obsMu.Unlock()
	a.observers = append(a.observers, o)
	if a.prepared == nil {
		a.prepared = map[*store.TraceUpdate]*changeBatch{}
	}
}

// keep holds a batch's changes from Prepare until Hook, keyed by its first
// update: ingest passes the same slice to derivers and hooks. A batch whose
// Apply failed is never handed over; as ingest summarises one flush at a
// time, in at most GOMAXPROCS parts, a batch with that many kept after it
// is such a one, and is dropped (it holds its updates: under a failing
// store, more would pile up). Dropping a live one would only cost Hook a
// Contribute per summary.
func (a *Aggregator) keep(updates []store.TraceUpdate, cb *changeBatch) {
	a.obsMu.Lock()
	defer a.obsMu.Unlock()
	a.keptSeq++
	cb.seq = a.keptSeq
	limit := uint64(max(2, runtime.GOMAXPROCS(0)))
	for k, old := range a.prepared {
		if cb.seq-old.seq >= limit {
			delete(a.prepared, k)
		}
	}
	a.prepared[&updates[0]] = cb
}

// observe hands the observers a stored batch's changes: those Prepare
// computed, or computed now for a batch it did not see.
func (a *Aggregator) observe(updates []store.TraceUpdate) {
	a.obsMu.Lock()
	obs := a.observers
	var cb *changeBatch
	if len(updates) > 0 {
		if cb = a.prepared[&updates[0]]; cb != nil {
			delete(a.prepared, &updates[0])
		}
	}
	a.obsMu.Unlock()
	if len(obs) == 0 || len(updates) == 0 {
		return
	}
	if cb == nil || len(cb.ends) != len(updates) {
		cb = newChangeBatch()
		for _, u := range updates {
			if u.Summary != nil {
				add := func(e Entity, _ int32, _ int64, r *request) { cb.add(e, r) }
				contribute(u.Previous, -1, nil, add)
				contribute(u.Summary, 1, nil, add)
			}
			cb.next()
		}
	}
	for _, o := range obs {
		o(updates, cb.of)
	}
	cb.release()
}

func (a *Aggregator) observed() bool {
	a.obsMu.Lock()
	defer a.obsMu.Unlock()
	return len(a.observers) > 0
}

// changeBatch is the changes of a batch of updates, update after update.
type changeBatch struct {
	changes []Change
	ends    []int // ends[i]: the end of updates[i]'s changes
	start   int   // the start of the current update's changes
	// at holds the current update's changes by entity past the first
	// linearChanges, which are searched in order: an update changes a few
	// entities, and hashing each request's entity string cost more than
	// comparing interned strings (equal ones share their bytes).
	at    map[Entity]int
	stats []*Stats // every Stats handed out, reused from batch to batch
	used  int
	seq   uint64 // when it was kept (Aggregator.keep)
}

const linearChanges = 16

var changeBatches = sync.Pool{New: func() any { return &changeBatch{at: map[Entity]int{}} }}

func newChangeBatch() *changeBatch { return changeBatches.Get().(*changeBatch) }

// add adds a request to the current update's change of e.
func (cb *changeBatch) add(e Entity, r *request) {
	i, ok := cb.index(e)
	if !ok {
		var s *Stats
		if cb.used < len(cb.stats) {
			s = cb.stats[cb.used]
			s.reset()
		} else {
			s = &Stats{}
			cb.stats = append(cb.stats, s)
		}
		cb.used++
		i = len(cb.changes)
		cb.changes = append(cb.changes, Change{Entity: e, Stats: s})
		if i-cb.start >= linearChanges {
			cb.at[e] = i
		}
	}
	cb.changes[i].Stats.addRequest(r)
}

// index is where the current update's change of e is.
func (cb *changeBatch) index(e Entity) (int, bool) {
	cur := cb.changes[cb.start:]
	for j := range min(len(cur), linearChanges) {
		if cur[j].Entity == e {
			return cb.start + j, true
		}
	}
	if len(cur) > linearChanges {
		i, ok := cb.at[e]
		return i, ok
	}
	return 0, false
}

// next ends the current update's changes.
func (cb *changeBatch) next() {
	cb.ends = append(cb.ends, len(cb.changes))
	if len(cb.changes)-cb.start > linearChanges {
		clear(cb.at)
	}
	cb.start = len(cb.changes)
}

func (cb *changeBatch) of(i int) []Change {
	start := 0
	if i > 0 {
		start = cb.ends[i-1]
	}
	return cb.changes[start:cb.ends[i]]
}

func (cb *changeBatch) release() {
	clear(cb.changes) // the pool holds no entity of these traces
	clear(cb.at)
	cb.changes, cb.ends, cb.used, cb.start = cb.changes[:0], cb.ends[:0], 0, 0
	changeBatches.Put(cb)
}
