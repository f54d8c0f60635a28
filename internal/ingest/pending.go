package ingest

import (
	"sync"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// pendingEntry is a trace whose stored documents await their summary.
type pendingEntry struct {
	id    string
	epoch int64
	docs  trace.Trace // documents since the last summary, latest per id
	bytes int         // the whole trace's raw bytes, as far as known
	raw   int         // raw bytes of docs
	// limitExceeded: a document was refused by MaxTraceBytes.
	limitExceeded bool
	// reload: the documents are only in the store (found pending at start).
	reload bool
	// fresh: when the entry began, the store held no summary or tombstone
	// of the trace, and until its flush only that flush can write one (the
	// writers' claim), so the flush summarises it as new without asking
	// seen or the store again: a bloom filter's false positive cost a
	// lookup in stage and again in the flush. A requeued entry is not
	// fresh: a failed Apply may have stored part of what it wrote.
	fresh bool
	// first and last are when the entry took its first and its latest
	// documents: a trace is quiet FlushDelay after its last.
	first, last time.Time
	taken       bool // by a flush; later documents start a new entry
	// counted is the change whose statistics a refused Apply of this
	// entry added without its summary (store.StatsStoredError): the retry
	// takes them back (store.TraceUpdate.Counted).
	counted *store.CountedChange
	// one holds docs' first document: most entries have one.
	one [1]*segment.Segment
	// slot is the trace's in the set while the entry is queued or in
	// flight; nil for an entry that was never queued.
	slot *traceSlot
}

// pendingSet holds the traces awaiting summaries, oldest first; those a
// flush is summarising (in flight) until their summary is stored and
// cached; and which writers own which traces (claim). What it knows of a
// trace is one slot in one map: four maps by trace id (queued, in flight,
// writers, wanted) cost ~13 lookups of a random key per trace, ~2.5% of
// single-segment ingest's CPU. A writer's claim hands it its traces'
// slots, and a queued or flying entry points to its own: ~3 lookups.
type pendingSet struct {
	mu sync.Mutex
	// t has a slot for every trace queued, in flight, claimed or wanted,
	// and for no other (dropLocked).
	t     map[string]*traceSlot
	queue []*pendingEntry // by first; taken entries are skipped
	raw   int
	// queued and flying count the slots with such an entry.
	queued, flying int
	// flyRaw is the raw bytes of the entries in flight.
	flyRaw int
	// wanted are the slots a take waits to have from their writers.
	wanted []*traceSlot
	// spare are dropped slots kept for new traces (a slot per trace was
	// an allocation per trace); at most maxSpareSlots.
	spare []*traceSlot
	// changed is signalled when entries land or writers release.
	changed *sync.Cond
	// now is the clock of quiet periods (tests replace it).
	now func() time.Time
	// waiting, set by tests, runs when a claim starts to wait.
	waiting func()
	// claimWait bounds a claim's wait (the constant; tests shorten it).
	claimWait time.Duration
}

// traceSlot is what the set knows of one trace.
type traceSlot struct {
	id     string
	queued *pendingEntry // awaiting its flush (not taken)
	flying *pendingEntry // taken by a flush, until it lands
	// writing counts the writers that claimed the trace (claim); wanted:
	// a take waits to have it from them.
	writing int
	wanted  bool
}

func newPendingSet() *pendingSet {
	p := &pendingSet{t: map[string]*traceSlot{}, now: time.Now, claimWait: claimWait}
	p.changed = sync.NewCond(&p.mu)
	return p
}

// maxSpareSlots bounds the dropped slots kept: a flush lands a few
// thousand traces at a time under load, and writers then begin as many.
const maxSpareSlots = 8192

// slotLocked is id's slot, made if it has none.
func (p *pendingSet) slotLocked(id string) *traceSlot {
	s := p.t[id]
	if s == nil {
		if n := len(p.spare); n > 0 {
			s, p.spare = p.spare[n-1], p.spare[:n-1]
			s.id = id
		} else {
			s = &traceSlot{id: id}
		}
		p.t[id] = s
	}
	return s
}

// dropLocked removes a slot that no longer holds anything. A kept slot
// may be another trace's later: an entry that still points to it after
// its flight (e.slot) finds another flight there, or none (land).
func (p *pendingSet) dropLocked(s *traceSlot) {
	if s.queued == nil && s.flying == nil && s.writing == 0 && !s.wanted {
		delete(p.t, s.id)
		if len(p.spare) < maxSpareSlots {
			s.id = ""
			p.spare = append(p.spare, s)
		}
	}
}

// claim makes the calling writer an owner of the traces, with any other
// writers: until it calls release no flush takes them. It appends their
// slots to dst, in the order of ids: the claim keeps them in the set, so
// the writer reaches them without a lookup (queuedIn, staged.slot,
// release).
//
// A trace a flush holds (in flight) is claimed at once when flights do
// not hold (a shared store): its flush clears only the pending marks of
// the documents it read, as it must anyway for other processes' writes to
// the trace, so the writer's documents start a new entry, summarised
// after that flight lands (flushes run one at a time, flushMu). Otherwise
// (the embedded store, whose flush clears every mark of its traces, so a
// write in between would leave documents no mark covers, whose summary a
// crash would then lose) the claim waits for the flight, and for a take
// that wants the trace (waitWritersLocked), at most p.claimWait: past it
// nothing is claimed and ok is false. The caller holds no stripe lock
// while it waits, so calls of other traces go on.
func (p *pendingSet) claim(ids []string, dst []*traceSlot, flightsHold bool) (_ []*traceSlot, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(dst)
	var timer *time.Timer
	expired := false
	for {
		// Claimed as they are checked, one lookup each; a trace held
		// undoes the claims before it (all under the lock, so nothing
		// sees them) and waits.
		held := false
		for _, id := range ids {
			s := p.slotLocked(id)
			if s.wanted || flightsHold && s.flying != nil {
				held = true
				break
			}
			s.writing++
			dst = append(dst, s)
		}
		if !held {
			if timer != nil {
				timer.Stop()
			}
			return dst, true
		}
		p.releaseLocked(dst[n:])
		dst = dst[:n]
		if expired {
			return dst, false
		}
		if timer == nil {
			if p.waiting != nil {
				p.waiting()
			}
			// Only a claim that waits pays for a timer (the set's lock
			// is held here, and while the func runs only after Wait).
			timer = time.AfterFunc(p.claimWait, func() {
				p.mu.Lock()
				defer p.mu.Unlock()
				expired = true
				p.changed.Broadcast()
			})
		}
		p.changed.Wait()
	}
}

// claimWait bounds how long a call waits to claim a trace a flush holds
// (pendingSet.claim): a flush of the embedded store takes milliseconds,
// but one of a shared store's (its reads and INSERTs) took seconds under
// load, and the X-Ray SDKs and daemon time out and retry; a throttle
// (ErrTraceBusy) answers them at once, and they retry it.
const claimWait = time.Second

// release ends a writer's claim of the slots claim gave it.
func (p *pendingSet) release(slots []*traceSlot) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.releaseLocked(slots)
	p.changed.Broadcast()
}

