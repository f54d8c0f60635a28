package ingest

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"sort"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// staged is one trace's share of a write: the documents to store and queue.
type staged struct {
	id            string
	epoch         int64
	docs          trace.Trace
	bytes         int // the trace's bytes after this write, as far as known
	limitExceeded bool
	idx           []int // positions in the call's segments of docs
}

// apply writes parsed top-level documents to the store and queues their
// traces for summarising (flush.go). Rejection.Index refers to segs.
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

	var rejected []Rejection
	rejectAll := func(idx []int, code, msg string) {
		for _, i := range idx {
			rejected = append(rejected, Rejection{Index: i, Error: &segment.Error{ID: segs[i].ID, Code: code, Message: msg}})
		}
	}
	stages := make([]*staged, 0, len(order))
	puts := make([]store.DocPut, 0, len(order))
	for _, id := range order {
		idx := byTrace[id]
		st, err := in.stage(ctx, id, segs, idx, &rejected)
		if err != nil {
			in.cfg.Logger.Error("read trace", "trace_id", id, "err", err)
			rejectAll(idx, CodeInternal, "the trace could not be read: "+err.Error())
			continue
		}
		if len(st.docs.Docs) == 0 && !st.limitExceeded {
			continue // repeats of stored documents: accepted, nothing to do
		}
		stages = append(stages, st)
		if len(st.docs.Docs) > 0 {
			docs := make([]store.Doc, len(st.docs.Docs))
			for i, d := range st.docs.Docs {
				docs[i] = store.Doc{ID: d.ID, Raw: d.Raw}
			}
			puts = append(puts, store.DocPut{TraceID: id, Epoch: st.epoch, Docs: docs})
		}
	}
	if len(puts) > 0 {
		if err := in.cfg.Store.PutDocs(ctx, puts); err != nil {
			in.cfg.Logger.Error("store documents", "err", err)
			code := CodeInternal
			if errors.Is(err, store.ErrDiskFull) {
				code = CodeStorageFull
			}
			for _, st := range stages {
				rejectAll(st.idx, code, "the segment could not be stored: "+err.Error())
			}
			return rejected
		}
	}
	for _, st := range stages {
		in.pend.add(st)
	}
	return rejected
}

// backpressure keeps the documents awaiting summaries bounded: over
// PendingBytes the background flush starts early; over four times that
// (summarising falls behind ingest) the caller summarises the oldest
// itself before it is answered, which slows its client down.
func (in *Ingester) backpressure() {
	raw := in.pend.rawBytes()
	if raw <= in.cfg.PendingBytes {
		return
	}
	if raw <= 4*in.cfg.PendingBytes {
		select {
		case in.kick <- struct{}{}:
		default:
		}
		return
	}
	in.flushMu.Lock()
	defer in.flushMu.Unlock()
	in.flush(in.pend.takeReady(time.Now().Add(-in.cfg.FlushDelay), in.cfg.PendingBytes))
}

// stage decides, for one trace, its epoch and which of its documents in
// this call are new, enforcing MaxTraceBytes.
func (in *Ingester) stage(ctx context.Context, id string, segs []*segment.Segment, idx []int, rejected *[]Rejection) (*staged, error) {
	st := &staged{id: id, docs: trace.Trace{ID: id}}
	// What is already known of the trace: documents awaiting their summary,
	// then the last summarised state in the cache.
	var pending, base *trace.Trace
	pe := in.pend.get(id)
	cached := in.cache.get(id)
	switch {
	case pe != nil:
		st.epoch, st.bytes, pending = pe.epoch, pe.bytes, &pe.docs
		if cached != nil {
			base = cached.trace
		}
	case cached != nil:
		st.epoch, st.bytes, base = cached.summary.Epoch, cached.bytes, cached.trace
	default:
		start := math.Inf(1)
		inProgress := false
		for _, i := range idx {
			start = min(start, segs[i].StartTime)
			inProgress = inProgress || segs[i].InProgress
		}
		if inProgress {
			// An in-progress document must not replace a complete one
			// already stored: only the stored trace can tell.
			e, ep, err := in.load(ctx, id)
			if err != nil {
				return nil, err
			}
			if e.summary != nil {
				// Not cached: a flush of this trace may be under way, and
				// only a flush may set the state the next one builds on.
				st.epoch, st.bytes, base = ep, e.bytes, e.trace
				break
			}
		}
		ep, err := in.epochFor(ctx, id, start)
		if err != nil {
			return nil, err
		}
		st.epoch = ep
	}
	for _, i := range idx {
		s := segs[i]
		old := st.docs.Find(s.ID)
		if old == nil && pending != nil {
			old = pending.Find(s.ID)
		}
		if old == nil && base != nil {
			old = base.Find(s.ID)
		}
		if old != nil && !trace.Replaces(old, s) {
			continue
		}
		if st.bytes+len(s.Raw) > MaxTraceBytes {
			*rejected = append(*rejected, Rejection{Index: i, Error: &segment.Error{ID: s.ID, Code: CodeTraceTooLarge,
				Message: fmt.Sprintf("Invalid segment. ErrorCode: %s: trace %s already holds %d bytes; the limit is %d", CodeTraceTooLarge, id, st.bytes, MaxTraceBytes)}})
			st.limitExceeded = true
			continue
		}
		if st.docs.Put(s) {
			st.bytes += len(s.Raw)
			st.idx = append(st.idx, i)
		}
	}
	return st, nil
}

// epochFor is the epoch a trace not in memory is filed under: its id's, as
// X-Ray ids carry the time of the original request, unless that is far from
// the trace's times (ids converted from W3C ones are random there), when it
// is the one already recorded for the trace, or else the segment's start.
func (in *Ingester) epochFor(ctx context.Context, id string, start float64) (int64, error) {
	ep, err := in.epochOf(ctx, id, start)
	// Never later than MaxFuture from now, which seen relies on (a foreign
	// trace's start time is the client's to choose).
	return min(ep, in.cfg.Now().Add(segment.DefaultMaxFuture).Unix()), err
}

func (in *Ingester) epochOf(ctx context.Context, id string, start float64) (int64, error) {
	ep := trace.EpochOf(id, start)
	idEpoch, ok := segment.TraceEpoch(id)
	if ok && ep == idEpoch {
		return ep, nil
	}
	stored, err := in.cfg.Store.ForeignEpoch(ctx, id)
	if err == nil {
		return stored, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return 0, err
	}
	if ok {
		// A skewed clock on a trace already stored under its id's epoch.
		_, err := in.cfg.Store.Head(ctx, id)
		if err == nil {
			return idEpoch, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return 0, err
		}
	}
	return ep, nil
}

// load reads a trace's summarised state and documents from the store.
func (in *Ingester) load(ctx context.Context, id string) (*entry, int64, error) {
	e := &entry{trace: &trace.Trace{ID: id}}
	st, err := in.cfg.Store.Trace(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return e, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	if st.Summary != nil {
		e.summary, e.limitExceeded = st.Summary, st.Summary.LimitExceeded
	}
	for _, d := range st.Docs {
		// Stored documents were validated on the way in; only re-decode.
		parsed, err := segment.Parse(d.Raw, segment.Options{SkipTraceEpoch: true})
		if err != nil {
			in.cfg.Logger.Warn("stored document does not parse", "trace_id", id, "id", d.ID, "err", err)
			continue
		}
		e.trace.Docs = append(e.trace.Docs, parsed...)
		e.bytes += len(d.Raw)
	}
	return e, st.Epoch, nil
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
