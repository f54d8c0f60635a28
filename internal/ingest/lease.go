package ingest

import (
	"context"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// On a shared store that leases traces (store.TraceLeaser), a flush
// summarises only the traces whose lease it took, reads them after taking
// it, and releases them once their summaries are stored: two processes
// summarising one trace at once would each add statistics deltas against
// the same previous summary. A trace another process is summarising goes
// back to the queue and is retried after FlushDelay; Sync waits for it a
// little (syncLeaseWait), as a read that follows a write should see it.

// syncLeaseWait bounds how long Sync retries traces another process holds:
// a live process holds a lease for one batch of summaries.
const syncLeaseWait = 5 * time.Second

// lease returns the entries this process may summarise now and requeues
// the others, whose ids it returns. On an error it requeues everything.
func (in *Ingester) lease(ctx context.Context, es []*pendingEntry) (mine []*pendingEntry, refused []string, ok bool) {
	l, isLeaser := in.cfg.Store.(store.TraceLeaser)
	if !isLeaser || !store.IsShared(in.cfg.Store) {
		return es, nil, true
	}
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.id
	}
	got, err := l.LeaseTraces(ctx, ids)
	if err != nil {
		in.cfg.Logger.Error("lease traces to summarise", "traces", len(es), "err", err)
		in.pend.requeue(es)
		return nil, nil, false
	}
	held := make(map[string]bool, len(got))
	for _, id := range got {
		held[id] = true
	}
	var back []*pendingEntry
	for _, e := range es {
		if held[e.id] {
			mine = append(mine, e)
		} else {
			back = append(back, e)
			refused = append(refused, e.id)
		}
	}
	if len(back) > 0 {
		in.pend.requeue(back)
	}
	return mine, refused, true
}

// othersHolder is a leaser that tells, without claiming, which traces
// another process holds (the ClickHouse store).
type othersHolder interface {
	HeldByOthers(ctx context.Context, ids []string) ([]string, error)
}

// stillHeld splits ids, which a flush of Sync's found held by another
// process, into those free now and those still held. While the other
// process keeps a trace, Sync's retry costs this one read, not a flush's
// pending lookup and lease read (issue 17); once it lets go, the trace is
// flushed as usual, which finds it covered or leases it. On a store that
// cannot tell, or an error, all are free: the flush finds out.
func (in *Ingester) stillHeld(ids []string) (free, held []string) {
	oh, ok := in.cfg.Store.(othersHolder)
	if !ok || !store.IsShared(in.cfg.Store) {
		return ids, nil
	}
	taken, err := oh.HeldByOthers(context.Background(), ids)
	if err != nil {
		in.cfg.Logger.Warn("find traces other processes hold; flushing them", "traces", len(ids), "err", err)
		return ids, nil
	}
	if len(taken) == 0 {
		return ids, nil
	}
	is := make(map[string]bool, len(taken))
	for _, id := range taken {
		is[id] = true
	}
	for _, id := range ids {
		if is[id] {
			held = append(held, id)
		} else {
			free = append(free, id)
		}
	}
	return free, held
}

// uncovered are those of es whose documents a stored summary may not cover
// yet. On a shared store each trace split between processes is queued by
// each of them, and the one that summarises it first reads every stored
// document, the others' too, clearing exactly the pending marks whose
// documents it read (store.StalePending). A trace none of whose marks is
// pending any more is covered: every document this process stored for it
// (their marks were committed before they were queued) is in a stored
// summary, so summarising it again would read, summarise and write the
// same thing. That costs one SELECT per flush, and saves the covered
// traces' lease claim, reads, summaries and INSERTs. Entries reloaded
// from the store were found pending, and one that refused a document
// (MaxTraceBytes) must record it: both are summarised. If the lookup
// fails, every trace is.
func (in *Ingester) uncovered(ctx context.Context, es []*pendingEntry) []*pendingEntry {
	sp, ok := in.cfg.Store.(store.StalePending)
	if !ok || !store.IsShared(in.cfg.Store) {
		return es
	}
	var ask []string
	for _, e := range es {
		if !e.reload && !e.limitExceeded {
			ask = append(ask, e.id)
		}
	}
	if len(ask) == 0 {
		return es
	}
	pending, err := sp.PendingAmong(ctx, ask)
	if err != nil {
		in.cfg.Logger.Warn("find traces whose documents other summaries covered; summarising them all", "traces", len(ask), "err", err)
		return es
	}
	still := make(map[string]bool, len(pending))
	for _, id := range pending {
		still[id] = true
	}
	out := es[:0:0]
	for _, e := range es {
		// A trace with statistics counted ahead of its summary is
		// summarised again, whoever covered its documents, to take them back.
		if e.reload || e.limitExceeded || still[e.id] || e.counted != nil {
			out = append(out, e)
		}
	}
	return out
}

