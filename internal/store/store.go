// Package store defines what Roentgen keeps and how it is asked for it. Every
// backend (the embedded Pebble store today, a distributed database later)
// implements Store and must pass the conformance suite in store/storetest.
//
// The store is deliberately unaware of X-Ray semantics: the ingest path
// assembles traces and computes summaries; the store persists documents,
// summaries, the index terms of summaries, and small metadata records, and
// drops whole time partitions for retention.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// ErrNotFound is returned for an unknown trace or metadata key.
var ErrNotFound = errors.New("not found")

// ErrDropped is Head's answer for a trace keep policies dropped: it has no
// summary (errors.Is(ErrDropped, ErrNotFound) holds, so readers need not
// tell the two apart), and a late document of it is to be dropped too.
var ErrDropped = fmt.Errorf("%w: dropped by keep policies", ErrNotFound)

// ErrDiskFull refuses a write while the store's disk is (nearly) full;
// nothing of the write was stored. Writes are taken again once space is
// freed, without a restart; reads go on meanwhile.
var ErrDiskFull = errors.New("the store's disk is full")

// ErrUnavailable refuses a write the store cannot take until restarted.
var ErrUnavailable = errors.New("the store cannot take writes")

// ErrBusy refuses an operation the store is too loaded to take now (a
// ClickHouse server whose merges lag behind inserts): nothing of a refused
// write was stored, and the same write is taken once the load eases, so
// clients are told to slow down and retry (ThrottledException).
var ErrBusy = errors.New("the store is overloaded: retry later")

// Store is the storage contract.
type Store interface {
	// PutDocs persists documents ahead of their trace's summary, which the
	// ingest path computes once for many documents. Each trace it writes is
	// marked pending, and Pending lists it, until an Apply for that trace:
	// so a crash between the two loses no summary. A crash during the call
	// may leave some of its traces marked without their documents (recovery
	// passes over them), never documents without their mark.
	PutDocs(ctx context.Context, puts []DocPut) error

	// Pending calls fn for every trace that PutDocs marked and no Apply has
	// summarised since (after a crash, the ingest path recomputes them).
	Pending(ctx context.Context, fn func(traceID string) bool) error

	// Apply persists, for each trace, its new or replaced documents and its
	// recomputed summary, replacing the index terms of Previous with those of
	// Summary, adds its statistics deltas (written atomically with the
	// summary: both or neither), and clears the trace's pending mark. Marks are cleared last,
	// after the summaries: a crash during the call leaves its traces
	// pending, to be summarised again, with at most some of their new
	// documents, index terms and summaries already written.
	Apply(ctx context.Context, updates []TraceUpdate) error

	// Trace returns a trace's documents (latest version per id, in arrival
	// order) and summary, or ErrNotFound when it has neither. Summary is nil
	// while the trace's documents are pending.
	Trace(ctx context.Context, traceID string) (*StoredTrace, error)

	// Head returns a trace's summary alone, or ErrNotFound when it has none
	// (ErrDropped when keep policies dropped it).
	Head(ctx context.Context, traceID string) (*trace.Summary, error)

	// LatestEpoch is the largest Epoch of any stored summary or drop
	// tombstone, 0 when there is none: a trace filed later has neither yet.
	LatestEpoch(ctx context.Context) (int64, error)

	// ForeignEpoch returns the epoch a trace is filed under when that is not
	// the epoch its id carries (ids converted from W3C trace ids carry
	// random bits there), or ErrNotFound when it is filed under its id's.
	ForeignEpoch(ctx context.Context, traceID string) (int64, error)

	// Summaries calls fn for the summaries of traces whose Epoch lies in
	// [q.From, q.To), newest first (descending Epoch, then descending trace
	// id), resuming strictly after q.After. With q.AnyOf set, only traces
	// indexed under at least one of those terms are visited, each once
	// (and with q.AllOf, under a term of each of its sets). The embedded
	// store may rarely visit a trace that is not (a short posting entry
	// whose trace is gone names another of its second: ~7 in 10^4 such
	// entries); callers test each summary against their filter anyway.
	// fn returns false to stop.
	Summaries(ctx context.Context, q SummaryQuery, fn func(*trace.Summary) bool) error

	// Metadata: small records such as sampling rules, groups and telemetry,
	// kept in named kinds and listed in key order.
	PutMeta(ctx context.Context, kind, key string, value []byte) error
	GetMeta(ctx context.Context, kind, key string) ([]byte, error)
	DeleteMeta(ctx context.Context, kind, key string) error
	ListMeta(ctx context.Context, kind string, fn func(key string, value []byte) bool) error

	// DropBefore removes, in bulk, every time partition that ends at or
	// before t (traces, summaries and index terms). It returns how many
	// partitions it dropped.
	DropBefore(ctx context.Context, t time.Time) (int, error)

	// DiskUsage is the store's size on disk in bytes (0 if not on disk).
	DiskUsage() int64

	// Service-graph statistics (stats.go).
	StatsStore

	Close() error
}

