package ingest

import (
	"sync"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// mapsSet is the pending set as it was before one map of slots by trace
// (session 23): four maps by trace id, looked up ~13 times per trace. It
// is the model pendingSet must match (TestPendingSetMatchesMaps): the
// traces awaiting summaries, oldest first; those a flush is summarising
// (in flight) until their summary is stored and cached; and which writers
// own which traces (claim).
type mapsSet struct {
	mu     sync.Mutex
	m      map[string]*pendingEntry
	queue  []*pendingEntry // by first; taken entries are skipped
	raw    int
	flying map[string]*pendingEntry
	// flyRaw is the raw bytes of the entries in flight.
	flyRaw int
	// writing counts the writers that claimed each trace (claim); wanted
	// are the traces a take waits to have from their writers.
	writing map[string]int
	wanted  map[string]bool
	// changed is signalled when entries land or writers release.
	changed *sync.Cond
	// now is the clock of quiet periods (tests replace it).
	now func() time.Time
}

func newMapsSet() *mapsSet {
	p := &mapsSet{m: map[string]*pendingEntry{}, flying: map[string]*pendingEntry{}, writing: map[string]int{}, wanted: map[string]bool{}, now: time.Now}
	p.changed = sync.NewCond(&p.mu)
	return p
}

// claim makes the calling writer the owner of the traces: it waits until
// no flush holds any of them, and until it calls release no flush takes
// them. The flush that holds a trace clears its pending mark when it
// stores the summary, so a write in between would leave documents no mark
// covers, whose summary a crash would then lose; and a flush must not take
// documents a writer is still merging. One owner at a time, writer or flush.
func (p *mapsSet) claim(ids []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.heldLocked(ids) {
		p.changed.Wait()
	}
	for _, id := range ids {
		p.writing[id]++
	}
}

// heldLocked reports that a flush holds or waits for one of the traces.
func (p *mapsSet) heldLocked(ids []string) bool {
	for _, id := range ids {
		if p.flying[id] != nil || p.wanted[id] {
			return true
		}
	}
	return false
}

// release ends a writer's claim.
func (p *mapsSet) release(ids []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		if n := p.writing[id]; n > 1 {
			p.writing[id] = n - 1
		} else {
			delete(p.writing, id)
		}
	}
	p.changed.Broadcast()
}

// waitWritersLocked waits until no writer holds one of the traces to take.
// Traces it waits for are wanted: new writers wait for the take, so that a
// busy trace cannot keep Sync waiting.
func (p *mapsSet) waitWritersLocked(ids func(yield func(string) bool)) {
	defer func() {
		clear(p.wanted)
		p.changed.Broadcast()
	}()
	for {
		busy := false
		for id := range ids {
			if p.writing[id] > 0 {
				busy, p.wanted[id] = true, true
			}
		}
		if !busy {
			return
		}
		p.changed.Wait()
	}
}

func (p *mapsSet) get(id string) *pendingEntry {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.m[id]
}

// add queues staged writes: a call's, under one lock and one clock read.
func (p *mapsSet) add(sts ...*staged) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	for _, st := range sts {
		p.addLocked(st, now)
	}
}

func (p *mapsSet) addLocked(st *staged, now time.Time) {
	e := p.m[st.id]
	if e == nil {
		e = &pendingEntry{id: st.id, epoch: st.epoch, first: now, fresh: st.fresh}
		e.docs = trace.Trace{ID: st.id, Docs: e.one[:0]}
		p.m[st.id] = e
		p.queue = append(p.queue, e)
	}
	e.last = now
	for _, d := range st.docs.Docs {
		old := e.docs.Find(d.ID)
		if e.docs.Put(d) {
			n := len(d.Raw)
			if old != nil { // replaced: only the difference awaits
				n -= len(old.Raw)
			}
			e.raw += n
			p.raw += n
		}
	}
	if len(e.docs.Docs) > 1 {
		// The list moved to the heap: the in-place slot would keep a
		// later-replaced first document alive, uncounted.
		e.one[0] = nil
	}
	e.bytes = max(e.bytes, st.bytes)
	e.limitExceeded = e.limitExceeded || st.limitExceeded
}

// rawBytes is the size of the documents awaiting summaries.
func (p *mapsSet) rawBytes() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.raw
}

// memBytes is the size of the documents awaiting or undergoing summaries.
func (p *mapsSet) memBytes() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.raw + p.flyRaw
}

// takeLocked moves an entry from the queue into flight.
func (p *mapsSet) takeLocked(e *pendingEntry) {
	e.taken = true
	delete(p.m, e.id)
	p.raw -= e.raw
	p.flying[e.id] = e
	p.flyRaw += e.raw
}

