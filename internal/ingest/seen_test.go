package ingest

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"testing"
	"time"
)

func TestSeen(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	s := newSeen(start)
	now := start.Add(time.Hour)
	after := start.Add(10 * time.Minute).Unix() // filed after since
	if !s.isNew("a", after, now) {
		t.Error("a trace filed after the process started and never summarised is not new")
	}
	if s.isNew("b", start.Unix(), now) {
		t.Error("a trace filed at start may have been summarised by the last run; want a lookup")
	}
	if s.isNew("c", now.Add(time.Hour).Unix(), now) {
		t.Error("an epoch beyond MaxFuture is not a time the filters vouch for")
	}
	s.knowStoreUpTo(start.Unix() - 600) // the store's latest summary is older
	if !s.isNew("b", start.Unix(), now) {
		t.Error("a trace filed after the store's latest summary is not new")
	}
	if s.isNew("g", start.Unix()-600, now) {
		t.Error("a trace filed at the store's latest summary may have one; want a lookup")
	}
	s.add([]string{"a"}, now)
	if s.isNew("a", after, now) {
		t.Error("a summarised trace is still new")
	}

	// A full filter is followed by one twice its size, forgetting nothing,
	// up to the largest size.
	fill := func(at time.Time) {
		cur := s.filters[len(s.filters)-1]
		cur.n = cur.size()/seenBitsPerTrace - 1
		s.add([]string{fmt.Sprint("fill", at.UnixNano())}, at)
	}
	for s.filters[len(s.filters)-1].size() < seenMaxBits {
		size := s.filters[len(s.filters)-1].size()
		fill(now)
		if got := s.filters[len(s.filters)-1].size(); got != 2*size {
			t.Fatalf("a full filter of %d bits was followed by one of %d", size, got)
		}
		if s.isNew("a", after, now) || s.since != start.Unix()-600 {
			t.Fatal("growing the filters forgot a summarised trace")
		}
	}

	// Filling the largest filter starts a generation; what only the
	// dropped filters knew falls before since, so it is looked up, never
	// wrongly new.
	s.add([]string{"d"}, now)
	fill(now) // generation 1: a and d in the older filters
	if len(s.filters) != 2 {
		t.Fatalf("%d filters after a generation, want the full one and a new one", len(s.filters))
	}
	if s.isNew("a", after, now) || s.isNew("d", after, now) {
		t.Error("the previous filter is forgotten too early")
	}
	later := now.Add(time.Hour)
	fill(later) // generation 2: a and d dropped
	if s.isNew("a", after, later) {
		t.Error("a trace only a dropped filter knew is reported new")
	}
	if !s.isNew("f", later.Unix(), later) {
		t.Error("a trace filed after the second generation is not new")
	}
	if s.bytes() != 2*seenMaxBits/8 {
		t.Errorf("filters hold %d bytes, want two of the largest", s.bytes())
	}
	fp := 0
	for i := range 100000 {
		if !s.isNew(fmt.Sprint("x", i), later.Unix(), later) {
			fp++
		}
	}
	if fp > 100 {
		t.Errorf("%d false positives in 100000 on a near-empty filter", fp)
	}
}

// The filters are sized to the traffic: 100k traces take well under the
// 8 MiB one filter for millions took (an idle server's heap), every one of
// them is known, and few traces not summarised cost a lookup.
func TestSeenSizedToTraffic(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	s := newSeen(start)
	s.knowStoreUpTo(0)
	if got := s.bytes(); got > 8<<10 {
		t.Errorf("a fresh filter takes %d bytes", got)
	}
	epoch := start.Unix()
	const n = 100_000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprint("1-6935f000-", i)
	}
	for lo := 0; lo < n; lo += 500 { // as flushes add them
		s.add(ids[lo:lo+500], start)
	}
	for _, id := range ids {
		if s.isNew(id, epoch, start) {
			t.Fatalf("summarised trace %s is new", id)
		}
	}
	// 16 bits a trace, each filter at most twice its traces' need.
	if got := s.bytes(); got > 2*n*seenBitsPerTrace/8+seenMinBits/8 || got >= seenMaxBits/8 {
		t.Errorf("the filters of %d traces take %d bytes", n, got)
	}
	fp := 0
	for i := range n {
		if !s.isNew(fmt.Sprint("other-", i), epoch, start) {
			fp++
		}
	}
	if fp > n*3/100 {
		t.Errorf("%d false positives in %d", fp, n)
	}
}

// forget (an idle server's trim) drops the filters, yet a trace summarised
// before is never taken for new: until MaxFuture has passed, every trace
// filed is looked up; traces summarised after are remembered again.
func TestSeenForget(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	s := newSeen(start)
	s.knowStoreUpTo(0)
	now := start.Add(time.Hour)
	ids := make([]string, 10_000)
	for i := range ids {
		ids[i] = fmt.Sprint("old-", i)
	}
	s.add(ids, now)
	s.forget(now)
	if got := s.bytes(); got > seenMinBits/8 {
		t.Errorf("forgotten filters still take %d bytes", got)
	}
	// The latest a trace summarised before now can be filed.
	latest := now.Add(5 * time.Minute)
	for _, id := range ids {
		if s.isNew(id, latest.Unix(), latest) {
			t.Fatalf("trace %s, summarised before the filters were dropped, is new", id)
		}
	}
	s.knowStoreUpTo(0) // the start's knowledge cannot undo the drop
	if s.isNew(ids[0], now.Unix(), now) {
		t.Error("knowStoreUpTo after forget made a forgotten trace new")
	}
	// Summarised after: remembered. Filed after the drop's horizon and
	// never summarised: new.
	later := latest.Add(time.Second)
	s.add([]string{"late"}, later)
	if s.isNew("late", later.Unix(), later) {
		t.Error("a trace summarised after forget is new")
	}
	if !s.isNew("fresh", later.Unix(), later) {
		t.Error("a trace filed after the forgotten horizon is not new")
	}
}

