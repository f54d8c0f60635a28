package ingest

import "github.com/roentgen-tracing/roentgen/internal/store"

// Deriver fills in what is derived from a batch of updates and must be
// stored in the same write as their summaries (the service-graph
// statistics deltas, store.TraceUpdate.Stats). It runs on the flush path
// before Apply, again if Apply is retried, so it must be a pure function of
// the updates and must not block.
type Deriver func(updates []store.TraceUpdate)

// AddDeriver registers a deriver; derivers run in registration order.
func (in *Ingester) AddDeriver(d Deriver) {
	in.mu.Lock()
	in.derivers = append(in.derivers, d)
	in.mu.Unlock()
}

func (in *Ingester) derive(updates []store.TraceUpdate) {
	in.mu.RLock()
	ds := in.derivers
	in.mu.RUnlock()
	for _, d := range ds {
		d(updates)
	}
}
