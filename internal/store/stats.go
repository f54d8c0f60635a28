package store

import "context"

// StatsStore keeps the service graph's pre-aggregated statistics
// (internal/graph): one opaque value per resolution, time bucket, group and
// entity (a node or an edge). The graph package owns the value format and
// merges deltas into values; the store only persists and scans them, and
// drops them with their time partition (DropBefore).
type StatsStore interface {
	// PutStats writes records, replacing stored values; a nil Value deletes
	// the record. Records of one call are applied atomically.
	PutStats(ctx context.Context, recs []StatRecord) error
	// GetStat returns one record's value, or ErrNotFound.
	GetStat(ctx context.Context, k StatKey) ([]byte, error)
	// Stats calls fn for the records of one resolution and group whose
	// bucket lies in [q.From, q.To) and whose entity q.Want accepts (all
	// when nil), in no promised order. r.Value is only valid during fn. fn
	// returns false to stop.
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

// StatRecord is a key and its value.
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
