package store

import (
	"context"
	"time"
)

// TraceLeaser is implemented by shared stores (Sharer) so that two
// processes never summarise one trace at once: each would compute its
// statistics deltas against the same previous summary and the service
// graph would count the trace twice. A process summarises only the traces
// whose lease it holds, from a read made after taking it, and releases
// the lease once the summaries are stored.
type TraceLeaser interface {
	// LeaseTraces takes the lease of each of ids not held by another
	// process and returns those it took. A lease left by a process that
	// died lapses after a while (the store's choice).
	LeaseTraces(ctx context.Context, ids []string) ([]string, error)
	// ReleaseTraces gives up leases LeaseTraces returned.
	ReleaseTraces(ctx context.Context, ids []string) error
}

// StalePending is implemented by shared stores: the traces pending (since
// before a time), whose documents a process acknowledged and then, most
// likely, died before summarising (a live one summarises a trace within
// seconds). Any process may summarise them (under the trace's lease).
type StalePending interface {
	PendingBefore(ctx context.Context, before time.Time, fn func(traceID string) bool) error
	// PendingAmong are those of ids whose documents wait for a summary,
	// whichever process stored them.
	PendingAmong(ctx context.Context, ids []string) ([]string, error)
}
