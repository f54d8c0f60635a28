package ingest

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/keep"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// flushLoop summarises traces once they have been quiet for FlushDelay.
func (in *Ingester) flushLoop() {
	defer in.stopped.Done()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	turns := sharedFlushTurns // since the last flush that took traces
	for {
		kicked := false
		select {
		case <-in.stop:
			return
		case <-tick.C:
		case <-in.kick:
			kicked = true
		}
		if turns++; kicked || turns >= sharedFlushTurns || !store.IsShared(in.cfg.Store) {
			in.flushMu.Lock()
			es := in.takeReady()
			if len(es) > 0 {
				turns = 0
			}
			in.flush(es)
			in.flushMu.Unlock()
		}
		if h := in.afterTick.Load(); h != nil {
			(*h)()
		}
	}
}

// sharedFlushTurns is how many turns of the flush loop (100 ms ticks) a
// process on a shared store gathers ready traces into one flush: a flush
// costs its INSERTs (a lease claim, Apply's stages, one per table) nearly
// whatever its size, and a flush per tick made up to ~60 of them a second
// per process under steady load. Over PendingBytes (a kick) it flushes at
// once. Reads do not wait for it: they Sync what they read.
const sharedFlushTurns = 10

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
	others := in.othersPending(ctx, ids)
	if len(ids) == 0 && in.pend.idle() {
		return
	}
	in.flushMu.Lock()
	defer in.flushMu.Unlock()
	refused := in.flush(withOthers(in.pend.take(ids), others))
	// Traces another process is summarising (lease.go): retried until it
	// is done, within a bound.
	start := time.Now()
	for wait := 5 * time.Millisecond; len(refused) > 0 && time.Since(start) < syncLeaseWait; wait = min(2*wait, 200*time.Millisecond) {
		time.Sleep(wait)
		free, held := in.stillHeld(refused)
		refused = held
		if len(free) > 0 {
			refused = append(refused, in.flush(in.pend.take(free))...)
		}
	}
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

// sharedPerWorker is the fewest entries a flush gives a core of its own on
// a shared store. There each part makes its own round trips (the pending
// lookup, a lease claim and its read-back, three reads) and its own Apply,
// ~60 ms of the server's CPU whatever its size on ClickHouse 18.16, against
// ~0.13 ms of summarising per trace here: split at 64, a flush of a few
// hundred traces cost the server twice its queries (issue 17).
const sharedPerWorker = 1024

