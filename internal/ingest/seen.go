package ingest

import (
	"hash/maphash"
	"sync"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/segment"
)

// seen tells, without a store lookup, that a trace has no summary yet. Most
// traces a flush summarises are new, and proving that to the store costs a
// lookup per trace. A trace is filed under an epoch at most MaxFuture past
// the time it was first stored (epochFor clamps it), so one filed after
// since can only have been summarised by this process, which remembers the
// traces it summarised in two rotating bloom filters: filed after since and
// in neither filter means new. A false positive costs the lookup, no more.
type seen struct {
	mu        sync.Mutex
	seed      maphash.Seed
	since     int64 // epoch after which the filters know every summarised trace
	cur, prev *bloomFilter
	curStart  time.Time
}

const (
	seenBits     = 1 << 26 // 8 MiB per filter
	seenCapacity = 4 << 20 // traces per filter: ~0.2% false positives when full
)

type bloomFilter struct {
	bits []uint64
	n    int
}

func newSeen(start time.Time) *seen {
	return &seen{seed: maphash.MakeSeed(), since: start.Add(segment.DefaultMaxFuture).Unix(),
		cur: &bloomFilter{bits: make([]uint64, seenBits/64)}, curStart: start}
}

// knowStoreUpTo narrows what needs a lookup to traces filed at or before
// epoch: the store held no summary filed later when it was read (traces
// summarised since are in the filters).
func (s *seen) knowStoreUpTo(epoch int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.prev == nil { // no rotation yet: since still reflects the start
		s.since = min(s.since, epoch)
	}
}

// isNew reports that the trace, filed under epoch, has no stored summary.
func (s *seen) isNew(id string, epoch int64, now time.Time) bool {
	h := maphash.String(s.seed, id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if epoch <= s.since || epoch > now.Add(segment.DefaultMaxFuture).Unix() {
		return false // unknown: filed before the filters began, or not a time
	}
	return !s.cur.has(h) && (s.prev == nil || !s.prev.has(h))
}

// add records summarised traces; a full filter becomes the previous one.
func (s *seen) add(ids []string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.cur.add(maphash.String(s.seed, id))
	}
	if s.cur.n >= seenCapacity {
		// Traces only the dropped filter knew were summarised before
		// curStart, so filed no later than curStart + MaxFuture.
		s.since = max(s.since, s.curStart.Add(segment.DefaultMaxFuture).Unix())
		s.prev, s.cur, s.curStart = s.cur, &bloomFilter{bits: make([]uint64, seenBits/64)}, now
	}
}

func (b *bloomFilter) add(h uint64) {
	h1, h2 := h, h>>32|h<<32
	for i := range uint64(4) {
		bit := (h1 + i*h2) % seenBits
		b.bits[bit/64] |= 1 << (bit % 64)
	}
	b.n++
}

func (b *bloomFilter) has(h uint64) bool {
	h1, h2 := h, h>>32|h<<32
	for i := range uint64(4) {
		bit := (h1 + i*h2) % seenBits
		if b.bits[bit/64]&(1<<(bit%64)) == 0 {
			return false
		}
	}
	return true
}
