package graph

import (
	"encoding/binary"
	"sync"
)

// CombineStats sums the deltas of one record into one: Pebble's merge
// operator calls it as it reads and compacts (pebble.Options.CombineStats),
// so a record stays one delta long however many traces added to it. It
// returns nil when a delta does not decode, and the store keeps them as
// they are.
//
// Its result is that of decoding each delta and adding it (Stats.Add), but
// it adds the counts as it reads them and merges each histogram's bins from
// the bytes into one of two buffers it reuses: merged pairwise into fresh
// slices, the flushes and compactions of a busy store spent 2% of the
// server's CPU here.
func CombineStats(deltas [][]byte) []byte {
	c := combiners.Get().(*combiner)
	defer combiners.Put(c)
	if out, ok := c.combine(deltas); ok {
		return out
	}
	// Corrupt, or bins out of order or counting zero (never written by
	// Encode): refused, or summed, as Stats.Add sums them.
	return combineStatsByAdd(deltas)
}

// combineStatsByAdd is CombineStats by decoding and adding each delta.
func combineStatsByAdd(deltas [][]byte) []byte {
	var sum, d Stats
	for _, v := range deltas {
		if d.decodeSum(v, true) != nil {
			return nil
		}
		sum.Add(&d, 1)
	}
	return sum.Encode()
}

var combiners = sync.Pool{New: func() any { return new(combiner) }}

// combiner sums deltas. Bins below a second are counted in dense (a
// record's operands, merged one by one into a sum of hundreds of bins,
// cost O(operands × bins)); the others are merged from the current buffer
// into the spare one, then the two swap.
type combiner struct {
	sum   Stats
	spare [2]Histogram
	dense denseBins
}

// combine is CombineStats for deltas in Encode's form; ok is false for any
// other (a corrupt delta, bins not strictly ascending or counting zero),
// which combineStatsByAdd sums, or refuses, as before.
func (c *combiner) combine(deltas [][]byte) (out []byte, ok bool) {
	c.sum.reset()
	for _, v := range deltas {
		ok = len(v) > 0
		for ok && len(v) > 0 {
			v, ok = c.add(v)
		}
		if !ok { // the next combine starts from empty dense bins
			c.dense.response.clear()
			c.dense.duration.clear()
			return nil, false
		}
	}
	c.dense.response.flush(&c.sum.Response)
	c.dense.duration.flush(&c.sum.Duration)
	return c.sum.Encode(), true
}

// add adds the first delta of b and returns the bytes after it.
func (c *combiner) add(b []byte) (rest []byte, ok bool) {
	if len(b) == 0 || b[0] != statsVersion {
		return nil, false
	}
	b = b[1:]
	var f [9]int64
	for i := range f {
		v, n := binary.Varint(b)
		if n <= 0 {
			return nil, false
		}
		f[i], b = v, b[n:]
	}
	s := &c.sum
	s.OK += f[0]
	s.ErrorOther += f[1]
	s.Throttle += f[2]
	s.Fault += f[3]
	s.ResponseMicros += f[4]
	s.Root += f[5]
	s.Real += f[6]
	s.widen(f[7], f[8])
	for i, h := range []*Histogram{&s.Response, &s.Duration} {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)) {
			return nil, false
		}
		d := &c.dense.response
		if i == 1 {
			d = &c.dense.duration
		}
		merged, rest, ok := mergeEncoded(c.spare[i][:0], *h, b[k:], n, d)
		if !ok {
			return nil, false
		}
		c.spare[i], *h = *h, merged
		b = rest
	}
	return b, true
}

// mergeEncoded appends to out the sum of h and the n encoded bins at the
// start of b (those below a second counted in dense instead), leaving out
// bins that sum to zero, and returns the bytes after those bins; ok is
// false when they do not decode or are not in Encode's form.
func mergeEncoded(out, h Histogram, b []byte, n uint64, dense *denseHist) (merged Histogram, rest []byte, ok bool) {
	i, ms := 0, int64(0)
	for j := uint64(0); j < n; j++ {
		d, k := binary.Varint(b)
		if k <= 0 {
			return nil, nil, false
		}
		b = b[k:]
		c, k := binary.Varint(b)
		next := ms + d
		if k <= 0 || c == 0 || j > 0 && next <= ms {
			return nil, nil, false
		}
		b = b[k:]
		ms = next
		if uint64(ms) < denseMs {
			dense.counts[ms] += c
			dense.set[ms>>6] |= 1 << (ms & 63)
			continue
		}
		for i < len(h) && h[i].Ms < ms {
			out = append(out, h[i])
			i++
		}
		if i < len(h) && h[i].Ms == ms {
			c += h[i].Count
			i++
		}
		if c != 0 {
			out = append(out, Bin{ms, c})
		}
	}
	return append(out, h[i:]...), b, true
}
