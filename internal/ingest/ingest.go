// Package ingest is the one path every segment document takes into the
// store, whatever carried it (UDP datagrams, PutTraceSegments, OTLP spans):
// parse and validate, merge into the trace, recompute the trace's summary,
// persist, then tell the hooks (service-graph statistics, groups) what
// changed.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/metrics"
	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// MaxTraceBytes caps one trace's stored documents. X-Ray truncates at 500 kB;
// Roentgen keeps far more and refuses only beyond this, marking the trace
// LimitExceeded.
const MaxTraceBytes = 16 << 20

// CodeTraceTooLarge rejects documents of a trace over MaxTraceBytes.
const CodeTraceTooLarge = "TraceTooLarge"

// CodeInternal rejects documents the store failed to persist.
const CodeInternal = "InternalFailure"

// Hook observes applied updates, in order per trace, after they are stored.
type Hook func(ctx context.Context, updates []store.TraceUpdate)

// Config configures an Ingester.
type Config struct {
	Store   store.Store
	Metrics *metrics.Metrics // optional
	Logger  *slog.Logger     // optional
	// Now is the clock (default time.Now); tests inject one.
	Now func() time.Time
	// CacheBytes bounds the recently-updated traces kept parsed in memory so
	// that a late segment does not re-read and re-parse its whole trace.
	CacheBytes int
}

// Ingester is safe for concurrent use.
type Ingester struct {
	cfg   Config
	cache *cache
	locks [256]sync.Mutex
	seed  maphash.Seed

	mu    sync.RWMutex
	hooks []Hook
}

// New returns an Ingester.
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
	return &Ingester{cfg: cfg, cache: newCache(cfg.CacheBytes), seed: maphash.MakeSeed()}
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
// stored even when others in the same call are rejected.
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
	in.count(opt.Source, len(docs), rejected)
	sort.SliceStable(rejected, func(i, j int) bool { return rejected[i].Index < rejected[j].Index })
	return dedupe(rejected)
}

// IngestSegments stores documents that are already parsed and validated
// (each with Raw set), as the OTLP translation produces them.
func (in *Ingester) IngestSegments(ctx context.Context, segs []*segment.Segment, source string) []Rejection {
	rejected := in.apply(ctx, segs)
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

// apply merges parsed top-level documents into their traces and persists
// them. Rejection.Index refers to segs.
func (in *Ingester) apply(ctx context.Context, segs []*segment.Segment) []Rejection {
	if len(segs) == 0 {
		return nil
	}
	byTrace := map[string][]int{}
	var order []string
	for i, s := range segs {
		if _, ok := byTrace[s.TraceID]; !ok {
			order = append(order, s.TraceID)
		}
		byTrace[s.TraceID] = append(byTrace[s.TraceID], i)
	}
	unlock := in.lock(order)
	defer unlock()

	now := in.cfg.Now()
	nowSec := float64(now.UnixNano()) / 1e9
	var rejected []Rejection
	var updates []store.TraceUpdate
	var states []*entry
	for _, id := range order {
		idx := byTrace[id]
		cur, err := in.load(ctx, id)
		if err != nil {
			in.cfg.Logger.Error("load trace", "trace_id", id, "err", err)
			for _, i := range idx {
				rejected = append(rejected, Rejection{Index: i, Error: &segment.Error{ID: segs[i].ID, Code: CodeInternal, Message: "the trace could not be read: " + err.Error()}})
			}
			continue
		}
		next := cur.clone()
		var put []store.Doc
		for _, i := range idx {
			s := segs[i]
			if next.trace.Bytes()+len(s.Raw) > MaxTraceBytes {
				rejected = append(rejected, Rejection{Index: i, Error: &segment.Error{ID: s.ID, Code: CodeTraceTooLarge,
					Message: fmt.Sprintf("Invalid segment. ErrorCode: %s: trace %s already holds %d bytes; the limit is %d", CodeTraceTooLarge, id, next.trace.Bytes(), MaxTraceBytes)}})
				next.limitExceeded = true
				continue
			}
			if next.trace.Put(s) {
				put = append(put, store.Doc{ID: s.ID, Raw: s.Raw})
			}
		}
		if len(put) == 0 && next.limitExceeded == cur.limitExceeded {
			continue
		}
		sum := trace.Summarize(trace.Assemble(next.trace), cur.summary, nowSec)
		sum.LimitExceeded = next.limitExceeded
		next.summary = sum
		updates = append(updates, store.TraceUpdate{TraceID: id, Epoch: sum.Epoch, Docs: put, Summary: sum, Previous: cur.summary})
		states = append(states, next)
	}
	if len(updates) == 0 {
		return rejected
	}
	if err := in.cfg.Store.Apply(ctx, updates); err != nil {
		in.cfg.Logger.Error("store apply", "err", err)
		for _, u := range updates {
			in.cache.remove(u.TraceID)
			for _, i := range byTrace[u.TraceID] {
				rejected = append(rejected, Rejection{Index: i, Error: &segment.Error{ID: segs[i].ID, Code: CodeInternal, Message: "the segment could not be stored: " + err.Error()}})
			}
		}
		return rejected
	}
	for _, st := range states {
		in.cache.put(st)
	}
	in.mu.RLock()
	hooks := in.hooks
	in.mu.RUnlock()
	for _, h := range hooks {
		h(ctx, updates)
	}
	return rejected
}

// load returns a trace's current state from the cache or the store.
func (in *Ingester) load(ctx context.Context, id string) (*entry, error) {
	if e := in.cache.get(id); e != nil {
		return e, nil
	}
	st, err := in.cfg.Store.Trace(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return &entry{trace: &trace.Trace{ID: id}}, nil
	}
	if err != nil {
		return nil, err
	}
	e := &entry{trace: &trace.Trace{ID: id}, summary: st.Summary, limitExceeded: st.Summary.LimitExceeded}
	for _, d := range st.Docs {
		// Stored documents were validated on the way in; only re-decode.
		parsed, err := segment.Parse(d.Raw, segment.Options{SkipTraceEpoch: true})
		if err != nil {
			in.cfg.Logger.Warn("stored document does not parse", "trace_id", id, "id", d.ID, "err", err)
			continue
		}
		e.trace.Docs = append(e.trace.Docs, parsed...)
	}
	return e, nil
}

// lock takes the stripe locks of the given traces in a fixed order.
func (in *Ingester) lock(ids []string) func() {
	stripes := make([]int, 0, len(ids))
	seen := map[int]bool{}
	for _, id := range ids {
		s := int(maphash.String(in.seed, id) % uint64(len(in.locks)))
		if !seen[s] {
			seen[s] = true
			stripes = append(stripes, s)
		}
	}
	sort.Ints(stripes)
	for _, s := range stripes {
		in.locks[s].Lock()
	}
	return func() {
		for _, s := range stripes {
			in.locks[s].Unlock()
		}
	}
}