// flush summarises entries on every core. Entries of one trace are never in
// two concurrent flushes (flushMu), so each builds on the state the last
// one cached. It returns the traces another process holds the lease of,
// requeued (lease.go).
func (in *Ingester) flush(es []*pendingEntry) (refused []string) {
	if len(es) == 0 {
		return nil
	}
	defer in.flushEnded() // after land
	defer in.pend.land(es)
	perWorker := 64
	if store.IsShared(in.cfg.Store) {
		perWorker = sharedPerWorker
	}
	workers := min(runtime.GOMAXPROCS(0), (len(es)+perWorker-1)/perWorker)
	if workers <= 1 {
		return in.flushPart(es)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	size := (len(es) + workers - 1) / workers
	for lo := 0; lo < len(es); lo += size {
		part := es[lo:min(lo+size, len(es))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := in.flushPart(part)
			mu.Lock()
			refused = append(refused, r...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return refused
}

func (in *Ingester) flushPart(es []*pendingEntry) (refused []string) {
	ctx := context.Background()
	if es = in.uncovered(ctx, es); len(es) == 0 {
		return nil
	}
	es, refused, ok := in.lease(ctx, es)
	if !ok || len(es) == 0 {
		return refused
	}
	defer in.release(ctx, es)
	nowSec := float64(in.cfg.Now().UnixNano()) / 1e9
	updates := make([]store.TraceUpdate, 0, len(es))
	states := make([]*entry, 0, len(es))
	var failed, done []*pendingEntry
	// takeBack are traces another process dropped since this one's Apply
	// was refused with their statistics stored: no update of theirs takes
	// those back, so they are taken back on their own.
	var takeBack []*pendingEntry
	// decisions[i] is the keep decision updates[i] took (made: one was).
	var decisions []decision
	pre, err := in.prefetch(ctx, es)
	if err != nil {
		in.cfg.Logger.Error("read traces to summarise", "traces", len(es), "err", err)
		in.pend.requeue(es)
		return refused
	}
	for _, e := range es {
		b, cached, err := in.base(ctx, e, pre)
		if err != nil {
			in.cfg.Logger.Error("read trace to summarise", "trace_id", e.id, "err", err)
			failed = append(failed, e)
			continue
		}
		if b == nil {
			continue // gone: dropped by retention while pending
		}
		// The state before this change; an entry only this flush holds
		// becomes the next state itself, only the cache's is copied.
		base, next := *b, b
		if cached {
			next = b.clone()
		}
		if !base.dropped || !store.IsShared(in.cfg.Store) {
			next.trace.Put(e.docs.Docs...)
		} else if len(next.trace.Docs) == 0 {
			// Another process dropped the trace with these documents (a
			// shared store returns only those stored since, and every
			// document this process holds is stored): counted already.
			if e.counted != nil {
				takeBack = append(takeBack, e)
			}
			continue
		}
		next.bytes = max(next.trace.Bytes(), e.bytes)
		next.limitExceeded = base.limitExceeded || e.limitExceeded
		sum := trace.SummarizeTrace(next.trace, base.summary, nowSec)
		if base.summary == nil {
			sum.Epoch = e.epoch // the documents were filed under it
		}
		sum.LimitExceeded = next.limitExceeded
		next.summary = sum
		drop, dec, decided := in.decide(&base, sum)
		next.dropped = drop
		// By value: a pointer per decision was an allocation per new trace.
		decisions = append(decisions, decision{dec, decided})
		updates = append(updates, store.TraceUpdate{TraceID: e.id, Epoch: sum.Epoch, Summary: sum, Previous: base.summary, Drop: drop, Counted: e.counted})
		states = append(states, next)
		done = append(done, e)
	}
	if len(updates) > 0 {
		in.derive(updates)
		if err := in.cfg.Store.Apply(ctx, updates); err != nil {
			in.cfg.Logger.Error("store summaries", "traces", len(updates), "err", err)
			var counted *store.StatsStoredError
			// Only a shared store returns it (the embedded store adds
			// statistics in the summaries' atomic batch), and what
			// follows relies on that: the retry re-reads the stored
			// state rather than this process's seen set.
			if errors.As(err, &counted) {
				// done[i] is updates[i]'s entry. Its statistics are in,
				// and with them the take-back of the change it carried:
				// this change is counted now. If it was stored too, the
				// retry builds on it (a stored summary is its Previous, a
				// tombstone makes the drop done); if not, the stored
				// state is still this change's Previous, and the retry
				// takes the change back. Any other failure stored no
				// statistics: what the entry carries is still owed.
				// A decision whose summary or tombstone was stored is
				// counted now: the retry builds on it and decides nothing.
				var taken []decision
				for i := range updates {
					done[i].counted = nil
					if u := &updates[i]; !counted.Stored(u) {
						done[i].counted = &store.CountedChange{Summary: u.Summary, Previous: u.Previous}
					} else {
						taken = append(taken, decisions[i])
					}
				}
				in.countDecisions(taken)
			}
			for _, u := range updates {
				in.cache.remove(u.TraceID)
			}
			in.pend.requeue(append(failed, done...))
			if len(takeBack) > 0 {
				// Owed whatever became of the other traces: their
				// tombstones cleared the marks, so no later flush
				// would come back for them.
				in.takeBackCounted(ctx, takeBack)
			}
			return refused
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
		in.countDecisions(decisions)
		in.mu.RLock()
		hooks := in.hooks
		in.mu.RUnlock()
		for _, h := range hooks {
			h(ctx, updates)
		}
	}
	if len(takeBack) > 0 {
		in.takeBackCounted(ctx, takeBack)
	}
	if len(failed) > 0 {
		in.pend.requeue(failed)
	}
	return refused
}

// decision is a keep decision, if one was made.
type decision struct {
	keep.Decision
	made bool
}

// countDecisions tells the keeper of the decisions (made ones) whose
// summaries or tombstones the store took.
func (in *Ingester) countDecisions(ds []decision) {
	in.mu.RLock()
	k := in.keeper
	in.mu.RUnlock()
	if k == nil {
		return
	}
	for _, d := range ds {
		if d.made {
			k.Counted(d.Decision)
		}
	}
}

// takeBackCounted subtracts, from the stored statistics, the changes a
// refused Apply counted for traces that will have no update of their own
// (es' counted), requeuing them if the store refuses.
func (in *Ingester) takeBackCounted(ctx context.Context, es []*pendingEntry) {
	ups := make([]store.TraceUpdate, len(es))
	for i, e := range es {
		ups[i] = store.TraceUpdate{TraceID: e.id, Counted: e.counted}
	}
	in.derive(ups)
	var recs []store.StatRecord
	for _, u := range ups {
		recs = append(recs, u.Stats...)
	}
	if len(recs) == 0 {
		return
	}
	if err := in.cfg.Store.AddStats(ctx, recs); err != nil {
		in.cfg.Logger.Error("take back statistics counted by a refused summary", "traces", len(es), "err", err)
		in.pend.requeue(es)
	}
}

// base is the state a pending entry's documents are merged into: the cached
// one (cached: the cache's entry, which must not change), or the store's;
// an empty one for a new trace; nil for a trace whose documents are gone.
func (in *Ingester) base(ctx context.Context, e *pendingEntry, pre map[string]*store.StoredTrace) (b *entry, cached bool, err error) {
	// On a shared store other processes write documents of the same trace:
	// only the store has them all, so the summary is computed from it.
	if !e.reload && !store.IsShared(in.cfg.Store) {
		// Most traces are new: their writer found so (fresh), seen knows
		// so for those filed since this process started, a summary lookup
		// (bloom filters) for the rest, none reading the documents just
		// written. A fresh trace is in no cache either: its writer found
		// none, and only a flush of it caches one, this one the first
		// (claim), so it skips that lookup too (a map miss per new trace).
		if e.fresh {
			return newEntry(e.id), false, nil
		}
		if c := in.cache.get(e.id); c != nil && c.trace != nil {
			return c, true, nil
		}
		if in.seen.isNew(e.id, e.epoch, in.cfg.Now()) {
			return newEntry(e.id), false, nil
		}
		_, err := in.cfg.Store.Head(ctx, e.id)
		if errors.Is(err, store.ErrNotFound) {
			// A tombstone: keep policies dropped the trace, and this late
			// part goes too, its statistics counted on their own.
			b := newEntry(e.id)
			b.dropped = errors.Is(err, store.ErrDropped)
			return b, false, nil
		}
		if err != nil {
			return nil, false, err
		}
	}
	var ep int64
	if pre != nil {
		b, ep = in.parseShared(e, pre[e.id])
	} else {
		if b, ep, err = in.load(ctx, e.id); err != nil {
			return nil, false, err
		}
	}
	if e.reload {
		if len(b.trace.Docs) == 0 {
			return nil, false, nil
		}
		e.epoch = ep
	}
	return b, false, nil
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