// A full filter answers "maybe" for few traces it never took: each such
// false positive costs ingest a summary lookup (three Pebble reads).
func TestSeenFalsePositives(t *testing.T) {
	f := newBloomFilter(seenMinBits, time.Time{})
	s := newSeen(time.Time{})
	for i := 0; !f.full(); i++ {
		f.add(maphashString(s, fmt.Sprint("in-", i)))
	}
	const probes = 100_000
	fp := 0
	for i := range probes {
		if f.has(maphashString(s, fmt.Sprint("out-", i))) {
			fp++
		}
	}
	// ~0.09% expected (93 ± 10); 4 hashes gave ~0.24%.
	if fp > probes/500 {
		t.Fatalf("%d false positives in %d probes of a full filter, want at most 0.2%%", fp, probes)
	}
	t.Logf("%d false positives in %d probes", fp, probes)
}

func maphashString(s *seen, id string) uint64 { return maphash.String(s.seed, id) }

// isNew probes only the filters whose epoch range holds the id's: every
// trace summarised is still known, whatever order its ids' epochs come in
// (late traces, clocks off, ids without an epoch, malformed ones), across
// growth and a generation; and what isNew calls new, probing every filter
// (as before the ranges) would have called new too.
func TestSeenEpochRanges(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	s := newSeen(start)
	s.knowStoreUpTo(0)
	rng := rand.New(rand.NewPCG(1, 2))
	base := start.Unix()
	id := func(i int) string {
		switch i % 10 {
		case 0: // no epoch: probes every filter
			return fmt.Sprint("w3c-", i)
		case 1: // late: an epoch up to an hour old
			return fmt.Sprintf("1-%08x-%024x", base-rng.Int64N(3600), rng.Uint64())
		case 2: // upper-case hex: not an epoch TraceEpoch reads
			return fmt.Sprintf("1-%08X-%024X", base+int64(i/1000), rng.Uint64())
		}
		return fmt.Sprintf("1-%08x-%024x", base+int64(i/1000), rng.Uint64())
	}
	now := start.Add(time.Hour)
	var added []string
	probeAll := func(x string) bool { // isNew before the ranges
		if base+1800 <= s.since {
			return false
		}
		h := maphash.String(s.seed, x)
		for _, f := range s.filters {
			if f.has(h) {
				return false
			}
		}
		return true
	}
	check := func() {
		t.Helper()
		for _, x := range added {
			if s.isNew(x, base+1800, now) {
				t.Fatalf("summarised trace %s is new", x)
			}
		}
		for i := range 20_000 {
			x := id(i + 1_000_000)
			if !s.isNew(x, base+1800, now) && probeAll(x) {
				t.Fatalf("%s: a maybe with the ranges, new probing every filter", x)
			}
		}
	}
	for i := 0; i < 200_000; i += 256 {
		var batch []string
		for j := i; j < i+256; j++ {
			batch = append(batch, id(j))
		}
		s.add(batch, now)
		added = append(added, batch...)
	}
	if len(s.filters) < 5 {
		t.Fatalf("%d filters: the test wants several", len(s.filters))
	}
	check()
	// A generation: the full filter is kept, with its range.
	for s.filters[len(s.filters)-1].size() < seenMaxBits {
		cur := s.filters[len(s.filters)-1]
		cur.n = cur.size()/seenBitsPerTrace - 1
		s.add([]string{id(-1)}, now)
	}
	cur := s.filters[len(s.filters)-1]
	cur.n = cur.size()/seenBitsPerTrace - 1
	last := id(-2)
	s.add([]string{last}, now)
	added = []string{last}
	check()
}

// With ids' epochs advancing as traffic's do, a new trace is probed in the
// newest filters only: far fewer false positives (each a Head) than all
// the filters' added up (~0.7% at 2M traces).
func TestSeenFalsePositivesByEpoch(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	s := newSeen(start)
	s.knowStoreUpTo(0)
	const n = 1_000_000
	fp := 0
	var batch []string
	for i := range n {
		ep := start.Unix() + int64(i/12_500)
		x := fmt.Sprintf("1-%08x-%024x", ep, uint64(i)*0x9E3779B97F4A7C15)
		if !s.isNew(x, ep, time.Unix(ep, 0)) {
			fp++
		}
		if batch = append(batch, x); len(batch) == 256 {
			s.add(batch, time.Unix(ep, 0))
			batch = batch[:0]
		}
	}
	if fp > n/2000 {
		t.Errorf("%d false positives in %d new traces, want at most 0.05%%", fp, n)
	}
	t.Logf("%d false positives in %d new traces", fp, n)
}
