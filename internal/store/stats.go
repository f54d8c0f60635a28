package store

import "context"

// StatsStore keeps the service graph's pre-aggregated statistics
// (internal/graph): additive records per resolution, time bucket, group and
// entity (a node or an edge).
//
// Statistics are only ever added to, never read and rewritten: each
// TraceUpdate carries the deltas its change makes (TraceUpdate.Stats), and
// Apply writes them in the same atomic write as the trace's summary. So a
// crash keeps a trace's summary and its statistics together or loses both
// (the trace stays pending and is summarised again), a bucket of a coarse
// resolution stays the exact sum of its finer ones (the graph package writes
// the same delta to each), and several processes may write one store.
//
// The graph package owns the value format: a value is one encoded delta or
// several concatenated, and backends sum nothing they do not understand. A
// backend may combine the deltas of one record as it compacts (Pebble's
// merge operator does, given the graph's combiner), and Stats may report one
// record more than once; readers sum everything they are given for a key.
type StatsStore interface {
	// AddStats adds deltas not tied to a trace's update (tools, rebuilds,
	// benchmarks); records of one call are added atomically.
	AddStats(ctx context.Context, recs []StatRecord) error
	// Stats calls fn for the records of one resolution and group whose
	// bucket lies in [q.From, q.To) and whose entity q.Want accepts (all
	// when nil), in no promised order, possibly several times for one key.
	// r.Value is only valid during fn. fn returns false to stop.
	Stats(ctx context.Context, q StatQuery, fn func(r StatRecord) bool) error
}

// Resolutions the statistics are kept at, in seconds. Every bucket of a
// coarser resolution is the exact sum of the finer buckets it covers, so a
// long window reads few records.
var StatResolutions = []int64{60, 300, 3600}

// StatKey names one statistics record.
type StatKey struct {
	// Resolution is the bucket width in seconds (one of StatResolutions).
	Resolution int64
	// Bucket is the bucket start (epoch seconds, a multiple of Resolution).
	Bucket int64
	// Group is the group the record counts traces of ("Default": all).
	Group string
	// Entity names the node or edge (internal/graph encodes it).
	Entity string
}

// StatRecord is a key and its value: a delta to add (TraceUpdate.Stats) or
// deltas added (Stats).
type StatRecord struct {
	StatKey
	Value []byte
}

// StatQuery selects records of one resolution and group by bucket.
type StatQuery struct {
	Resolution int64
	Group      string
	// From <= Bucket < To (epoch seconds).
	From, To int64
	// Want, when set, selects entities; backends use it to skip the
	// records of other entities without reading them.
	Want func(entity string) bool
}
