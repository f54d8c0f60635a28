package pebble

import (
	"sync"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// addedTerms walks two sorted term lists (as store.TermsOf returns them)
// and calls fn for each term only in cur.
func addedTerms(old, cur []store.Term, fn func(t store.Term)) {
	i := 0
	for _, t := range cur {
		for i < len(old) && less(old[i], t) {
			i++
		}
		if i < len(old) && old[i] == t {
			continue
		}
		fn(t)
	}
}

func less(a, b store.Term) bool {
	if a.Field != b.Field {
		return a.Field < b.Field
	}
	return a.Value < b.Value
}

// termBuffer holds the term lists Apply compares, and the values built
// for them (store.TermsScratch), reused from summary to summary and from
// Apply to Apply.
type termBuffer struct {
	old, cur         []store.Term
	oldVals, curVals []byte
}

var termBuffers = sync.Pool{New: func() any { return new(termBuffer) }}

// put returns b to the pool holding no string of the summaries it listed
// (they point into documents), unless it grew huge.
func (b *termBuffer) put() {
	if cap(b.old)+cap(b.cur) > 4096 || cap(b.oldVals)+cap(b.curVals) > 64<<10 {
		return
	}
	clear(b.old[:cap(b.old)])
	clear(b.cur[:cap(b.cur)])
	b.old, b.cur = b.old[:0], b.cur[:0]
	b.oldVals, b.curVals = b.oldVals[:0], b.curVals[:0]
	termBuffers.Put(b)
}
