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

// Numeric terms (store/numeric.go) are bucket codes that sort as their
// buckets do, so a range predicate's terms are consecutive codes of one
// field, and their lists lie next to each other in each minute's part of
// the index: one iterator reads them all, instead of one per bucket.

// termsOf is store.TermsOf; a benchmark swaps it to weigh the numeric terms.
var termsOf = store.TermsOf

// positions is a newest-first stream of trace positions in one minute.
type positions interface {
	valid() bool
	position() store.Cursor
	next()
	error() error
	close()
}

// termRun is a run of consecutive bucket codes of one field (and, for
// annotation numbers, one key): prefix is the value before the code.
type termRun struct {
	field, prefix string
	lo, hi        int
}

// termPlan is how a query's terms are read: exact terms one iterator each,
// runs of codes one iterator each; set answers which terms were asked for.
type termPlan struct {
	exact []store.Term
	runs  []termRun
	set   map[store.Term]struct{}
	// iters are the runs' iterators, reused minute after minute: a search
	// that finds nothing costs a seek per minute, not an iterator.
	iters []*pebble.Iterator
}

func (p *termPlan) close() {
	for _, it := range p.iters {
		if it != nil {
			it.Close()
		}
	}
}

func planTerms(terms []store.Term) *termPlan {
	p := &termPlan{set: make(map[store.Term]struct{}, len(terms))}
	type coded struct {
		field, prefix string
		code          int
	}
	var codes []coded
	for _, t := range terms {
		if _, dup := p.set[t]; dup {
			continue
		}
		p.set[t] = struct{}{}
		if c := store.Code(t.Value); c >= 0 && store.IsRangeField(t.Field) {
			codes = append(codes, coded{t.Field, t.Value[:len(t.Value)-3], c})
			continue
		}
		p.exact = append(p.exact, t)
	}
	slices.SortFunc(codes, func(a, b coded) int {
		return cmp.Or(strings.Compare(a.field, b.field), strings.Compare(a.prefix, b.prefix), cmp.Compare(a.code, b.code))
	})
	for _, c := range codes {
		if n := len(p.runs); n > 0 {
			r := &p.runs[n-1]
			if r.field == c.field && r.prefix == c.prefix && r.hi+1 == c.code {
				r.hi = c.code
				continue
			}
		}
		p.runs = append(p.runs, termRun{field: c.field, prefix: c.prefix, lo: c.code, hi: c.code})
	}
	p.iters = make([]*pebble.Iterator, len(p.runs))
	return p
}

// carriesAny reports whether the summary is indexed under a planned term.
func (p *termPlan) carriesAny(sum *trace.Summary) bool {
	for _, t := range termsOf(sum) {
		if _, ok := p.set[t]; ok {
			return true
		}
	}
	return false
}

// runKey is the start of the lists of a run's code c in one minute.
func runKey(bucket int64, r termRun, c int) []byte {
	return termPrefix(bucket, store.Term{Field: r.field, Value: r.prefix + store.CodeValue(c)})
}

// runIter holds a run's positions in one minute, read at once: its lists
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

// readRun reads the positions of a run's lists filed under epochs in
// [lo, hi) of one minute, strictly before after if set.
func (s *Store) readRun(ctx context.Context, plan *termPlan, i int, bucket int64, lo, hi int64, after store.Cursor) (*runIter, error) {
	r := plan.runs[i]
	start := runKey(bucket, r, r.lo)
	end := runKey(bucket, r, r.hi)
	end[len(end)-1]++ // past the code's terminator: every list of the last code
	it := plan.iters[i]
	if it == nil {
		var err error
		if it, err = s.index.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: start, UpperBound: end}); err != nil {
			return nil, err
		}
		plan.iters[i] = it
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
			ids, err = decodePostings(ids[:0], v)
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