// release gives up the leases of es (nothing on other stores).
func (in *Ingester) release(ctx context.Context, es []*pendingEntry) {
	l, isLeaser := in.cfg.Store.(store.TraceLeaser)
	if !isLeaser || !store.IsShared(in.cfg.Store) || len(es) == 0 {
		return
	}
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.id
	}
	if err := l.ReleaseTraces(ctx, ids); err != nil {
		// The leases lapse on their own; meanwhile other processes wait.
		in.cfg.Logger.Warn("release trace leases", "traces", len(ids), "err", err)
	}
}

// Adopt summarises, on a shared store, the traces left pending since before
// by other processes (store.StalePending): documents a process acknowledged
// and died before summarising. Traces a live process is summarising are
// skipped by their lease. It returns how many traces it looked at.
func (in *Ingester) Adopt(ctx context.Context, before time.Time) (int, error) {
	sp, ok := in.cfg.Store.(store.StalePending)
	if !ok || !store.IsShared(in.cfg.Store) {
		return 0, nil
	}
	var ids []string
	if err := sp.PendingBefore(ctx, before, func(id string) bool { ids = append(ids, id); return true }); err != nil {
		return 0, err
	}
	in.flushMu.Lock()
	defer in.flushMu.Unlock()
	for lo := 0; lo < len(ids); lo += recoverBatch {
		part := ids[lo:min(lo+recoverBatch, len(ids))]
		es := make([]*pendingEntry, 0, len(part))
		for _, id := range in.pend.notQueued(part) {
			es = append(es, &pendingEntry{id: id, docs: trace.Trace{ID: id}, reload: true})
		}
		in.flush(es)
	}
	return len(ids), nil
}

// notQueued are the ids this process neither queues nor is writing: its own
// pending traces it summarises itself.
func (p *pendingSet) notQueued(ids []string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, id := range ids {
		if s := p.t[id]; s == nil || s.queued == nil && s.flying == nil && s.writing == 0 {
			out = append(out, id)
		}
	}
	return out
}

// othersPending are those of ids (none: nothing) that this process does not
// hold but whose documents wait for a summary in a shared store: another
// process stored them, and has not summarised them yet or died first. A
// read of those traces (BatchGetTraces, GetTraceGraph) summarises them
// itself, under their leases, so that it sees every acknowledged document.
func (in *Ingester) othersPending(ctx context.Context, ids []string) []string {
	sp, ok := in.cfg.Store.(store.StalePending)
	if len(ids) == 0 || !ok || !store.IsShared(in.cfg.Store) {
		return nil
	}
	ids = in.pend.notQueued(ids)
	if len(ids) == 0 {
		return nil
	}
	out, err := sp.PendingAmong(ctx, ids)
	if err != nil {
		in.cfg.Logger.Warn("find traces other processes have not summarised; reading them as stored", "err", err)
		return nil
	}
	return out
}

// withOthers adds to a flush's entries reloads of others, the traces
// another process left pending, except those the flush holds already.
func withOthers(es []*pendingEntry, others []string) []*pendingEntry {
	if len(others) == 0 {
		return es
	}
	have := make(map[string]bool, len(es))
	for _, e := range es {
		have[e.id] = true
	}
	for _, id := range others {
		if !have[id] {
			have[id] = true
			es = append(es, &pendingEntry{id: id, docs: trace.Trace{ID: id}, reload: true})
		}
	}
	return es
}
