package ingest

import (
	"context"
	"errors"
	"runtime"
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
	// first and last are when the entry took its first and its latest
	// documents: a trace is quiet FlushDelay after its last.
	first, last time.Time
	taken       bool // by a flush; later documents start a new entry
}

// pendingSet holds the traces awaiting summaries, oldest first, and those
// a flush is summarising (in flight) until their summary is stored and
// cached, so that a writer always finds a trace's latest state.
type pendingSet struct {
	mu     sync.Mutex
	m      map[string]*pendingEntry
	queue  []*pendingEntry // by first; taken entries are skipped
	raw    int
	flying map[string]*pendingEntry
	// flyRaw is the raw bytes of the entries in flight.
	flyRaw int
	// writing counts the writers that claimed each trace (claim).
	writing map[string]int
	// changed is signalled when entries land or writers release.
	changed *sync.Cond
	// now is the clock of quiet periods (tests replace it).
	now func() time.Time
}

func newPendingSet() *pendingSet {
	p := &pendingSet{m: map[string]*pendingEntry{}, flying: map[string]*pendingEntry{}, writing: map[string]int{}, now: time.Now}
	p.changed = sync.NewCond(&p.mu)
	return p
}

// claim makes the calling writer the owner of the traces: it waits until
// no flush holds any of them, and until it calls release no flush takes
// them. The flush that holds a trace clears its pending mark when it
// stores the summary, so a write in between would leave documents no mark
// covers, whose summary a crash would then lose; and a flush must not take
// documents a writer is still merging. One owner at a time, writer or flush.
func (p *pendingSet) claim(ids []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		for p.flying[id] != nil {
			p.changed.Wait()
		}
	}
	for _, id := range ids {
		p.writing[id]++
	}
}

// release ends a writer's claim.
func (p *pendingSet) release(ids []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		if p.writing[id]--; p.writing[id] <= 0 {
			delete(p.writing, id)
		}
	}
	p.changed.Broadcast()
}

// waitWritersLocked waits until no writer holds a trace of es.
func (p *pendingSet) waitWritersLocked(busy func() bool) {
	for busy() {
		p.changed.Wait()
	}
}

// lookup returns a trace's queued and in-flight entries, either may be nil.
func (p *pendingSet) lookup(id string) (queued, flying *pendingEntry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.m[id], p.flying[id]
}

func (p *pendingSet) get(id string) *pendingEntry {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.m[id]
}

// add queues a staged write.
func (p *pendingSet) add(st *staged) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	e := p.m[st.id]
	if e == nil {
		e = &pendingEntry{id: st.id, epoch: st.epoch, docs: trace.Trace{ID: st.id}, first: now}
		p.m[st.id] = e
		p.queue = append(p.queue, e)
	}
	e.last = now
	for _, d := range st.docs.Docs {
		if e.docs.Put(d) {
			e.raw += len(d.Raw)
			p.raw += len(d.Raw)
		}
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
	delete(p.m, e.id)
	p.raw -= e.raw
	p.flying[e.id] = e
	p.flyRaw += e.raw
}

// land ends the flight of entries whose flush is done: their summary is
// stored and cached, or they were requeued.
func (p *pendingSet) land(es []*pendingEntry) {
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
func (p *pendingSet) idle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.m) == 0 && len(p.flying) == 0
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
	var busy []*pendingEntry // old enough to look at, not quiet yet
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
	p.queue = append(busy, p.queue[n:]...)
	return out
}

