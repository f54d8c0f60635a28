package ingest

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// A flush that failed is requeued; a newer version of one of its documents,
// staged meanwhile, replaces it, and the bytes awaiting summaries count it
// once (they bound the backlog, so an overcount would stall writers).
func TestRequeueCountsReplacedDocumentsOnce(t *testing.T) {
	doc := func(id string, n int) *segment.Segment { return &segment.Segment{ID: id, Raw: make([]byte, n)} }
	p := newPendingSet()
	p.add(&staged{id: "t", docs: trace.Trace{ID: "t", Docs: []*segment.Segment{doc("a", 100), doc("b", 10)}}})
	taken := p.take(nil)
	if p.rawBytes() != 0 || len(taken) != 1 {
		t.Fatalf("after take: %d bytes, %d entries", p.rawBytes(), len(taken))
	}
	p.add(&staged{id: "t", docs: trace.Trace{ID: "t", Docs: []*segment.Segment{doc("a", 120)}}}) // in_progress -> complete
	p.requeue(taken)
	if got := p.rawBytes(); got != 130 {
		t.Fatalf("awaiting %d bytes, want 130 (a's newer 120 and b's 10)", got)
	}
	es := p.take(nil)
	if len(es) != 1 || len(es[0].docs.Docs) != 2 || es[0].docs.Find("a").Raw == nil || len(es[0].docs.Find("a").Raw) != 120 {
		t.Fatalf("merged entry %+v", es)
	}
	if p.rawBytes() != 0 {
		t.Fatalf("after the last take: %d bytes", p.rawBytes())
	}
}

// Traces quiet for less than the flush delay wait, unless the backlog is
// over its limit: then the oldest are taken until it is down to three
// quarters of the limit, not merely under it, so flushes under sustained
// load are few and large.
func TestTakeReadyOverLimitLeavesThreeQuarters(t *testing.T) {
	p := newPendingSet()
	for i := range 10 {
		id := string(rune('a' + i))
		p.add(&staged{id: id, docs: trace.Trace{ID: id, Docs: []*segment.Segment{{ID: id, Raw: make([]byte, 100)}}}})
	}
	longAgo := time.Now().Add(-time.Hour) // nobody has been quiet long enough
	if got := p.takeReady(longAgo, longAgo, 1000); len(got) != 0 {
		t.Fatalf("at the limit: took %d traces, want none", len(got))
	}
	got := p.takeReady(longAgo, longAgo, 800)
	if len(got) != 4 || got[0].id != "a" || got[3].id != "d" || p.rawBytes() != 600 {
		t.Fatalf("over the limit of 800: took %d traces, %d bytes left; want a-d taken, 600 left", len(got), p.rawBytes())
	}
}

// A trace is quiet FlushDelay after its LAST document, not its first: a
// busy trace was re-summarised every second. One that never goes quiet is
// still taken once it has waited MaxFlushDelay.
func TestQuietMeansSinceTheLastDocument(t *testing.T) {
	clock := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newPendingSet()
	p.now = func() time.Time { return clock }
	write := func(id string) {
		p.add(&staged{id: id, docs: trace.Trace{ID: id, Docs: []*segment.Segment{{ID: fmt.Sprint(clock.UnixNano()), Raw: make([]byte, 10)}}}})
	}
	take := func() (ids []string) {
		for _, e := range p.takeReady(clock.Add(-time.Second), clock.Add(-10*time.Second), 1<<20) {
			ids = append(ids, e.id)
		}
		return ids
	}
	start := clock
	write("busy")
	write("quiet")
	for range 5 { // "busy" takes a document every 900 ms
		clock = clock.Add(900 * time.Millisecond)
		write("busy")
		if got := take(); len(got) > 0 && !(len(got) == 1 && got[0] == "quiet") {
			t.Fatalf("at %s took %v; busy is not quiet", clock, got)
		}
	}
	if p.get("quiet") != nil {
		t.Fatal("the quiet trace was not taken")
	}
	for range 10 {
		clock = clock.Add(900 * time.Millisecond)
		write("busy")
		if got := take(); len(got) > 0 {
			if waited := clock.Sub(start); len(got) != 1 || got[0] != "busy" || waited < 10*time.Second {
				t.Fatalf("took %v after %s", got, waited)
			}
			return
		}
	}
	t.Fatal("a trace that is never quiet was not taken after MaxFlushDelay")
}

// A pending entry holds its first document in place (one), and its list
// moves to the heap at the second; a later version of that first document
// must not stay reachable from the old slot (found in review: a superseded
// in-progress document's bytes, uncounted, lived as long as the entry),
// and the bytes awaiting summaries count the replaced document once.
func TestPendingEntryKeepsNoSupersededDocument(t *testing.T) {
	doc := func(id string, n int) *segment.Segment { return &segment.Segment{ID: id, Raw: make([]byte, n)} }
	p := newPendingSet()
	first := doc("a", 100)
	p.add(&staged{id: "t", docs: trace.Trace{ID: "t", Docs: []*segment.Segment{first}}})
	p.add(&staged{id: "t", docs: trace.Trace{ID: "t", Docs: []*segment.Segment{doc("b", 10)}}})
	p.add(&staged{id: "t", docs: trace.Trace{ID: "t", Docs: []*segment.Segment{doc("a", 120)}}}) // in_progress -> complete
	e := p.get("t")
	for _, d := range e.one {
		if d == first {
			t.Fatal("the superseded first document is still held by the entry's in-place slot")
		}
	}
	if got := p.rawBytes(); got != 130 {
		t.Fatalf("awaiting %d bytes, want 130", got)
	}
}

