package pebble

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cockroachdb/pebble/v2"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// termScan visits the summaries of traces carrying a term of q.AnyOf or
// q.AnyIn, newest first; with numeric terms, partitions written before
// layout 6 are read as that layout indexed them (legacy.go).
func (s *Store) termScan(ctx context.Context, q store.SummaryQuery, fn func(*trace.Summary) bool) error {
	plan := planTerms(q.AnyOf, q.AnyIn, q.AllOf...)
	defer plan.close()
	old := s.numericFrom
	if old <= q.From || !plan.hasNumeric() {
		return s.indexScan(ctx, q, plan, fn)
	}
	if q.To > old && (q.After.IsZero() || q.After.Epoch >= old) {
		recent := q
		recent.From = old
		stopped := false
		err := s.indexScan(ctx, recent, plan, func(sum *trace.Summary) bool {
			stopped = !fn(sum)
			return !stopped
		})
		if err != nil || stopped {
			return err
		}
		q.After = store.Cursor{}
	}
	q.To = min(q.To, old)
	lp, ok := plan.legacyPlan()
	if !ok {
		q.AnyOf, q.AnyIn, q.AllOf = nil, nil, nil
		return s.Summaries(ctx, q, fn)
	}
	defer lp.close()
	return s.indexScan(ctx, q, lp, fn)
}

// indexScan visits the summaries of traces carrying any of plan's terms,
// newest first: per index bucket, newest first, it merges one reverse
// iterator per term and reads each distinct trace's summary once.
func (s *Store) indexScan(ctx context.Context, q store.SummaryQuery, plan *termPlan, fn func(*trace.Summary) bool) error {
	top := q.To - 1
	after := q.After
	if !after.IsZero() && after.Epoch < q.To {
		top = after.Epoch
	} else {
		after = store.Cursor{}
	}
	low := indexBucketOf(max(q.From, 0))
	// parts finds the buckets that hold any index term, so that a wide
	// window skips empty minutes with one seek instead of visiting each.
	parts, err := s.index.NewIterWithContext(ctx, &pebble.IterOptions{
		LowerBound: append([]byte{'i'}, epochBytes(low)...),
		UpperBound: append([]byte{'i'}, epochBytes(indexBucketOf(top)+indexBucketSeconds)...),
	})
	if err != nil {
		return err
	}
	defer parts.Close()
	sums, err := s.main.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: s.summaryKey(max(q.From, 0), ""), UpperBound: s.summaryKey(q.To, "")})
	if err != nil {
		return err
	}
	defer sums.Close()
	f := &fetcher{s: s, it: sums, after: after, limit: firstRun}
	if !after.IsZero() {
		f.afterKey = s.summaryKey(after.Epoch, after.TraceID)
	}
	// Candidates are decoded on every core, as a scan's summaries are: a
	// range of numbers can name many.
	f.dec = newDecodeAhead(func(sum *trace.Summary) bool {
		// A trace summarised more than once may have lost the term its
		// list still names it under (postings.go).
		if !f.carries(plan, sum) || sum.Revision > 0 && !plan.carriesAny(sum) {
			return true
		}
		return fn(sum)
	}, s.skipCorrupt, s.summaryKeyTraceID)
	dec := f.dec
	for ok := parts.Last(); ok; ok = parts.SeekLT(append([]byte{'i'}, epochBytes(bucketAt(parts))...)) {
		if err := ctx.Err(); err != nil {
			return err
		}
		more, err := s.termScanBucket(ctx, bucketAt(parts), q, plan, after, f)
		if err != nil || !more {
			return errors.Join(err, sums.Error())
		}
	}
	if err := parts.Error(); err != nil {
		return err
	}
	if f.flush() {
		dec.flush()
	}
	return sums.Error()
}