// land ends the flight of entries whose flush is done: their summary is
// stored and cached, or they were requeued.
func (p *mapsSet) land(es []*pendingEntry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range es {
		if p.flying[e.id] == e {
			delete(p.flying, e.id)
			p.flyRaw -= e.raw
		}
	}
	p.changed.Broadcast()
}

// idle reports that nothing is queued or in flight.
func (p *mapsSet) idle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.m) == 0 && len(p.flying) == 0
}

// takeReady removes the entries quiet since before quiet or waiting since
// before oldest, and more, oldest first, while the set holds over limit
// bytes.
func (p *mapsSet) takeReady(quiet, oldest time.Time, limit int) []*pendingEntry {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*pendingEntry
	// Over the limit, take down to three quarters of it: taking only the
	// excess made a flush of a few traces per kick under sustained load,
	// and each Apply writes one posting record per term and second, so
	// many small ones cost more than a few large ones.
	target := limit
	if p.raw > limit {
		target = limit / 4 * 3
	}
	// The queue is rewritten in place: the entries kept from its head
	// (busy: old enough to look at, not quiet yet), then the rest. A new
	// queue every tick was most of what the flush loop allocated under
	// load, a copy of every pending entry ten times a second.
	busy := p.queue[:0]
	n := 0
	for ; n < len(p.queue); n++ {
		e := p.queue[n]
		if e.taken {
			continue
		}
		over := p.raw > target
		if e.first.After(quiet) && !over {
			break // the queue is by first, and last >= first: none is quiet
		}
		if p.writing[e.id] > 0 {
			busy = append(busy, e) // a writer is merging into it: next time
			continue
		}
		if over || !e.last.After(quiet) || !e.first.After(oldest) {
			p.takeLocked(e)
			out = append(out, e)
			continue
		}
		busy = append(busy, e)
	}
	if len(busy) < n { // something left the head
		k := len(busy) + copy(p.queue[len(busy):], p.queue[n:])
		clear(p.queue[k:]) // taken entries stay reachable from nothing
		p.queue = p.queue[:k]
	}
	return out
}

// take removes the given traces' entries, or all with no ids.
func (p *mapsSet) take(ids []string) []*pendingEntry {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*pendingEntry
	if len(ids) == 0 {
		// Writers merging into queued traces: what those hold was
		// acknowledged, and it is theirs until they are done.
		p.waitWritersLocked(func(yield func(string) bool) {
			for id := range p.m {
				if !yield(id) {
					return
				}
			}
		})
		for _, e := range p.queue {
			if !e.taken {
				p.takeLocked(e)
				out = append(out, e)
			}
		}
		p.queue = nil
		return out
	}
	p.waitWritersLocked(func(yield func(string) bool) {
		for _, id := range ids {
			if !yield(id) {
				return
			}
		}
	})
	for _, id := range ids {
		if e := p.m[id]; e != nil {
			p.takeLocked(e)
			out = append(out, e)
		}
	}
	return out
}

// size is the number of traces awaiting summaries.
func (p *mapsSet) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.m)
}

// requeue puts back entries whose flush failed, to be retried after
// FlushDelay; documents that arrived since stay the newer versions.
func (p *mapsSet) requeue(es []*pendingEntry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	for _, old := range es {
		e := &pendingEntry{id: old.id, epoch: old.epoch, bytes: old.bytes, raw: old.raw,
			docs:          trace.Trace{ID: old.id, Docs: append([]*segment.Segment(nil), old.docs.Docs...)},
			limitExceeded: old.limitExceeded, reload: old.reload, first: now, last: now, counted: old.counted}
		if newer := p.m[old.id]; newer != nil {
			newer.taken = true // replaced by the merged entry
			p.raw -= newer.raw
			e.docs.Put(newer.docs.Docs...)
			// Newer versions replace documents of the same id: count
			// what the merged entry holds, not the sum of both.
			e.raw = 0
			for _, d := range e.docs.Docs {
				e.raw += len(d.Raw)
			}
			e.bytes = max(e.bytes, newer.bytes)
			e.limitExceeded = e.limitExceeded || newer.limitExceeded
		}
		p.m[e.id] = e
		p.queue = append(p.queue, e)
		p.raw += e.raw
	}
}

// notQueued are the ids this process neither queues nor is writing: its own
// pending traces it summarises itself.
func (p *mapsSet) notQueued(ids []string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, id := range ids {
		if p.m[id] == nil && p.flying[id] == nil && p.writing[id] == 0 {
			out = append(out, id)
		}
	}
	return out
}
