package ingest

import (
	"context"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
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