// takeReadyByCopy is takeReady as it was, building a new queue each time:
// the reference that the in-place rewrite must match.
func (p *pendingSet) takeReadyByCopy(quiet, oldest time.Time, limit int) []*pendingEntry {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*pendingEntry
	target := limit
	if p.raw > limit {
		target = limit / 4 * 3
	}
	var busy []*pendingEntry
	n := 0
	for ; n < len(p.queue); n++ {
		e := p.queue[n]
		if e.taken {
			continue
		}
		over := p.raw > target
		if e.first.After(quiet) && !over {
			break
		}
		if e.slot.writing > 0 {
			busy = append(busy, e)
			continue
		}
		if over || !e.last.After(quiet) || !e.first.After(oldest) {
			p.takeLocked(e)
			out = append(out, e)
			continue
		}
		busy = append(busy, e)
	}
	p.queue = append(busy, p.queue[n:]...)
	return out
}

// takeReady rewrites the queue in place; it takes the same entries and
// leaves the same queue as building a new one did, over random schedules
// of writes, writers' claims, Syncs of some traces, requeues and ticks.
func TestTakeReadyInPlaceMatchesCopy(t *testing.T) {
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 7))
		clock := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
		sets := [2]*pendingSet{newPendingSet(), newPendingSet()}
		for _, p := range sets {
			p.now = func() time.Time { return clock }
		}
		ids := func(es []*pendingEntry) (s []string) {
			for _, e := range es {
				s = append(s, e.id)
			}
			return s
		}
		var claimed []string
		for step := range 400 {
			id := fmt.Sprint("t", rng.IntN(30))
			switch op := rng.IntN(10); {
			case op < 5:
				clock = clock.Add(time.Duration(rng.IntN(300)) * time.Millisecond)
				for _, p := range sets {
					if p.flyingOf(id) != nil {
						continue
					}
					p.add(&staged{id: id, docs: trace.Trace{ID: id, Docs: []*segment.Segment{{ID: fmt.Sprint(step), Raw: make([]byte, 1+step%97)}}}})
				}
			case op < 6:
				if len(claimed) > 0 && rng.IntN(2) == 0 {
					for _, p := range sets {
						p.releaseIDs(claimed[:1])
					}
					claimed = claimed[1:]
				} else if sets[0].flyingOf(id) == nil {
					for _, p := range sets {
						p.claim([]string{id}, nil, true)
					}
					claimed = append(claimed, id)
				}
			case op < 7:
				if sets[0].writers(id) > 0 {
					continue // take would wait for the writer
				}
				a, b := sets[0].take([]string{id}), sets[1].take([]string{id})
				if fmt.Sprint(ids(a)) != fmt.Sprint(ids(b)) {
					t.Fatalf("seed %d step %d: take %v and %v", seed, step, ids(a), ids(b))
				}
				sets[0].land(a)
				sets[1].land(b)
			default:
				quiet := clock.Add(-time.Duration(rng.IntN(2000)) * time.Millisecond)
				oldest := quiet.Add(-time.Duration(rng.IntN(5000)) * time.Millisecond)
				limit := rng.IntN(3000)
				a := sets[0].takeReady(quiet, oldest, limit)
				b := sets[1].takeReadyByCopy(quiet, oldest, limit)
				if fmt.Sprint(ids(a)) != fmt.Sprint(ids(b)) {
					t.Fatalf("seed %d step %d: takeReady took %v, by copy %v", seed, step, ids(a), ids(b))
				}
				if rng.IntN(3) == 0 {
					sets[0].requeue(a)
					sets[1].requeue(b)
				}
				sets[0].land(a)
				sets[1].land(b)
			}
			if q0, q1 := fmt.Sprint(ids(sets[0].queue)), fmt.Sprint(ids(sets[1].queue)); q0 != q1 || sets[0].raw != sets[1].raw {
				t.Fatalf("seed %d step %d: queues %s (%d bytes) and %s (%d bytes)", seed, step, q0, sets[0].raw, q1, sets[1].raw)
			}
			for _, e := range sets[0].queue[len(sets[0].queue):cap(sets[0].queue)] {
				if e != nil {
					t.Fatalf("seed %d step %d: the queue's spare room holds %s", seed, step, e.id)
				}
			}
		}
	}
}

// flyingOf is the trace's entry in flight, if any.
func (p *pendingSet) flyingOf(id string) *pendingEntry {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.t[id]; s != nil {
		return s.flying
	}
	return nil
}

// writers is the number of writers that claimed the trace.
func (p *pendingSet) writers(id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.t[id]; s != nil {
		return s.writing
	}
	return 0
}

// releaseIDs ends a claim of the traces, as release of their slots.
func (p *pendingSet) releaseIDs(ids []string) {
	p.mu.Lock()
	slots := make([]*traceSlot, len(ids))
	for i, id := range ids {
		slots[i] = p.t[id]
	}
	p.mu.Unlock()
	p.release(slots)
}
