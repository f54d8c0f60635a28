package store

import "context"

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
