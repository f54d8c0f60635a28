package ingest

import (
	"hash/maphash"
	"math"
	"sync"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/segment"
)

// seen tells, without a store lookup, that a trace has no summary yet. Most
// traces a flush summarises are new, and proving that to the store costs a
// lookup per trace. A trace is filed under an epoch at most MaxFuture past
// the time it was first stored (epochFor clamps it), so one filed after
// since can only have been summarised by this process, which remembers the
// traces it summarised in bloom filters: filed after since and in none of
// them means new. A false positive costs the lookup, no more.
//
// The filters are sized to the traffic, not to the most it could be: the
// first holds seenMinBits, and each one that fills is followed by one
// twice its size, up to seenMaxBits (8 MiB), where a full filter starts a
// new generation and the older ones are dropped. A server that took 100k
// traces holds ~400 KiB of filters, not the 8–16 MiB sized for millions;
// an idle server forgets them all (forget).
//
// Each filter also keeps the range of the epochs in the ids (X-Ray ids
// carry one) of the traces it took, and isNew probes only the filters
// whose range holds the id's epoch: traffic's ids carry the time of their
// request, so a new trace's is past the ranges of all but the newest
// filters. Probing all of them, their false positives added up (~0.7% of
// new traces at 2M single-segment traces, nine filters), and each cost a
// Head of three Pebble reads through a deep L0 (~1.2% of the server's
// CPU), the probes themselves, cache misses in megabytes of bits, ~0.9%.
// The id alone decides which filters are probed, so a trace a filter took
// is always probed there (no false negative); an id without an epoch
// probes them all.
type seen struct {
	mu   sync.Mutex
	seed maphash.Seed
	// since: the epoch after which the filters know every summarised trace.
	since int64
	// filters, oldest first; the last takes new traces.
	filters []*bloomFilter
	// dropped: a filter has been dropped, so since no longer reflects only
	// the process's start (knowStoreUpTo may not lower it).
	dropped bool
}

const (
	seenMinBits = 1 << 16 // 8 KiB: 4k traces
	seenMaxBits = 1 << 26 // 8 MiB: 4M traces
	// seenBitsPerTrace: a filter holds bits/seenBitsPerTrace traces, with
	// seenHashes hashes ~0.09% false positives when full (they add up over
	// the few filters of a growing generation, ~1% at most, a lookup
	// each). With 4 hashes it was 0.24% per filter, and each false
	// positive a Head of three Pebble lookups: ~1.4% of single-segment
	// ingest's CPU at 400k traces, where a probe more costs little, as a
	// new trace's first probe mostly finds a clear bit.
	seenBitsPerTrace = 16
	seenHashes       = 6
)

type bloomFilter struct {
	bits  []uint64
	mask  uint64 // bits in the filter - 1 (a power of two)
	n     int
	start time.Time // when it began to take traces
	// lo and hi bound the epochs of the ids of the traces it took that
	// have one (segment.TraceEpoch); lo > hi while it took none.
	lo, hi int64
}

func newBloomFilter(bits int, start time.Time) *bloomFilter {
	return &bloomFilter{bits: make([]uint64, bits/64), mask: uint64(bits - 1), start: start, lo: math.MaxInt64, hi: math.MinInt64}
}

// mayHold reports whether the filter may have taken an id of epoch idEp
// (ok: the id has one); an id without an epoch may be in any filter.
func (b *bloomFilter) mayHold(idEp int64, ok bool) bool {
	return !ok || b.lo <= idEp && idEp <= b.hi
}

func (b *bloomFilter) size() int { return int(b.mask + 1) }

func (b *bloomFilter) full() bool { return b.n >= b.size()/seenBitsPerTrace }

func newSeen(start time.Time) *seen {
	return &seen{seed: maphash.MakeSeed(), since: start.Add(segment.DefaultMaxFuture).Unix(),
		filters: []*bloomFilter{newBloomFilter(seenMinBits, start)}}
}

// knowStoreUpTo narrows what needs a lookup to traces filed at or before
// epoch: the store held no summary filed later when it was read (traces
// summarised since are in the filters).
func (s *seen) knowStoreUpTo(epoch int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.dropped { // since still reflects the start
		s.since = min(s.since, epoch)
	}
}

// isNew reports that the trace, filed under epoch, has no stored summary.
func (s *seen) isNew(id string, epoch int64, now time.Time) bool {
	h := maphash.String(s.seed, id)
	idEp, ok := segment.TraceEpoch(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if epoch <= s.since || epoch > now.Add(segment.DefaultMaxFuture).Unix() {
		return false // unknown: filed before the filters began, or not a time
	}
	for _, f := range s.filters {
		if f.mayHold(idEp, ok) && f.has(h) {
			return false
		}
	}
	return true
}

// add records summarised traces; a full filter is followed by a bigger one,
// or at the largest size by a new generation.
func (s *seen) add(ids []string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		cur := s.filters[len(s.filters)-1]
		cur.add(maphash.String(s.seed, id))
		if ep, ok := segment.TraceEpoch(id); ok {
			cur.lo, cur.hi = min(cur.lo, ep), max(cur.hi, ep)
		}
		if !cur.full() {
			continue
		}
		if cur.size() < seenMaxBits {
			s.filters = append(s.filters, newBloomFilter(2*cur.size(), now))
			continue
		}
		// Traces only the dropped filters knew were summarised before
		// cur.start, so filed no later than cur.start + MaxFuture.
		s.forgetBefore(cur.start)
		s.filters = []*bloomFilter{cur, newBloomFilter(seenMaxBits, now)}
	}
}

// forget drops every filter, for an idle server's memory: traces filed up
// to now + MaxFuture need a lookup again, and the filters start small.
func (s *seen) forget(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forgetBefore(now)
	s.filters = []*bloomFilter{newBloomFilter(seenMinBits, now)}
}

// forgetBefore advances since past every trace summarised before t.
func (s *seen) forgetBefore(t time.Time) {
	s.since = max(s.since, t.Add(segment.DefaultMaxFuture).Unix())
	s.dropped = true
}

// bytes is the filters' memory.
func (s *seen) bytes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, f := range s.filters {
		n += f.size() / 8
	}
	return n
}

func (b *bloomFilter) add(h uint64) {
	h1, h2 := h, h>>32|h<<32
	for i := range uint64(seenHashes) {
		bit := (h1 + i*h2) & b.mask
		b.bits[bit/64] |= 1 << (bit % 64)
	}
	b.n++
}

func (b *bloomFilter) has(h uint64) bool {
	h1, h2 := h, h>>32|h<<32
	for i := range uint64(seenHashes) {
		bit := (h1 + i*h2) & b.mask
		if b.bits[bit/64]&(1<<(bit%64)) == 0 {
			return false
		}
	}
	return true
}