func (p *pendingSet) releaseLocked(slots []*traceSlot) {
	for _, s := range slots {
		s.writing--
		p.dropLocked(s)
	}
}

// waitWritersLocked waits until no writer holds one of the traces to take
// (slots yields their slots, looked up again after every wait). Traces it
// waits for are wanted: new writers wait for the take, so that a busy
// trace cannot keep Sync waiting.
func (p *pendingSet) waitWritersLocked(slots func(yield func(*traceSlot) bool)) {
	defer func() {
		for _, s := range p.wanted {
			s.wanted = false
			p.dropLocked(s)
		}
		clear(p.wanted)
		p.wanted = p.wanted[:0]
		p.changed.Broadcast()
	}()
	for {
		busy := false
		for s := range slots {
			if s.writing > 0 {
				busy = true
				if !s.wanted {
					s.wanted = true
					p.wanted = append(p.wanted, s)
				}
			}
		}
		if !busy {
			return
		}
		p.changed.Wait()
	}
}

// queuedIn is the queued entry of a slot the caller claimed, or nil.
func (p *pendingSet) queuedIn(s *traceSlot) *pendingEntry {
	p.mu.Lock()
	defer p.mu.Unlock()
	return s.queued
}

func (p *pendingSet) get(id string) *pendingEntry {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.t[id]; s != nil {
		return s.queued
	}
	return nil
}

