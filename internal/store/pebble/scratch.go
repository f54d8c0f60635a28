package pebble

import "sync"

// writeScratch is what one Apply or PutDocs call stages its writes in:
// the operations, the bytes of the keys and summaries they name, the
// traces' ids. Pebble copies keys and values into its batch as they are
// set, so once the call has committed, the next one reuses it all.
//
// A Store keeps a few in a free list rather than a sync.Pool: a pool is
// emptied by every other collection, and at ingest's allocation rate that
// is more often than a flush part's Apply comes round, so its arrays were
// made again for most calls (2M single-segment traces: 1.4 GB of the
// staged operations, arenas and keys, ~9% of all ingest allocated).
type writeScratch struct {
	ops    []stagedOp // the main LSM's batch (Apply), the documents' (PutDocs)
	terms  []stagedOp // Apply's index batch
	bytes  []byte     // keys and encoded summaries
	ids    []string
	epochs []int64
}

// scratchList is free writeScratches.
type scratchList struct {
	mu   sync.Mutex
	free []*writeScratch
}

// maxFreeScratch is how many a list keeps: Apply's serve a flush part
// per core, PutDocs' a few concurrent writers.
const maxFreeScratch = 4

// Outsized arrays are let go rather than kept (an Apply of a huge trace).
const (
	maxScratchBytes = 8 << 20
	maxScratchOps   = 64 << 10
)

func (l *scratchList) get() *writeScratch {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.free); n > 0 {
		w := l.free[n-1]
		l.free[n-1] = nil
		l.free = l.free[:n-1]
		return w
	}
	return new(writeScratch)
}

// put returns w once its batches are committed. It keeps no pointer into
// the documents and summaries the call staged.
func (l *scratchList) put(w *writeScratch) {
	w.ops = resetOps(w.ops)
	w.terms = resetOps(w.terms)
	clear(w.ids)
	w.ids, w.epochs = w.ids[:0], w.epochs[:0]
	if cap(w.bytes) > maxScratchBytes {
		w.bytes = nil
	}
	w.bytes = w.bytes[:0]
	if cap(w.ids) > maxScratchOps {
		w.ids, w.epochs = nil, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.free) < maxFreeScratch {
		l.free = append(l.free, w)
	}
}

func resetOps(ops []stagedOp) []stagedOp {
	if cap(ops) > maxScratchOps {
		return nil
	}
	clear(ops[:cap(ops)])
	return ops[:0]
}

// opsWith is ops emptied, with room for n.
func opsWith(ops []stagedOp, n int) []stagedOp {
	if cap(ops) < n {
		return make([]stagedOp, 0, n)
	}
	return ops[:0]
}
