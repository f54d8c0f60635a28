package pebble

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/cockroachdb/pebble/v2"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// A store.TermRange (a range of numeric buckets, or of an annotation's
// numbers) stands for every term of its field with a value in the range;
// values sort as their numbers do, so in each minute's part of
// the index their lists lie next to each other and one iterator reads
// them all, instead of one per value.

// termsOf is store.TermsOf; a benchmark swaps it to weigh the numeric terms.
var termsOf = store.TermsOf

// termsInto is store.TermsScratch, for Apply; swapped with termsOf.
var termsInto = store.TermsScratch

// positions is a newest-first stream of trace positions in one minute.
type positions interface {
	valid() bool
	position() store.Cursor
	next()
	error() error
	close()
}

// termPlan is how a query's terms are read: exact terms one iterator each
// per minute, ranges one iterator each for the whole search.
type termPlan struct {
	exact  []store.Term
	ranges []store.TermRange
	set    map[store.Term]struct{}
	// iters are the ranges' iterators, moved from minute to minute: a
	// search that finds nothing costs a seek per minute, not an iterator.
	iters []*pebble.Iterator
	// legacy: the plan reads partitions written before layout 6 (legacy.go).
	legacy bool
	// also are the query's further sets (AllOf), checked per candidate
	// (conjunct.go).
	also []*conjunct
}

func planTerms(terms []store.Term, ranges []store.TermRange, allOf ...store.TermSet) *termPlan {
	p := &termPlan{set: make(map[store.Term]struct{}, len(terms))}
	for _, t := range terms {
		if _, dup := p.set[t]; !dup {
			p.set[t] = struct{}{}
			p.exact = append(p.exact, t)
		}
	}
	for _, r := range ranges {
		if !slices.Contains(p.ranges, r) {
			p.ranges = append(p.ranges, r)
		}
	}
	p.iters = make([]*pebble.Iterator, len(p.ranges))
	for _, set := range allOf {
		p.also = append(p.also, newConjunct(set))
	}
	return p
}

func (p *termPlan) close() {
	for _, it := range p.iters {
		if it != nil {
			it.Close()
		}
	}
	for _, c := range p.also {
		c.close()
	}
}

// carriesAny reports whether the summary is indexed under a planned term
// (and under one of each further set's).
func (p *termPlan) carriesAny(sum *trace.Summary) bool {
	terms := termsOf(sum)
	if !p.carries(terms) && !(p.legacy && p.carries(legacyTermsOf(sum))) {
		return false
	}
	for _, c := range p.also {
		if !c.carries(terms) {
			return false
		}
	}
	return true
}

// carriesChecked reports whether the summary is indexed under a planned
// term and under one of each further set's that is still checked (a
// search leaves the others unchecked: conjunct.go).
func (p *termPlan) carriesChecked(sum *trace.Summary) bool {
	terms := termsOf(sum)
	if !p.carries(terms) && !(p.legacy && p.carries(legacyTermsOf(sum))) {
		return false
	}
	for _, c := range p.also {
		if !c.off && !c.carries(terms) {
			return false
		}
	}
	return true
}

func (p *termPlan) carries(terms []store.Term) bool {
	for _, t := range terms {
		if _, ok := p.set[t]; ok {
			return true
		}
		for _, r := range p.ranges {
			if r.Has(t) {
				return true
			}
		}
	}
	return false
}

// runIter holds a range's positions in one minute, read at once: its lists
// are sorted by bucket first, not by time.
type runIter struct {
	pos []store.Cursor // descending
	i   int
}

func (r *runIter) valid() bool            { return r.i < len(r.pos) }
func (r *runIter) position() store.Cursor { return r.pos[r.i] }
func (r *runIter) next()                  { r.i++ }
func (r *runIter) error() error           { return nil }
func (r *runIter) close()                 {}

// readRun reads the positions of a range's lists filed under epochs in
// [lo, hi) of one minute, strictly before after if set, with *itp (opened
// on first use, then moved).
func (s *Store) readRun(ctx context.Context, r store.TermRange, itp **pebble.Iterator, bucket int64, lo, hi int64, after store.Cursor) (*runIter, error) {
	start := termPrefix(bucket, store.Term{Field: r.Field, Value: r.From})
	end := termPrefix(bucket, store.Term{Field: r.Field, Value: r.To})
	end[len(end)-1]++ // past the value's terminator: every list of the last value
	it := *itp
	if it == nil {
		var err error
		if it, err = s.index.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: start, UpperBound: end}); err != nil {
			return nil, err
		}
		*itp = it
	} else {
		it.SetBounds(start, end)
	}
	out := &runIter{}
	var ids []string
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) < len(start)+8 {
			continue
		}
		ep := int64(binary.BigEndian.Uint64(k[len(k)-8:]))
		if ep < lo || ep >= hi {
			continue
		}
		v, err := it.ValueAndErr()
		if err == nil {
			ids, err = decodePostings(ids[:0], ep, v)
		}
		if err != nil {
			return nil, fmt.Errorf("index term list at epoch %d: %w", ep, err)
		}
		for _, id := range ids {
			c := store.Cursor{Epoch: ep, TraceID: id}
			if after.IsZero() || c.Before(after) {
				out.pos = append(out.pos, c)
			}
		}
	}
	if err := it.Error(); err != nil {
		return nil, err
	}
	slices.SortFunc(out.pos, func(a, b store.Cursor) int {
		return cmp.Or(cmp.Compare(b.Epoch, a.Epoch), strings.Compare(b.TraceID, a.TraceID))
	})
	out.pos = slices.Compact(out.pos)
	return out, nil
}