// fetcher reads the summaries of candidates in runs: sorted ascending, one
// iterator's seeks walk them nearly as a scan does (Pebble seeks onward
// from where the last seek ended), where a point read per candidate cost
// more than a scan of every summary once candidates were many. A partial
// position (postings.go) reads every summary its prefix names.
type fetcher struct {
	s        *Store
	it       *pebble.Iterator
	dec      *decodeAhead
	after    store.Cursor // exclusive: only summaries before it
	afterKey []byte       // its summary key
	keys     [][]byte     // newest first, as found
	found    []keyValue   // the keys' summaries, ascending
	// named are the traces found by a partial position that names more
	// than one, whose summaries must show the terms: the prefix may be
	// another trace's. One found alone is taken as the one named: checking
	// every summary's terms cost a tenth of a search's CPU, and the one
	// case it would catch is a trace whose summary is gone (dropped by keep
	// policies, moved to another second, or never written for a crash)
	// whose 3 bytes another trace of its second holds (~7 in 10^4 at 12k
	// traces a second); searches test each summary against the filter.
	named map[string]struct{}
	limit int
}

type keyValue struct{ key, value []byte }

// add queues a candidate's summary key; false stops the search.
func (f *fetcher) add(key []byte) bool {
	f.keys = append(f.keys, key)
	if len(f.keys) < f.limit {
		return true
	}
	f.limit = min(2*f.limit, maxRun)
	return f.flush()
}

// flush reads and hands on what is queued; false stops the search.
func (f *fetcher) flush() bool {
	// Read in ascending key order, so handed on from the end: newest first.
	f.found = f.found[:0]
	for i := len(f.keys) - 1; i >= 0; i-- {
		k := f.keys[i]
		prefix, partial := f.s.partialPrefix(k)
		if !partial {
			if f.it.SeekGE(k) && bytes.Equal(f.it.Key(), k) {
				f.found = append(f.found, keyValue{k, bytes.Clone(f.it.Value())}) // valid until the iterator moves
			}
			continue
		}
		// Next past the match, to see whether another trace of the second
		// shares the prefix; a seek just past the match instead (keeping
		// Pebble's onward positioning for the next seek) measured no
		// faster, nor did leaving the step out (docs/performance.md).
		first, named := len(f.found), 0
		for ok := f.it.SeekGE(prefix); ok && bytes.HasPrefix(f.it.Key(), prefix); ok = f.it.Next() {
			key, v := f.it.Key(), f.it.Value()
			if !f.s.commonKey(key) {
				// An id of another form (upper-case hex) that begins
				// alike is listed whole, and found by its own entry.
				continue
			}
			// Counted before the cursor's test: a trace the cursor
			// passes may still be the one the position named.
			named++
			if !f.after.IsZero() && !f.before(key) {
				continue // handed on before the cursor
			}
			kv := append(append(make([]byte, 0, len(key)+len(v)), key...), v...) // one allocation
			f.found = append(f.found, keyValue{kv[:len(key):len(key)], kv[len(key):]})
		}
		if named > 1 {
			if f.named == nil {
				f.named = map[string]struct{}{}
			}
			for _, kv := range f.found[first:] {
				f.named[f.s.summaryKeyTraceID(kv.key)] = struct{}{}
			}
		}
	}
	more := true
	for j := len(f.found) - 1; j >= 0 && more; j-- {
		more = f.dec.addOwned(f.found[j].key, f.found[j].value)
	}
	clear(f.found) // the pool of keys and values is the decoder's now
	f.keys = f.keys[:0]
	return more
}

// before reports whether the summary key k lies before f.after: keys sort
// as their epochs and trace ids' text do (sumkeys.go).
func (f *fetcher) before(k []byte) bool { return bytes.Compare(k, f.afterKey) < 0 }

// carries reports whether a summary found by a partial position that
// names more than one carries the plan's terms (true for the others): its
// position, in the plan's lists and in the further sets' (conjunct.go),
// may have been another trace's.
func (f *fetcher) carries(plan *termPlan, sum *trace.Summary) bool {
	if _, ok := f.named[sum.TraceID]; !ok {
		return true
	}
	delete(f.named, sum.TraceID)
	return plan.carriesChecked(sum)
}

// bucketAt is the bucket of the index key under the iterator.
func bucketAt(it *pebble.Iterator) int64 { return int64(binary.BigEndian.Uint64(it.Key()[1:9])) }