// take removes the given traces' entries, or all with no ids.
func (p *pendingSet) take(ids []string) []*pendingEntry {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*pendingEntry
	if len(ids) == 0 {
		// What writers are merging now was acknowledged in part: wait.
		p.waitWritersLocked(func() bool { return len(p.writing) > 0 })
		for _, e := range p.queue {
			if !e.taken {
				p.takeLocked(e)
				out = append(out, e)
			}
		}
		p.queue = nil
		return out
	}
	p.waitWritersLocked(func() bool {
		for _, id := range ids {
			if p.writing[id] > 0 {
				return true
			}
		}
		return false
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
func (p *pendingSet) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.m)
}

// requeue puts back entries whose flush failed, to be retried after
// FlushDelay; documents that arrived since stay the newer versions.
func (p *pendingSet) requeue(es []*pendingEntry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	for _, old := range es {
		e := &pendingEntry{id: old.id, epoch: old.epoch, bytes: old.bytes, raw: old.raw,
			docs:          trace.Trace{ID: old.id, Docs: append([]*segment.Segment(nil), old.docs.Docs...)},
			limitExceeded: old.limitExceeded, reload: old.reload, first: now, last: now}
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

// flushLoop summarises traces once they have been quiet for FlushDelay.
func (in *Ingester) flushLoop() {
	defer in.stopped.Done()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-in.stop:
			return
		case <-tick.C:
		case <-in.kick:
		}
		in.flushMu.Lock()
		in.flush(in.takeReady())
		in.flushMu.Unlock()
	}
}

// takeReady takes the traces quiet for FlushDelay, those waiting for
// MaxFlushDelay however busy, and the oldest beyond PendingBytes.
func (in *Ingester) takeReady() []*pendingEntry {
	now := in.pend.now()
	return in.pend.takeReady(now.Add(-in.cfg.FlushDelay), now.Add(-in.cfg.MaxFlushDelay), in.cfg.PendingBytes)
}

// Sync summarises at once the given traces, or every pending one with no
// ids, so that a read that follows sees all acknowledged documents. It
// does not stop halfway for a canceled ctx: the summaries are owed anyway.
func (in *Ingester) Sync(ctx context.Context, ids ...string) {
	// Nothing queued is not enough: a flush may have taken entries and
	// not stored their summaries yet; waiting for flushMu waits for it.
	if len(ids) == 0 && in.pend.idle() {
		return
	}
	in.flushMu.Lock()
	defer in.flushMu.Unlock()
	in.flush(in.pend.take(ids))
}

// recoverBatch is how many pending traces Recover summarises at a time:
// after a crash under load there may be 100k of them, and holding every
// one parsed at once took ~2 GB, enough for a crash loop.
const recoverBatch = 512

// Recover summarises the traces the store holds as pending: documents
// acknowledged before a crash whose summary was not yet written. It holds
// at most recoverBatch of them in memory at a time.
func (in *Ingester) Recover(ctx context.Context) (int, error) {
	// Read before anything is summarised: every summary filed later than
	// this is this process's own, which seen remembers.
	latest, err := in.cfg.Store.LatestEpoch(ctx)
	if err != nil {
		return 0, err
	}
	in.seen.knowStoreUpTo(latest)
	var ids []string // ids only: small next to the traces they name
	err = in.cfg.Store.Pending(ctx, func(id string) bool {
		ids = append(ids, id)
		return true
	})
	if err != nil {
		return 0, err
	}
	in.flushMu.Lock()
	defer in.flushMu.Unlock()
	for lo := 0; lo < len(ids); lo += recoverBatch {
		part := ids[lo:min(lo+recoverBatch, len(ids))]
		es := make([]*pendingEntry, len(part))
		for i, id := range part {
			es[i] = &pendingEntry{id: id, docs: trace.Trace{ID: id}, reload: true}
		}
		in.flush(es)
	}
	return len(ids), nil
}

// Close stops the background flush and summarises everything pending.
func (in *Ingester) Close() {
	in.closing.Do(func() {
		close(in.stop)
		in.stopped.Wait()
		in.Sync(context.Background())
	})
}

// flush summarises entries on every core. Entries of one trace are never in
// two concurrent flushes (flushMu), so each builds on the state the last
// one cached.
func (in *Ingester) flush(es []*pendingEntry) {
	if len(es) == 0 {
		return
	}
	defer in.pend.land(es)
	const perWorker = 64
	workers := min(runtime.GOMAXPROCS(0), (len(es)+perWorker-1)/perWorker)
	if workers <= 1 {
		in.flushPart(es)
		return
	}
	var wg sync.WaitGroup
	size := (len(es) + workers - 1) / workers
	for lo := 0; lo < len(es); lo += size {
		part := es[lo:min(lo+size, len(es))]
		wg.Add(1)
		go func() { defer wg.Done(); in.flushPart(part) }()
	}
	wg.Wait()
}

func (in *Ingester) flushPart(es []*pendingEntry) {
	ctx := context.Background()
	nowSec := float64(in.cfg.Now().UnixNano()) / 1e9
	updates := make([]store.TraceUpdate, 0, len(es))
	states := make([]*entry, 0, len(es))
	var failed, done []*pendingEntry
	pre, err := in.prefetch(ctx, es)
	if err != nil {
		in.cfg.Logger.Error("read traces to summarise", "traces", len(es), "err", err)
		in.pend.requeue(es)
		return
	}
	for _, e := range es {
		base, err := in.base(ctx, e, pre)
		if err != nil {
			in.cfg.Logger.Error("read trace to summarise", "trace_id", e.id, "err", err)
			failed = append(failed, e)
			continue
		}
		if base == nil {
			continue // gone: dropped by retention while pending
		}
		next := base.clone()
		next.trace.Put(e.docs.Docs...)
		next.bytes = max(next.trace.Bytes(), e.bytes)
		next.limitExceeded = base.limitExceeded || e.limitExceeded
		sum := trace.Summarize(trace.Assemble(next.trace), base.summary, nowSec)
		if base.summary == nil {
			sum.Epoch = e.epoch // the documents were filed under it
		}
		sum.LimitExceeded = next.limitExceeded
		next.summary = sum
		updates = append(updates, store.TraceUpdate{TraceID: e.id, Epoch: sum.Epoch, Summary: sum, Previous: base.summary})
		states = append(states, next)
		done = append(done, e)
	}
	if len(updates) > 0 {
		in.derive(updates)
		if err := in.cfg.Store.Apply(ctx, updates); err != nil {
			in.cfg.Logger.Error("store summaries", "traces", len(updates), "err", err)
			for _, u := range updates {
				in.cache.remove(u.TraceID)
			}
			in.pend.requeue(append(failed, done...))
			return
		}
		ids := make([]string, len(updates))
		for i, st := range states {
			in.cache.put(st)
			ids[i] = updates[i].TraceID
		}
		in.seen.add(ids, in.cfg.Now())
		if m := in.cfg.Metrics; m != nil {
			m.TracesSummarised.Add(float64(len(updates)))
		}
		in.mu.RLock()
		hooks := in.hooks
		in.mu.RUnlock()
		for _, h := range hooks {
			h(ctx, updates)
		}
	}
	if len(failed) > 0 {
		in.pend.requeue(failed)
	}
}

// base is the state a pending entry's documents are merged into: the cached
// one, or the store's; an empty one for a new trace; nil for a trace whose
// documents are gone.
func (in *Ingester) base(ctx context.Context, e *pendingEntry, pre map[string]*store.StoredTrace) (*entry, error) {
	// On a shared store other processes write documents of the same trace:
	// only the store has them all, so the summary is computed from it.
	if !e.reload && !store.IsShared(in.cfg.Store) {
		if c := in.cache.get(e.id); c != nil && c.trace != nil {
			return c, nil
		}
		// Most traces are new: seen knows so for those filed since this
		// process started, a summary lookup (bloom filters) for the rest,
		// neither reading the documents just written.
		if in.seen.isNew(e.id, e.epoch, in.cfg.Now()) {
			return &entry{trace: &trace.Trace{ID: e.id}}, nil
		}
		_, err := in.cfg.Store.Head(ctx, e.id)
		if errors.Is(err, store.ErrNotFound) {
			return &entry{trace: &trace.Trace{ID: e.id}}, nil
		}
		if err != nil {
			return nil, err
		}
	}
	var b *entry
	var ep int64
	if pre != nil {
		b, ep = in.parseStored(e.id, pre[e.id])
	} else {
		var err error
		if b, ep, err = in.load(ctx, e.id); err != nil {
			return nil, err
		}
	}
	if e.reload {
		if len(b.trace.Docs) == 0 {
			return nil, nil
		}
		e.epoch = ep
	}
	return b, nil
}

// prefetch reads, from a shared store that reads many traces at once, the
// stored state of every trace of a flush (nil for other stores, which base
// reads trace by trace when it must).
func (in *Ingester) prefetch(ctx context.Context, es []*pendingEntry) (map[string]*store.StoredTrace, error) {
	r, ok := in.cfg.Store.(store.TraceReader)
	if !ok || !store.IsShared(in.cfg.Store) {
		return nil, nil
	}
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.id
	}
	return r.Traces(ctx, ids)
}
