package pebble

import (
	"context"
	"slices"
	"strings"

	"github.com/cockroachdb/pebble/v2"
	"github.com/roentgen-tracing/roentgen/internal/store"
)

// An AND's other operands (store.SummaryQuery.AllOf) are checked against
// their posting lists before a candidate's summary is read. A summary sits
// in a block of its own more often than not, which a cache miss reads and
// decompresses (tens of µs); a posting is 17 bytes. `duration > 3 AND
// service("x")` so reads the slow traces of x, not every slow trace.
//
// The candidates come from the cheapest set, and each further set is
// looked up at the candidates only: an exact term's list at a candidate's
// second, a range's lists in the candidate's minute (they lie side by
// side, one read). A set whose lists prove far longer than the candidates
// it checks (`service("x") AND responsetime > 0.1`, x rare) stops being
// checked, so an AND never costs much more than its cheapest side alone.

// Variables for the tests, which spend them at once.
var (
	// conjunctBudget is how many postings a set may read before its
	// cost is weighed against the candidates it checked,
	conjunctBudget = 1 << 14
	// and conjunctPerCandidate how many more each candidate allows:
	// reading them costs a few µs, less than one summary read.
	conjunctPerCandidate = 64
)

// conjunct is one further set of a search: a candidate must carry one of
// its terms.
type conjunct struct {
	exact  []store.Term
	ranges []store.TermRange
	// One iterator per exact term and per range for the whole search,
	// moved from minute to minute.
	termIts  []*pebble.Iterator
	rangeIts []*pebble.Iterator
	budget   int
	off      bool // too costly: no longer checked

	// The current minute, read on first use.
	terms []*termIter // per exact term: the lists of the last second sought
	run   map[store.Cursor]struct{}
	read  bool // run holds the ranges' positions
}

func newConjunct(set store.TermSet) *conjunct {
	c := &conjunct{budget: conjunctBudget}
	for _, t := range set.Terms {
		if !slices.Contains(c.exact, t) {
			c.exact = append(c.exact, t)
		}
	}
	for _, r := range set.Ranges {
		if !slices.Contains(c.ranges, r) {
			c.ranges = append(c.ranges, r)
		}
	}
	c.termIts = make([]*pebble.Iterator, len(c.exact))
	c.rangeIts = make([]*pebble.Iterator, len(c.ranges))
	c.terms = make([]*termIter, len(c.exact))
	return c
}

func (c *conjunct) close() {
	for _, it := range append(c.termIts, c.rangeIts...) {
		if it != nil {
			it.Close()
		}
	}
}

// carries reports whether terms (a summary's) hold one of the set's.
func (c *conjunct) carries(terms []store.Term) bool {
	for _, t := range terms {
		if slices.Contains(c.exact, t) {
			return true
		}
		for _, r := range c.ranges {
			if r.Has(t) {
				return true
			}
		}
	}
	return false
}

// startMinute forgets what was read of the previous minute.
func (c *conjunct) startMinute() {
	clear(c.terms)
	c.run, c.read = nil, false
}

// has reports whether the trace at pos is filed under one of the set's
// terms in the minute bucket, whose lists are read in [lo, hi); true as
// well once the set is no longer checked.
func (c *conjunct) has(ctx context.Context, s *Store, bucket, lo, hi int64, pos store.Cursor) (bool, error) {
	if c.off {
		return true, nil
	}
	c.budget += conjunctPerCandidate
	defer func() { c.off = c.budget < 0 }()
	for i, term := range c.exact {
		t := c.terms[i]
		if t == nil {
			prefix := termPrefix(bucket, term)
			lower := append(append([]byte(nil), prefix...), epochBytes(lo)...)
			upper := append(append([]byte(nil), prefix...), epochBytes(hi)...)
			it := c.termIts[i]
			if it == nil {
				var err error
				if it, err = s.index.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lower, UpperBound: upper}); err != nil {
					return false, err
				}
				c.termIts[i] = it
			} else {
				it.SetBounds(lower, upper)
			}
			t = &termIter{it: it, prefix: prefix, ep: -1}
			c.terms[i] = t
		}
		if t.ep != pos.Epoch {
			c.budget -= t.seek(pos.Epoch)
			if err := t.error(); err != nil {
				return false, err
			}
		}
		if _, found := slices.BinarySearchFunc(t.buf, pos.TraceID, func(a, b string) int { return strings.Compare(b, a) }); found {
			return true, nil
		}
	}
	if len(c.ranges) == 0 {
		return false, nil
	}
	if !c.read {
		c.run, c.read = map[store.Cursor]struct{}{}, true
		for i, r := range c.ranges {
			run, err := s.readRun(ctx, r, &c.rangeIts[i], bucket, lo, hi, store.Cursor{})
			if err != nil {
				return false, err
			}
			c.budget -= len(run.pos)
			for _, p := range run.pos {
				c.run[p] = struct{}{}
			}
		}
	}
	_, found := c.run[pos]
	return found, nil
}

// seek reads the term's lists of second ep, sorted and deduplicated, into
// buf (empty when there are none), and returns how many postings it read.
func (t *termIter) seek(ep int64) int {
	t.it.SeekLT(append(append([]byte(nil), t.prefix...), epochBytes(ep+1)...))
	t.fill()
	n := len(t.buf)
	if t.ep != ep {
		t.buf = t.buf[:0]
	}
	t.ep = ep
	return n
}

// carriesAlso reports whether the trace at pos carries a term of each of
// the plan's further sets.
func (p *termPlan) carriesAlso(ctx context.Context, s *Store, bucket, lo, hi int64, pos store.Cursor) (bool, error) {
	for _, c := range p.also {
		if ok, err := c.has(ctx, s, bucket, lo, hi, pos); err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}