// termIter walks one term's posting lists in one bucket newest first,
// one epoch second at a time: the lists of that second, sorted and
// deduplicated, in buf.
type termIter struct {
	it     *pebble.Iterator
	prefix []byte
	after  store.Cursor // exclusive: only positions before it
	ep     int64
	buf    []string // trace ids filed under ep, descending
	i      int
	err    error
}

func (t *termIter) valid() bool { return t.i < len(t.buf) }

func (t *termIter) close() { t.it.Close() }

func (t *termIter) error() error {
	if t.err != nil {
		return t.err
	}
	return t.it.Error()
}

func (t *termIter) position() store.Cursor { return store.Cursor{Epoch: t.ep, TraceID: t.buf[t.i]} }

func (t *termIter) next() {
	if t.i++; t.i >= len(t.buf) {
		t.fill()
	}
}

// fill reads the next (older) epoch second that has positions left.
func (t *termIter) fill() {
	t.buf, t.i = t.buf[:0], 0
	for len(t.buf) == 0 && t.err == nil && t.it.Valid() {
		t.ep = int64(binary.BigEndian.Uint64(t.it.Key()[len(t.prefix):]))
		for ; t.it.Valid(); t.it.Prev() {
			rest := t.it.Key()[len(t.prefix):]
			if int64(binary.BigEndian.Uint64(rest)) != t.ep {
				break
			}
			if len(rest) > 8 { // layout 1: a key per trace
				t.buf = append(t.buf, positionOf(t.ep, string(rest[8:])))
				continue
			}
			v, err := t.it.ValueAndErr()
			if err == nil {
				t.buf, err = decodePostings(t.buf, t.ep, v)
			}
			if err != nil {
				t.err = fmt.Errorf("index term list at epoch %d: %w", t.ep, err)
				return
			}
		}
		slices.SortFunc(t.buf, func(a, b string) int { return strings.Compare(b, a) })
		t.buf = slices.Compact(t.buf)
		if !t.after.IsZero() && t.ep == t.after.Epoch {
			n := 0
			for n < len(t.buf) && t.buf[n] >= t.after.TraceID {
				n++
			}
			t.buf = t.buf[n:]
		}
	}
}

func (s *Store) termScanBucket(ctx context.Context, bucket int64, q store.SummaryQuery, plan *termPlan, after store.Cursor, f *fetcher) (bool, error) {
	lo := max(q.From, bucket)
	hi := min(q.To, bucket+indexBucketSeconds)
	if !after.IsZero() && after.Epoch < hi {
		hi = after.Epoch + 1 // that second's lists hold positions before after too
	} else {
		after = store.Cursor{}
	}
	for _, c := range plan.also {
		c.startMinute()
	}
	var iters []positions
	defer func() {
		for _, t := range iters {
			t.close()
		}
	}()
	for _, term := range plan.exact {
		prefix := termPrefix(bucket, term)
		it, err := s.index.NewIterWithContext(ctx, &pebble.IterOptions{
			LowerBound: append(append([]byte(nil), prefix...), epochBytes(lo)...),
			UpperBound: append(append([]byte(nil), prefix...), epochBytes(hi)...),
		})
		if err != nil {
			return false, err
		}
		t := &termIter{it: it, prefix: prefix, after: after}
		iters = append(iters, t)
		it.Last()
		t.fill()
	}
	for i := range plan.ranges {
		t, err := s.readRun(ctx, plan.ranges[i], &plan.iters[i], bucket, lo, hi, after)
		if err != nil {
			return false, err
		}
		iters = append(iters, t)
	}
	var last store.Cursor
	for {
		var best positions
		var bestPos store.Cursor
		for _, t := range iters {
			if !t.valid() {
				continue
			}
			p := t.position()
			if best == nil || bestPos.Before(p) {
				best, bestPos = t, p
			}
		}
		if best == nil {
			break
		}
		best.next()
		if bestPos == last {
			continue // the same trace under another term
		}
		last = bestPos
		if ok, err := plan.carriesAlso(ctx, s, bucket, lo, hi, bestPos); err != nil || !ok {
			if err != nil {
				return false, err
			}
			continue
		}
		if !f.add(s.positionKey(bestPos)) {
			return false, nil
		}
	}
	for _, t := range iters {
		if err := t.error(); err != nil {
			return false, err
		}
	}
	return true, nil
}