// add queues staged writes: a call's, under one lock and one clock read.
func (p *pendingSet) add(sts ...*staged) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	for _, st := range sts {
		p.addLocked(st, now)
	}
}

func (p *pendingSet) addLocked(st *staged, now time.Time) {
	s := st.slot // the writer's claim keeps it in the set
	if s == nil {
		s = p.slotLocked(st.id)
	}
	e := s.queued
	if e == nil {
		e = &pendingEntry{id: st.id, epoch: st.epoch, first: now, fresh: st.fresh, slot: s}
		e.docs = trace.Trace{ID: st.id, Docs: e.one[:0]}
		s.queued = e
		p.queued++
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
func (p *pendingSet) rawBytes() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.raw
}

// memBytes is the size of the documents awaiting or undergoing summaries.
func (p *pendingSet) memBytes() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.raw + p.flyRaw
}

// takeLocked moves an entry from the queue into flight.
func (p *pendingSet) takeLocked(e *pendingEntry) {
	e.taken = true
	s := e.slot
	s.queued = nil
	p.queued--
	p.raw -= e.raw
	if s.flying == nil {
		p.flying++
	}
	s.flying = e
	p.flyRaw += e.raw
}

// land ends the flight of entries whose flush is done: their summary is
// stored and cached, or they were requeued.
func (p *pendingSet) land(es []*pendingEntry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range es {
		// An entry that never flew (found pending at start) has no slot; a
		// landed one's slot may be gone from the set, and holds no flight.
		if s := e.slot; s != nil && s.flying == e {
			s.flying = nil
			p.flying--
			p.flyRaw -= e.raw
			p.dropLocked(s)
		}
	}
	p.changed.Broadcast()
}

// idle reports that nothing is queued or in flight.
func (p *pendingSet) idle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.queued == 0 && p.flying == 0
}

// takeReady removes the entries quiet since before quiet or waiting since
// before oldest, and more, oldest first, while the set holds over limit
// bytes.
func (p *pendingSet) takeReady(quiet, oldest time.Time, limit int) []*pendingEntry {
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
		if e.slot.writing > 0 {
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
func (p *pendingSet) take(ids []string) []*pendingEntry {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*pendingEntry
	if len(ids) == 0 {
		// Writers merging into queued traces: what those hold was
		// acknowledged, and it is theirs until they are done.
		p.waitWritersLocked(func(yield func(*traceSlot) bool) {
			for _, s := range p.t {
				if s.queued != nil && !yield(s) {
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
	p.waitWritersLocked(func(yield func(*traceSlot) bool) {
		for _, id := range ids {
			if s := p.t[id]; s != nil && !yield(s) {
				return
			}
		}
	})
	for _, id := range ids {
		if s := p.t[id]; s != nil && s.queued != nil {
			out = append(out, s.queued)
			p.takeLocked(s.queued)
		}
	}
	return out
}

// size is the number of traces awaiting summaries.
func (p *pendingSet) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.queued
}

// requeue puts back entries whose flush failed, to be retried after
// FlushDelay; documents that arrived since stay the newer versions.
func (p *pendingSet) requeue(es []*pendingEntry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	for _, old := range es {
		s := p.slotLocked(old.id)
		e := &pendingEntry{id: old.id, epoch: old.epoch, bytes: old.bytes, raw: old.raw, slot: s,
			docs:          trace.Trace{ID: old.id, Docs: append([]*segment.Segment(nil), old.docs.Docs...)},
			limitExceeded: old.limitExceeded, reload: old.reload, first: now, last: now, counted: old.counted}
		if newer := s.queued; newer != nil {
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
		} else {
			p.queued++
		}
		s.queued = e
		p.queue = append(p.queue, e)
		p.raw += e.raw
	}
}
