// Package ingest is the one path every segment document takes into the
// store, whatever carried it (UDP datagrams, PutTraceSegments, OTLP spans).
//
// Documents are parsed, validated and written to the store at once (write.go):
// what a caller is told was accepted is durable. A trace's summary, its
// index terms and the hooks (service-graph statistics) are derived from all
// of its documents, and its segments arrive one by one within a second or so,
// so that work waits until the trace has been quiet for FlushDelay and is
// then done once for all of them (flush.go). Reads that depend on summaries
// call Sync first; a crash in between loses nothing: the store keeps a pending
// mark that Recover turns into a summary at the next start.
package ingest

import (
	"context"
	"errors"
	"hash/maphash"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/metrics"
	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/store"
)

// MaxTraceBytes caps one trace's stored documents. X-Ray truncates at 500 kB;
// Roentgen keeps far more and refuses only beyond this, marking the trace
// LimitExceeded.
const MaxTraceBytes = 16 << 20

// CodeTraceTooLarge rejects documents of a trace over MaxTraceBytes.
const CodeTraceTooLarge = "TraceTooLarge"

// CodeInternal rejects documents the store failed to persist.
const CodeInternal = "InternalFailure"

// CodeThrottled rejects documents refused by ErrThrottled, where a caller
// reports per document (Ingest, and the documents-rejected metric).
const CodeThrottled = "ThrottledException"

// ErrThrottled refuses a whole call because the work waiting in memory is
// at its bound (Config.MaxPendingBytes): nothing of the call was stored and
// the client should retry later. The API answers ThrottledException (429),
// OTLP its retryable ResourceExhausted, UDP counts the batch as dropped.
var ErrThrottled = errors.New("ingest is at its memory bound: retry later")

// ErrTraceBusy refuses a whole call one of whose traces a flush held for
// longer than claimWait (pendingSet.claim): nothing of the call was
// stored. It is a throttle (errors.Is(err, ErrThrottled)), which clients
// retry.
var ErrTraceBusy error = throttle("a trace of the call is being summarised: retry later")

// throttle is a refusal of a whole call that callers answer as
// ErrThrottled.
type throttle string

func (e throttle) Error() string        { return string(e) }
func (e throttle) Is(target error) bool { return target == ErrThrottled }

// CodeStorageFull rejects documents refused because the store's disk is
// full; the same documents are taken once space is freed.
const CodeStorageFull = "StorageFull"

// Hook observes summarised updates, in order per trace, after they are stored.
type Hook func(ctx context.Context, updates []store.TraceUpdate)

// Config configures an Ingester.
type Config struct {
	Store   store.Store
	Metrics *metrics.Metrics // optional
	Logger  *slog.Logger     // optional
	// Now is the clock (default time.Now); tests inject one.
	Now func() time.Time
	// CacheBytes bounds the recently summarised traces kept parsed in memory
	// so that a late segment does not re-read and re-parse its whole trace.
	CacheBytes int
	// FlushDelay is how long a trace stays quiet before its summary is
	// computed (default 1s; Sync does it at once).
	FlushDelay time.Duration
	// PendingBytes bounds the documents awaiting their summary; beyond it
	// the oldest are summarised early (default 32 MiB).
	PendingBytes int
	// MaxPendingBytes bounds, in raw document bytes, the work ingest holds
	// in memory: documents awaiting or undergoing their summary plus those
	// of calls not yet answered (their callers hold the requests). A call
	// that would cross it is refused with ErrThrottled (default 4 x
	// PendingBytes).
	MaxPendingBytes int
	// MaxFlushDelay bounds how long a trace that never goes quiet waits
	// for its summary (default 10 x FlushDelay).
	MaxFlushDelay time.Duration
}

// Ingester is safe for concurrent use. Close stops it.
type Ingester struct {
	cfg   Config
	cache *cache
	locks [256]sync.Mutex // per trace stripe: writes of one trace in order
	seed  maphash.Seed
	pend  *pendingSet
	seen  *seen

	// flightsHold: a flush in flight holds its traces from writers
	// (pendingSet.claim), on any but a shared store; fixed at New.
	flightsHold bool
	storing     storing     // writes in flight to a DocPreparer store (storing.go)
	scratch     scratchList // calls' arrays, kept for the next (scratch.go)
	// reparsed counts stored documents decoded again (reparse.go).
	reparsed atomic.Int64
	// afterTick, set by tests, runs after each turn of the flush loop.
	afterTick atomic.Pointer[func()]
	// calling is the raw bytes of the calls being ingested now.
	calling atomic.Int64 // traces this process summarised, to skip lookups for new ones

	calls atomic.Uint64 // calls offered (Activity)

	flushMu sync.Mutex // one flush at a time: each builds on the last
	// backpressureWait bounds how long a call over twice PendingBytes
	// waits for the flush under way (tests shorten it); flushEnd is
	// closed when that flush lands (backpressure).
	backpressureWait time.Duration
	flushEndMu       sync.Mutex
	flushEnd         chan struct{}
	kick             chan struct{}
	stop             chan struct{}
	stopped          sync.WaitGroup
	closing          sync.Once

	mu       sync.RWMutex
	hooks    []Hook
	derivers []Deriver // derive.go
	keeper   Keeper    // keep.go
}

