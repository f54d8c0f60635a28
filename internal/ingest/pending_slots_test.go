package ingest

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// The pending set with one slot per trace behaves as the four maps did
// (mapsSet): over random schedules of writes, writers' claims and releases,
// takes of some traces and of all, ticks, requeues and landings, both give
// the same entries and lookups, queue and byte counts, and the slots stay
// consistent (checkSlots).
func TestPendingSetMatchesMaps(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 23))
		clock := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
		p, m := newPendingSet(), newMapsSet()
		p.now = func() time.Time { return clock }
		m.now = p.now
		ids := func(es []*pendingEntry) (s []string) {
			for _, e := range es {
				s = append(s, fmt.Sprint(e.id, "/", e.raw))
			}
			return s
		}
		all := make([]string, 20)
		for i := range all {
			all[i] = fmt.Sprint("t", i)
		}
		var claims [][]string // writers' claims, each a set of distinct ids
		var flightsP, flightsM [][]*pendingEntry
		same := func(step int, what string, a, b any) {
			t.Helper()
			if fmt.Sprint(a) != fmt.Sprint(b) {
				t.Fatalf("seed %d step %d: %s: slots %v, maps %v", seed, step, what, a, b)
			}
		}
		for step := range 600 {
			id := all[rng.IntN(len(all))]
			switch op := rng.IntN(20); {
			case op < 7: // a write, as a writer queues it
				if m.flying[id] != nil {
					continue
				}
				clock = clock.Add(time.Duration(rng.IntN(300)) * time.Millisecond)
				doc := func() *segment.Segment {
					return &segment.Segment{ID: fmt.Sprint(rng.IntN(3)), Raw: make([]byte, 1+step%97)}
				}
				d := doc()
				st := func() *staged {
					return &staged{id: id, bytes: step, docs: trace.Trace{ID: id, Docs: []*segment.Segment{{ID: d.ID, Raw: d.Raw}}}}
				}
				if rng.IntN(2) == 0 {
					p.add(st())
					m.add(st())
					break
				}
				// As a writer does: claimed, staged with its slot, released.
				slots, _ := p.claim([]string{id}, nil, true)
				m.claim([]string{id})
				sp := st()
				sp.slot = slots[0]
				if p.queuedIn(sp.slot) != p.get(id) {
					t.Fatalf("seed %d step %d: the claimed slot's entry is not %s's", seed, step, id)
				}
				p.add(sp)
				m.add(st())
				p.release(slots)
				m.release([]string{id})
			case op < 10: // a writer claims a few traces
				var c []string
				for _, i := range rng.Perm(len(all))[:1+rng.IntN(3)] {
					if m.flying[all[i]] == nil {
						c = append(c, all[i])
					}
				}
				p.claim(c, nil, true)
				m.claim(c)
				claims = append(claims, c)
			case op < 12: // a writer releases
				if len(claims) > 0 {
					i := rng.IntN(len(claims))
					p.releaseIDs(claims[i])
					m.release(claims[i])
					claims = slices.Delete(claims, i, i+1)
				}
			case op < 14: // Sync of some traces, or of all
				var want []string
				if rng.IntN(4) > 0 {
					for _, i := range rng.Perm(len(all))[:1+rng.IntN(4)] {
						want = append(want, all[i])
					}
				}
				busy := false
				for id, n := range m.writing {
					if n > 0 && (len(want) == 0 && m.m[id] != nil || slices.Contains(want, id)) {
						busy = true // take would wait for the writer
					}
				}
				if busy {
					continue
				}
				a, b := p.take(want), m.take(want)
				same(step, "take", ids(a), ids(b))
				flightsP, flightsM = append(flightsP, a), append(flightsM, b)
			case op < 17: // a tick
				quiet := clock.Add(-time.Duration(rng.IntN(2000)) * time.Millisecond)
				oldest := quiet.Add(-time.Duration(rng.IntN(5000)) * time.Millisecond)
				limit := rng.IntN(3000)
				a, b := p.takeReady(quiet, oldest, limit), m.takeReady(quiet, oldest, limit)
				same(step, "takeReady", ids(a), ids(b))
				flightsP, flightsM = append(flightsP, a), append(flightsM, b)
			default: // a flight ends, some of it requeued first
				if len(flightsP) == 0 {
					continue
				}
				i := rng.IntN(len(flightsP))
				a, b := flightsP[i], flightsM[i]
				if k := rng.IntN(len(a) + 1); rng.IntN(3) == 0 {
					p.requeue(a[:k])
					m.requeue(b[:k])
				}
				p.land(a)
				m.land(b)
				if rng.IntN(5) == 0 {
					p.land(a) // landing twice changes nothing
					m.land(b)
				}
				flightsP, flightsM = slices.Delete(flightsP, i, i+1), slices.Delete(flightsM, i, i+1)
			}
			same(step, "queue", ids(p.queue), ids(m.queue))
			same(step, "bytes", []int{p.rawBytes(), p.memBytes(), p.size()}, []int{m.rawBytes(), m.memBytes(), m.size()})
			same(step, "idle", p.idle(), m.idle())
			same(step, "notQueued", p.notQueued(all), m.notQueued(all))
			for _, id := range all {
				a, b := p.get(id), m.get(id)
				same(step, "get "+id, a != nil && fmt.Sprint(a.raw, a.bytes, len(a.docs.Docs)) != "", b != nil)
				if a != nil {
					same(step, "get "+id, fmt.Sprint(a.raw, a.bytes, len(a.docs.Docs)), fmt.Sprint(b.raw, b.bytes, len(b.docs.Docs)))
				}
				same(step, "writers "+id, p.writers(id), m.writing[id])
				same(step, "flying "+id, p.flyingOf(id) != nil, m.flying[id] != nil)
			}
			if err := p.checkSlots(); err != nil {
				t.Fatalf("seed %d step %d: %v", seed, step, err)
			}
		}
	}
}

