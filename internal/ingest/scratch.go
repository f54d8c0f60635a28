package ingest

import (
	"sync"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/store"
)

// callScratch is the arrays one Ingest call stages its documents in: the
// parsed documents, their traces (byTrace), the staged traces and what is
// put. None of it outlives the call on the embedded store, so the next
// call reuses it: made afresh, they were ~14 allocations and ~16 kB per
// call of 50 documents.
//
// An Ingester keeps a few in a free list, not a sync.Pool, for the reason
// the Pebble store's writeScratch gives: a pool is emptied every other
// collection, more often than at ingest's rate a writer comes round.
type callScratch struct {
	segs   []*segment.Segment
	origin []int

	number map[string]int // byTrace
	of     []int
	counts []int
	flat   []int
	order  []string
	groups [][]int

	slab    []staged
	stages  []*staged
	slots   []*traceSlot // the pending set's, of order
	docSlab []*segment.Segment
	puts    []store.DocPut
	putSlab []store.Doc
}

// maxCallScratch is the most documents a kept scratch is sized for: a call
// larger than this (a big OTLP export) makes its own, let go after it.
const maxCallScratch = 1024

// scratchList is free callScratches.
type scratchList struct {
	mu   sync.Mutex
	free []*callScratch
}

// maxFreeScratch is how many a list keeps: one per concurrent writer
// worth keeping warm (the daemon and SDKs send from a few).
const maxFreeScratch = 8

func (l *scratchList) get() *callScratch {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.free); n > 0 {
		sc := l.free[n-1]
		l.free[n-1] = nil
		l.free = l.free[:n-1]
		return sc
	}
	return new(callScratch)
}

// put returns sc once its call is done with it, holding no pointer to the
// call's documents or traces (a kept scratch must not keep them alive).
func (l *scratchList) put(sc *callScratch) {
	if cap(sc.segs) > maxCallScratch || cap(sc.slab) > maxCallScratch || len(sc.number) > maxCallScratch {
		return
	}
	clear(sc.segs[:cap(sc.segs)])
	clear(sc.order[:cap(sc.order)])
	clear(sc.groups[:cap(sc.groups)])
	clear(sc.slab[:cap(sc.slab)])
	clear(sc.stages[:cap(sc.stages)])
	clear(sc.docSlab[:cap(sc.docSlab)])
	clear(sc.puts[:cap(sc.puts)])
	clear(sc.putSlab[:cap(sc.putSlab)])
	clear(sc.number)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.free) < maxFreeScratch {
		l.free = append(l.free, sc)
	}
}

// callScratch is a scratch for one call: a kept one unless the store
// prepares documents (ClickHouse), where staged traces are shared with
// concurrent writes (storing.go) that may still read them after the call.
func (in *Ingester) callScratch() *callScratch {
	if in.preparer() != nil {
		return new(callScratch)
	}
	return in.scratch.get()
}

// doneWith ends a call's use of sc.
func (in *Ingester) doneWith(sc *callScratch) {
	if in.preparer() == nil {
		in.scratch.put(sc)
	}
}

// grown returns s with length n, reusing its array when it has room; the
// elements are not cleared (callers set every one they read).
func grown[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