// maxBackpressureWait bounds how long a call over twice PendingBytes waits
// for a flush under way: a client's call completes within about that (or
// is refused, past MaxPendingBytes), however slow the store's summaries.
const maxBackpressureWait = time.Second

// New returns an Ingester and starts its background flush.
func New(cfg Config) *Ingester {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.CacheBytes == 0 {
		// 64 MiB (by the estimate in cache.go, which undercounts parsed
		// traces: ~2.5x in the heap) holds seconds of traffic, which is
		// how long a trace's segments trickle in; 256 MiB measured no
		// faster and cost 700 MB more resident memory.
		cfg.CacheBytes = 64 << 20
	}
	if cfg.FlushDelay <= 0 {
		cfg.FlushDelay = time.Second
	}
	if cfg.PendingBytes <= 0 {
		cfg.PendingBytes = 32 << 20
	}
	if cfg.MaxPendingBytes <= 0 {
		cfg.MaxPendingBytes = 4 * cfg.PendingBytes
	}
	if cfg.MaxFlushDelay < cfg.FlushDelay {
		cfg.MaxFlushDelay = 10 * cfg.FlushDelay
	}
	in := &Ingester{cfg: cfg, cache: newCache(cfg.CacheBytes), seed: maphash.MakeSeed(),
		pend: newPendingSet(), seen: newSeen(cfg.Now()), kick: make(chan struct{}, 1), stop: make(chan struct{}),
		backpressureWait: maxBackpressureWait, flightsHold: !store.IsShared(cfg.Store)}
	if cfg.Metrics != nil {
		cfg.Metrics.WatchPending(func() float64 { return float64(in.pend.size()) })
	}
	in.stopped.Add(1)
	go in.flushLoop()
	return in
}

// AddHook registers a hook; hooks run in registration order.
func (in *Ingester) AddHook(h Hook) {
	in.mu.Lock()
	in.hooks = append(in.hooks, h)
	in.mu.Unlock()
}

// Now is the ingester's clock.
func (in *Ingester) Now() time.Time { return in.cfg.Now() }

// Options describe where documents came from.
type Options struct {
	// Source labels metrics: "udp", "api", "otlp".
	Source string
	// SkipTraceEpoch accepts trace ids whose epoch part is not a time.
	SkipTraceEpoch bool
}

// Rejection is one document that was not stored.
type Rejection struct {
	// Index is the document's position in the call's input.
	Index int
	*segment.Error
}

// Ingest parses, validates and stores raw documents. Valid documents are
// stored even when others in the same call are rejected. It keeps nothing
// of docs' memory (segment.Parse copies each document), so callers reuse
// their buffers. A call refused by ErrThrottled has every document
// rejected with CodeThrottled; callers that answer such a refusal as a
// whole use TryIngest.
func (in *Ingester) Ingest(ctx context.Context, docs [][]byte, opt Options) []Rejection {
	rejected, err := in.TryIngest(ctx, docs, opt)
	if err != nil {
		rejected = make([]Rejection, len(docs))
		for i := range docs {
			rejected[i] = Rejection{Index: i, Error: &segment.Error{Code: CodeThrottled, Message: err.Error()}}
		}
	}
	return rejected
}

// TryIngest is Ingest that refuses the whole call with ErrThrottled, storing
// nothing, when ingest holds MaxPendingBytes of work in memory, or with
// ErrTraceBusy (a throttle too) when a flush holds one of its traces for
// longer than claimWait.
func (in *Ingester) TryIngest(ctx context.Context, docs [][]byte, opt Options) ([]Rejection, error) {
	size := 0
	for _, d := range docs {
		size += len(d)
	}
	if !in.admit(size) {
		in.countThrottled(opt.Source, len(docs))
		return nil, ErrThrottled
	}
	// Counted until the call returns: its caller holds the request until
	// then, also while backpressure makes it wait.
	defer in.calling.Add(-int64(size))
	sc := in.callScratch()
	defer in.doneWith(sc)
	var rejected []Rejection
	segs := sc.segs[:0]
	origin := sc.origin[:0]
	defer func() { sc.segs, sc.origin = segs, origin }()
	popt := segment.Options{Now: in.cfg.Now(), SkipTraceEpoch: opt.SkipTraceEpoch}.Prepared()
	for i, raw := range docs {
		n := len(segs)
		var err error
		segs, err = segment.AppendParse(segs, raw, popt)
		if err != nil {
			var se *segment.Error
			if !errors.As(err, &se) {
				se = &segment.Error{Code: segment.CodeMalformed, Message: err.Error()}
			}
			rejected = append(rejected, Rejection{Index: i, Error: se})
			continue
		}
		for range segs[n:] {
			origin = append(origin, i)
		}
	}
	applied, err := in.apply(ctx, segs, sc)
	if err != nil {
		in.countThrottled(opt.Source, len(docs))
		return nil, err
	}
	for _, r := range applied {
		rejected = append(rejected, Rejection{Index: origin[r.Index], Error: r.Error})
	}
	in.backpressure()
	sort.SliceStable(rejected, func(i, j int) bool { return rejected[i].Index < rejected[j].Index })
	rejected = dedupe(rejected)
	in.count(opt.Source, len(docs), rejected)
	return rejected, nil
}

