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
}

// Ingester is safe for concurrent use. Close stops it.
type Ingester struct {
	cfg   Config
	cache *cache
	locks [256]sync.Mutex // per trace stripe: writes of one trace in order
	seed  maphash.Seed
	pend  pendingSet
	seen  *seen // traces this process summarised, to skip lookups for new ones

	flushMu sync.Mutex // one flush at a time: each builds on the last
	kick    chan struct{}
	stop    chan struct{}
	stopped sync.WaitGroup
	closing sync.Once

	mu    sync.RWMutex
	hooks []Hook
}

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
	in := &Ingester{cfg: cfg, cache: newCache(cfg.CacheBytes), seed: maphash.MakeSeed(),
		pend: newPendingSet(), seen: newSeen(cfg.Now()), kick: make(chan struct{}, 1), stop: make(chan struct{})}
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
// their buffers.
func (in *Ingester) Ingest(ctx context.Context, docs [][]byte, opt Options) []Rejection {
	var rejected []Rejection
	segs := make([]*segment.Segment, 0, len(docs))
	origin := make([]int, 0, len(docs))
	popt := segment.Options{Now: in.cfg.Now(), SkipTraceEpoch: opt.SkipTraceEpoch}
	for i, raw := range docs {
		parsed, err := segment.Parse(raw, popt)
		if err != nil {
			var se *segment.Error
			if !errors.As(err, &se) {
				se = &segment.Error{Code: segment.CodeMalformed, Message: err.Error()}
			}
			rejected = append(rejected, Rejection{Index: i, Error: se})
			continue
		}
		for _, s := range parsed {
			segs = append(segs, s)
			origin = append(origin, i)
		}
	}
	for _, r := range in.apply(ctx, segs) {
		rejected = append(rejected, Rejection{Index: origin[r.Index], Error: r.Error})
	}
	in.backpressure()
	in.count(opt.Source, len(docs), rejected)
	sort.SliceStable(rejected, func(i, j int) bool { return rejected[i].Index < rejected[j].Index })
	return dedupe(rejected)
}

// IngestSegments stores documents that are already parsed and validated
// (each with Raw set), as the OTLP translation produces them.
func (in *Ingester) IngestSegments(ctx context.Context, segs []*segment.Segment, source string) []Rejection {
	rejected := in.apply(ctx, segs)
	in.backpressure()
	in.count(source, len(segs), rejected)
	return rejected
}

func (in *Ingester) count(source string, n int, rejected []Rejection) {
	m := in.cfg.Metrics
	if m == nil {
		return
	}
	m.DocumentsReceived.WithLabelValues(source).Add(float64(n))
	m.DocumentsAccepted.WithLabelValues(source).Add(float64(n - len(rejected)))
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