// TraceUpdate is one trace's change.
type TraceUpdate struct {
	TraceID string
	// Epoch partitions and orders the trace (trace.Summary.Epoch).
	Epoch int64
	// Docs are put by id, replacing a stored document with the same id.
	Docs []Doc
	// Summary is the trace's summary after this change.
	Summary *trace.Summary
	// Previous is the summary this one replaces, nil for a new trace. Stores
	// use it to drop index terms that no longer hold.
	Previous *trace.Summary
	// Stats are the service-graph statistics deltas of this change
	// (contribution of Summary minus that of Previous, stats.go), added to
	// their records in the same atomic write as Summary. A deriver may sum
	// the deltas of a whole Apply and carry them on one of its updates
	// (graph.Aggregator.Prepare does): stores add every update's Stats in
	// the write that holds all the summaries of the Apply.
	Stats []StatRecord
	// Counted, when set, is a change of the trace whose deltas a failed
	// Apply added without storing its summary (StatsStoredError): the
	// deriver takes them back in Stats (its Previous's contribution added,
	// its Summary's subtracted), so that each change counts once. Stores
	// ignore it.
	Counted *CountedChange
	// Drop says the trace is not kept (keep policies): the store adds Stats
	// and clears the pending mark as for any update, but deletes the
	// trace's documents (under Epoch and Previous's epoch) and any stored
	// summary, and writes neither Summary nor its index terms. It leaves a
	// tombstone under Epoch, written with the statistics and dropped with
	// Epoch's partition, by which Head answers ErrDropped and Trace sets
	// StoredTrace.Dropped, so that late documents are dropped too after the
	// decision has left memory; a foreign epoch's alias stays, so that they
	// are filed where the tombstone is. Summary is still set: it is what
	// Stats were computed from. Stores whose DropsTraces is false
	// (shared.go) are never sent it.
	Drop bool
}

// DocPut is one trace's documents, written ahead of its summary.
type DocPut struct {
	TraceID string
	// Epoch is the epoch the trace is filed under (see TraceUpdate).
	Epoch int64
	Docs  []Doc
}

// Doc is one top-level document as received.
type Doc struct {
	ID  string
	Raw []byte
}

// StoredTrace is a trace as stored.
type StoredTrace struct {
	ID      string
	Epoch   int64
	Docs    []Doc
	Summary *trace.Summary
	// Dropped says keep policies dropped the trace (TraceUpdate.Drop):
	// Summary is nil and Docs are documents that arrived since, awaiting
	// the summary that drops them too.
	Dropped bool
}

// SummaryQuery selects summaries by time and, optionally, index terms.
type SummaryQuery struct {
	// From and To bound Epoch: From <= Epoch < To (epoch seconds).
	From, To int64
	// AnyOf and AnyIn, when either is not empty, restrict the scan to
	// traces indexed under at least one of the terms of AnyOf or of the
	// ranges of AnyIn.
	AnyOf []Term
	AnyIn []TermRange
	// AllOf restricts them further, a conjunction: to traces indexed under
	// a term of each of its sets as well (an empty set: none). Stores
	// intersect the posting lists before reading summaries; one may leave
	// a set unchecked where its lists prove far longer than the candidates
	// (checking would cost more than reading them), so it narrows the
	// candidates, and a caller tests each summary it is handed anyway.
	AllOf []TermSet
	// After resumes a scan strictly after this position (zero: from To).
	After Cursor
}

// Cursor is a position in the newest-first order of summaries.
type Cursor struct {
	Epoch   int64
	TraceID string
}

// IsZero reports whether the cursor is unset.
func (c Cursor) IsZero() bool { return c.TraceID == "" }

// CursorOf is the position of a summary.
func CursorOf(s *trace.Summary) Cursor { return Cursor{Epoch: s.Epoch, TraceID: s.TraceID} }

// Before reports whether position a comes after position b in newest-first
// order, i.e. a is older.
func (a Cursor) Before(b Cursor) bool {
	if a.Epoch != b.Epoch {
		return a.Epoch < b.Epoch
	}
	return a.TraceID < b.TraceID
}

// PartitionSeconds is the width of a retention partition. Retention drops
// whole partitions, so data lives up to one partition longer than asked.
const PartitionSeconds = 3600

// PartitionOf is the partition start (epoch seconds) holding Epoch e.
func PartitionOf(e int64) int64 { return e - e%PartitionSeconds }

// Conjunction is q's term sets as one set read first and the rest, the
// AllOf sets a store intersects it with; none reports that a set is empty
// and nothing can match, any that the query names no term at all.
func (q SummaryQuery) Conjunction() (first TermSet, rest []TermSet, any, none bool) {
	first = TermSet{Terms: q.AnyOf, Ranges: q.AnyIn}
	rest = q.AllOf
	if first.Empty() && len(rest) > 0 {
		first, rest = rest[0], rest[1:]
	}
	for _, s := range q.AllOf {
		none = none || s.Empty()
	}
	return first, rest, !first.Empty() || none, none
}