// checkSlots reports a slot that holds nothing, or an entry, count or
// queue that disagrees with the slots.
func (p *pendingSet) checkSlots() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	queued, flying := 0, 0
	for id, s := range p.t {
		switch {
		case s.id != id:
			return fmt.Errorf("slot of %s filed under %s", s.id, id)
		case s.queued == nil && s.flying == nil && s.writing == 0 && !s.wanted:
			return fmt.Errorf("empty slot %s kept", id)
		case s.queued != nil && (s.queued.slot != s || s.queued.taken):
			return fmt.Errorf("queued entry of %s: slot %p, want %p; taken %v", id, s.queued.slot, s, s.queued.taken)
		case s.flying != nil && s.flying.slot != s:
			return fmt.Errorf("flying entry of %s has another slot", id)
		}
		if s.queued != nil {
			queued++
		}
		if s.flying != nil {
			flying++
		}
	}
	if queued != p.queued || flying != p.flying {
		return fmt.Errorf("counted %d queued, %d flying; slots hold %d, %d", p.queued, p.flying, queued, flying)
	}
	for _, e := range p.queue {
		if !e.taken && p.t[e.id].queued != e {
			return fmt.Errorf("queue holds %s, which its slot does not", e.id)
		}
	}
	return nil
}

// A take waits for the trace's writer; a writer that comes meanwhile waits
// for the take and its flight, holding none of its traces, then claims them; and the slots the
// take wanted hold nothing afterwards.
func TestTakeWaitsForWriterThenHoldsNewOnes(t *testing.T) {
	p := newPendingSet()
	p.claimWait = time.Hour // the flight lands when the test says
	p.claim([]string{"a"}, nil, true)
	p.add(&staged{id: "a", docs: trace.Trace{ID: "a", Docs: []*segment.Segment{{ID: "1", Raw: []byte("x")}}}})
	took := make(chan []*pendingEntry)
	go func() { took <- p.take([]string{"a"}) }()
	for !p.isWanted("a") { // the take waits for the writer
		runtime.Gosched()
	}
	claimed := make(chan struct{})
	go func() {
		p.claim([]string{"b", "a"}, nil, true) // b's claim waits with a's
		close(claimed)
	}()
	p.releaseIDs([]string{"a"})
	es := <-took
	if len(es) != 1 || p.flyingOf("a") != es[0] {
		t.Fatalf("took %v", es)
	}
	for range 100 {
		select {
		case <-claimed:
			t.Fatal("a writer claimed a trace in flight")
		default:
		}
		if p.writers("b") != 0 {
			t.Fatal("a waiting writer holds b")
		}
		runtime.Gosched()
	}
	p.land(es)
	<-claimed
	if p.writers("a") != 1 || p.writers("b") != 1 || p.isWanted("a") {
		t.Fatalf("after the flight: %d and %d writers, wanted %v", p.writers("a"), p.writers("b"), p.isWanted("a"))
	}
	p.releaseIDs([]string{"b", "a"})
	if err := p.checkSlots(); err != nil {
		t.Fatal(err)
	}
	if len(p.t) != 0 || len(p.wanted) != 0 {
		t.Fatalf("%d slots, %d wanted left", len(p.t), len(p.wanted))
	}
}

func (p *pendingSet) isWanted(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.t[id]
	return s != nil && s.wanted
}
