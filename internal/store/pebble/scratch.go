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
	bytes  []byte     // PutDocs' keys
	ids    []string
	epochs []int64
	// chunks hold Apply's summaries and their keys, chunks[:used] this
	// call's. In chunks, not one array sized for the call: a flush part of
	// thousands of traces wanted an array past what is worth keeping, made
	// again for every such Apply (1 GB of 2M single-segment traces' 16).
	chunks [][]byte
	used   int
}

// Apply's chunks: what is kept of them is bounded as the other arrays
// are; a chunk with less than chunkRoom free is left for the next.
const (
	arenaChunk = 256 << 10
	maxChunks  = maxScratchBytes / arenaChunk
	chunkRoom  = 8 << 10
)

// chunk is an empty chunk for Apply's arena: a kept one not yet used in
// this call, or a new one, kept if there is room.
func (w *writeScratch) chunk() []byte {
	if w.used < len(w.chunks) {
		w.used++
		return w.chunks[w.used-1][:0]
	}
	c := make([]byte, 0, arenaChunk)
	if len(w.chunks) < maxChunks {
		w.chunks = append(w.chunks, c)
		w.used++
	}
	return c
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
	w.used = 0
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
