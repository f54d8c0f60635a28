package store

import "context"

// Sharer is implemented by stores that several Roentgen processes write at
// once (the ClickHouse backend). The ingest path then trusts no state of its
// own process about a trace: it summarises a trace from all its stored
// documents, read back from the store, as another process may have written
// some of them.
type Sharer interface {
	Shared() bool
}

// IsShared reports whether other processes may write s too.
func IsShared(s Store) bool {
	sh, ok := s.(Sharer)
	return ok && sh.Shared()
}

// TraceReader is implemented by stores that read many traces in one round
// trip (a shared store's reads cross the network): what Trace returns for
// each of ids that the store holds, keyed by id, and for a trace keep
// policies dropped its tombstone (Dropped) even with no document since.
type TraceReader interface {
	Traces(ctx context.Context, ids []string) (map[string]*StoredTrace, error)
}

// DropReporter is implemented by stores that may not honour
// TraceUpdate.Drop: DropsTraces false means the ingest path must keep
// every trace (keep policies are refused). Stores that do not implement it
// honour Drop.
type DropReporter interface {
	DropsTraces() bool
}

// CanDrop reports whether s honours TraceUpdate.Drop.
func CanDrop(s Store) bool {
	d, ok := s.(DropReporter)
	return !ok || d.DropsTraces()
}
