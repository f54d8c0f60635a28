package graph

import "math/bits"

// A batch's sums count most of their requests into histograms of a
// hundred or more bins, where Histogram.Add's binary search and its
// insertions of new bins were ~1.1k instructions per single-segment trace.
// A sum past denseFrom bins counts its bins below a second (whole
// milliseconds, most of them) in arrays instead, turned back into bins once
// per batch, before its records are encoded: the same bins, in the same
// order, without those that summed to zero, as Add leaves them.

// denseFrom is the number of response bins past which a sum counts its
// bins densely (a variable: tests set it to compare both ways).
var denseFrom = 24

// maxDense bounds the dense sums a builder keeps (16 KiB each).
const maxDense = 128

const denseMs = 1000 // BinOf's bins are exact milliseconds below a second

// denseBins counts one sum's response and duration bins below a second.
type denseBins struct {
	response, duration denseHist
}

type denseHist struct {
	counts [denseMs]int64
	set    [(denseMs + 63) / 64]uint64 // bins counted since the last flush
}

func (d *denseHist) add(h *Histogram, ms, n int64) {
	if uint64(ms) >= denseMs {
		h.Add(ms, n)
		return
	}
	d.counts[ms] += n
	d.set[ms>>6] |= 1 << (ms & 63)
}

// take moves h's bins below a second into d (d empty).
func (d *denseHist) take(h *Histogram) {
	s := *h
	keep := s[:0]
	for _, bin := range s {
		if uint64(bin.Ms) < denseMs {
			d.counts[bin.Ms] = bin.Count
			d.set[bin.Ms>>6] |= 1 << (bin.Ms & 63)
		} else {
			keep = append(keep, bin)
		}
	}
	*h = keep
}

// flush puts d's nonzero bins into h (which holds none below a second
// but negative ones) in order, and empties d.
func (d *denseHist) flush(h *Histogram) {
	n := 0
	for _, w := range d.set {
		n += bits.OnesCount64(w)
	}
	if n == 0 {
		return
	}
	s := *h
	at := 0 // dense bins go after negative ones
	for at < len(s) && s[at].Ms < 0 {
		at++
	}
	tail := len(s) - at
	s = append(s, make([]Bin, n)...)
	copy(s[at+n:], s[at:at+tail])
	j := at
	for wi, w := range d.set {
		for w != 0 {
			ms := wi<<6 | bits.TrailingZeros64(w)
			w &= w - 1
			if c := d.counts[ms]; c != 0 {
				s[j] = Bin{int64(ms), c}
				j++
			}
			d.counts[ms] = 0
		}
		d.set[wi] = 0
	}
	if j < at+n { // bins that summed to zero
		copy(s[j:], s[at+n:])
		s = s[:j+tail]
	}
	*h = s
}

// clear empties d.
func (d *denseHist) clear() {
	for wi, w := range d.set {
		for w != 0 {
			d.counts[wi<<6|bits.TrailingZeros64(w)] = 0
			w &= w - 1
		}
		d.set[wi] = 0
	}
}

// sum is one record's sum in a batch: its Stats, and its dense bins once
// it has many.
type sum struct {
	Stats
	dense *denseBins
}

// addTo adds r to s, densely once s has more than denseFrom response bins
// and a dense array is left.
func (b *deltaBuilder) addTo(s *sum, r *request) {
	if s.dense == nil {
		s.addRequest(r)
		if len(s.Response) > denseFrom && b.usedDense < maxDense {
			s.dense = b.newDense()
			s.dense.response.take(&s.Response)
			s.dense.duration.take(&s.Duration)
		}
		return
	}
	s.addCounts(r)
	s.dense.response.add(&s.Response, r.response, r.sign)
	if r.hasDuration {
		s.dense.duration.add(&s.Duration, r.duration, r.sign)
	}
}

func (b *deltaBuilder) newDense() *denseBins {
	if b.usedDense == len(b.dense) {
		b.dense = append(b.dense, new(denseBins))
	}
	b.usedDense++
	return b.dense[b.usedDense-1]
}

// flushDense puts s's dense bins back into its histograms (and empties
// them for the next batch).
func (s *sum) flushDense() {
	if s.dense != nil {
		s.dense.response.flush(&s.Response)
		s.dense.duration.flush(&s.Duration)
		s.dense = nil
	}
}
