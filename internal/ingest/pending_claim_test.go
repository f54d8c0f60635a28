package ingest

import (
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

func stagedDoc(id, doc string, size int) *staged {
	return &staged{id: id, docs: trace.Trace{ID: id, Docs: []*segment.Segment{{ID: doc, Raw: make([]byte, size)}}}}
}

// Where flights do not hold their traces (a shared store), a writer claims
// a trace in flight at once and its documents start a new entry; whether
// the flight lands or is requeued first, the set's counts stay those of
// its slots, and the newer documents stay queued.
func TestClaimOfATraceInFlightStartsANewEntry(t *testing.T) {
	for _, requeued := range []bool{false, true} {
		p := newPendingSet()
		p.waiting = func() { t.Fatal("a claim waited for a flight") }
		p.add(stagedDoc("a", "1", 10))
		flight := p.take([]string{"a"})
		slots, ok := p.claim([]string{"a"}, nil, false)
		if !ok || len(slots) != 1 {
			t.Fatalf("claim: %v, %d slots", ok, len(slots))
		}
		st := stagedDoc("a", "2", 5)
		st.slot = slots[0]
		p.add(st)
		p.release(slots)
		if q := p.get("a"); q == nil || q == flight[0] || len(q.docs.Docs) != 1 {
			t.Fatalf("queued entry %+v: want a new one holding the write", q)
		}
		if got := []int{p.rawBytes(), p.memBytes()}; got[0] != 5 || got[1] != 15 {
			t.Fatalf("raw, mem bytes %v; want 5, 15", got)
		}
		want := 5
		if requeued {
			p.requeue(flight) // its flush failed: merged with the newer entry
			want = 15
		}
		p.land(flight)
		if err := p.checkSlots(); err != nil {
			t.Fatal(err)
		}
		if got := []int{p.rawBytes(), p.memBytes(), p.size()}; got[0] != want || got[1] != want || got[2] != 1 {
			t.Fatalf("requeued %v: raw, mem bytes, size %v; want %d, %d, 1", requeued, got, want, want)
		}
		es := p.take(nil)
		p.land(es)
		if len(es) != 1 || p.memBytes() != 0 || !p.idle() {
			t.Fatalf("requeued %v: took %d entries, %d bytes left", requeued, len(es), p.memBytes())
		}
		if err := p.checkSlots(); err != nil {
			t.Fatal(err)
		}
	}
}

// Where flights hold their traces, a claim waits for one at most
// claimWait, then claims nothing: not even the traces of the call that
// were free.
func TestClaimOfAHeldTraceGivesUp(t *testing.T) {
	p := newPendingSet()
	p.claimWait = 10 * time.Millisecond
	p.add(stagedDoc("a", "1", 10))
	flight := p.take([]string{"a"})
	waited := false
	p.waiting = func() { waited = true }
	slots, ok := p.claim([]string{"b", "a"}, nil, true)
	if ok || len(slots) != 0 || !waited {
		t.Fatalf("claim of a trace in flight: ok %v, %d slots, waited %v; want a wait, then nothing", ok, len(slots), waited)
	}
	if p.writers("a") != 0 || p.writers("b") != 0 {
		t.Fatal("a claim that gave up holds a trace")
	}
	p.land(flight)
	waited = false
	if slots, ok = p.claim([]string{"b", "a"}, nil, true); !ok || len(slots) != 2 || waited {
		t.Fatalf("claim after the landing: ok %v, %d slots, waited %v", ok, len(slots), waited)
	}
	p.release(slots)
	if err := p.checkSlots(); err != nil {
		t.Fatal(err)
	}
}