// IngestSegments stores documents that are already parsed and validated
// (each with Raw set), as the OTLP translation produces them. A refused
// call has every document rejected with CodeThrottled.
func (in *Ingester) IngestSegments(ctx context.Context, segs []*segment.Segment, source string) []Rejection {
	rejected, err := in.TryIngestSegments(ctx, segs, source)
	if err != nil {
		rejected = make([]Rejection, len(segs))
		for i, s := range segs {
			rejected[i] = Rejection{Index: i, Error: &segment.Error{ID: s.ID, Code: CodeThrottled, Message: err.Error()}}
		}
	}
	return rejected
}

// TryIngestSegments is IngestSegments that refuses the whole call with
// ErrThrottled, as TryIngest does.
func (in *Ingester) TryIngestSegments(ctx context.Context, segs []*segment.Segment, source string) ([]Rejection, error) {
	size := 0
	for _, s := range segs {
		size += len(s.Raw)
	}
	if !in.admit(size) {
		in.countThrottled(source, len(segs))
		return nil, ErrThrottled
	}
	defer in.calling.Add(-int64(size))
	sc := in.callScratch()
	defer in.doneWith(sc)
	rejected, err := in.apply(ctx, segs, sc)
	if err != nil {
		in.countThrottled(source, len(segs))
		return nil, err
	}
	in.backpressure()
	in.count(source, len(segs), rejected)
	return rejected, nil
}

// Activity counts the calls ingest has been offered: while it stays the
// same, no traffic arrives (the app trims memory when idle).
func (in *Ingester) Activity() uint64 { return in.calls.Load() }

// Trim releases what ingest keeps only to go faster, as an idle server
// should: its cache of parsed traces (later segments of a trace re-read
// it), the filters of traces summarised (seen: traces filed in the next
// MaxFuture then cost a store lookup each), and the room its pending set's
// maps grew to.
func (in *Ingester) Trim() {
	in.cache.clear()
	in.seen.forget(in.cfg.Now())
	in.pend.trim()
}

// Saturated reports that ingest holds MaxPendingBytes of work, so that a
// call now would be refused: a transport can refuse one before it reads it.
func (in *Ingester) Saturated() bool {
	return int(in.calling.Load())+in.pend.memBytes() > in.cfg.MaxPendingBytes
}

// admit reserves size bytes of the memory bound for a call, or refuses it.
// A call alone is always admitted, however large: the bound is on what
// piles up, and a call's own size is bounded by its transport.
func (in *Ingester) admit(size int) bool {
	in.calls.Add(1)
	calling := in.calling.Add(int64(size))
	held := int(calling) + in.pend.memBytes()
	if held > in.cfg.MaxPendingBytes && held > size {
		in.calling.Add(-int64(size))
		return false
	}
	return true
}

func (in *Ingester) countThrottled(source string, n int) {
	if m := in.cfg.Metrics; m != nil {
		m.DocumentsReceived.WithLabelValues(source).Add(float64(n))
		m.DocumentsRejected.WithLabelValues(source, CodeThrottled).Add(float64(n))
	}
}

// count records a call's documents; rejected holds at most one rejection
// per document (dedupe), so accepted is never negative.
func (in *Ingester) count(source string, n int, rejected []Rejection) {
	m := in.cfg.Metrics
	if m == nil {
		return
	}
	m.DocumentsReceived.WithLabelValues(source).Add(float64(n))
	m.DocumentsAccepted.WithLabelValues(source).Add(float64(max(0, n-len(rejected))))
	for _, r := range rejected {
		m.DocumentsRejected.WithLabelValues(source, r.Code).Inc()
	}
}

// dedupe keeps one rejection per input document (an array document can fail
// in several elements).
func dedupe(r []Rejection) []Rejection {
	out := r[:0]
	for i, x := range r {
		if i > 0 && r[i-1].Index == x.Index {
			continue
		}
		out = append(out, x)
	}
	return out
}
