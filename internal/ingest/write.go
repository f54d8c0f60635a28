package ingest

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	mathbits "math/bits"
	"slices"
	"sync"
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
	// fresh: the store was found to hold no summary of the trace (stored),
	// so its flush need not ask again (pendingEntry.fresh).
	fresh bool
	// slot is the trace's in the pending set, which the writer claimed.
	slot *traceSlot
}

// apply writes parsed top-level documents to the store and queues their
// traces for summarising (flush.go). Rejection.Index refers to segs.
// A call that cannot claim its traces in time (pendingSet.claim) stores
// nothing and returns ErrTraceBusy.
func (in *Ingester) apply(ctx context.Context, segs []*segment.Segment, sc *callScratch) ([]Rejection, error) {
	if len(segs) == 0 {
		return nil, nil
	}
	order, groups := sc.byTrace(segs)
	// The claim before the stripe locks: a claim may wait for a flush,
	// and calls of other traces in those stripes must not wait with it.
	slots, ok := in.pend.claim(order, sc.slots[:0], in.flightsHold)
	if !ok {
		sc.slots = slots[:0]
		return nil, ErrTraceBusy
	}
	defer func() {
		in.pend.release(slots)
		clear(slots)
		sc.slots = slots[:0]
	}()
	unlock := sync.OnceFunc(in.lock(order))
	defer unlock()
	now := in.cfg.Now() // once per call: a clock read per trace was ~0.5% of ingest's CPU

	var rejected []Rejection
	rejectAll := func(idx []int, code, msg string) {
		for _, i := range idx {
			rejected = append(rejected, Rejection{Index: i, Error: &segment.Error{ID: segs[i].ID, Code: code, Message: msg}})
		}
	}
	stages := sc.stages[:0]
	puts := sc.puts[:0]
	// One array each for the call's staged traces, their documents and
	// their store.Docs, carved per trace (with no room past a trace's
	// share, so that appending cannot reach the next): a few allocations
	// per trace, for calls of 50 single-segment traces, were a tenth of
	// the allocations of the whole ingest path. None of it outlives the
	// call (the scratch's, kept for the next: scratch.go).
	slab := grown(sc.slab, len(order))
	docSlab := grown(sc.docSlab, len(segs))
	putArr := grown(sc.putSlab, len(segs))
	putSlab := putArr
	defer func() {
		sc.stages, sc.puts, sc.slab, sc.docSlab, sc.putSlab = stages, puts, slab, docSlab, putArr
	}()
	off := 0
	for n, id := range order {
		idx := groups[n]
		st := &slab[n]
		*st = staged{id: id, slot: slots[n], docs: trace.Trace{ID: id, Docs: docSlab[off : off : off+len(idx)]}}
		off += len(idx)
		err := in.stage(ctx, st, segs, idx, now, &rejected)
		if err != nil {
			in.cfg.Logger.Error("read trace", "trace_id", id, "err", err)
			rejectAll(idx, storeErrorCode(err), "the trace could not be read: "+err.Error())
			continue
		}
		if len(st.docs.Docs) == 0 && !st.limitExceeded {
			continue // repeats of stored documents: accepted, nothing to do
		}
		stages = append(stages, st)
		if len(st.docs.Docs) > 0 {
			docs := putSlab[:len(st.docs.Docs):len(st.docs.Docs)]
			putSlab = putSlab[len(docs):]
			for i, d := range st.docs.Docs {
				docs[i] = store.Doc{ID: d.ID, Raw: d.Raw}
			}
			puts = append(puts, store.DocPut{TraceID: id, Epoch: st.epoch, Docs: docs})
		}
	}
	if len(puts) > 0 {
		put := func() error { return in.cfg.Store.PutDocs(ctx, puts) }
		if p := in.preparer(); p != nil {
			// The versions are fixed now: the round trip needs no lock, and
			// concurrent writes of these traces share its INSERTs.
			commit := p.PrepareDocs(puts)
			in.storing.add(stages)
			defer in.storing.remove(stages) // after they are queued below
			unlock()
			put = func() error { return commit(ctx) }
		}
		if err := put(); err != nil {
			in.cfg.Logger.Error("store documents", "err", err)
			code := storeErrorCode(err)
			// Every document of the refused traces not rejected already:
			// also those a version in this call superseded (an in-progress
			// one after its complete one), which would otherwise be
			// acknowledged and stored nowhere.
			done := make(map[int]bool, len(rejected))
			for _, r := range rejected {
				done[r.Index] = true
			}
			for _, st := range stages {
				if len(st.docs.Docs) == 0 {
					continue // nothing of it was put
				}
				var idx []int
				for _, i := range groups[slices.Index(order, st.id)] {
					if !done[i] {
						idx = append(idx, i)
					}
				}
				rejectAll(idx, code, "the segment could not be stored: "+err.Error())
			}
			return rejected, nil
		}
	}
	in.pend.add(stages...)
	return rejected, nil
}

// storeErrorCode is the rejection code of documents a store error kept
// from being stored: an overloaded store's (store.ErrBusy) is a throttle,
// which the API answers so that clients retry.
func storeErrorCode(err error) string {
	switch {
	case errors.Is(err, store.ErrDiskFull):
		return CodeStorageFull
	case errors.Is(err, store.ErrBusy):
		return CodeThrottled
	}
	return CodeInternal
}

// backpressure keeps the documents awaiting summaries bounded: over
// PendingBytes the background flush starts early; over twice that
// (summarising falls behind ingest) the caller summarises the oldest
// itself before it is answered, which slows its client down, or, when a
// flush is under way, waits for it to end, at most backpressureWait.
// Beyond MaxPendingBytes calls are refused (admit).
func (in *Ingester) backpressure() {
	raw := in.pend.rawBytes()
	if raw <= in.cfg.PendingBytes {
		return
	}
	select {
	case in.kick <- struct{}{}:
	default:
	}
	if raw <= 2*in.cfg.PendingBytes {
		return
	}
	ended := in.nextFlushEnd()
	if in.flushMu.TryLock() {
		defer in.flushMu.Unlock()
		in.flush(in.takeReady())
		return
	}
	// Flushes run one at a time, so waiting for flushMu queued the call
	// behind the flush under way and behind every call queued before it,
	// each then flushing in turn: on a loaded ClickHouse, calls waited
	// 20-30 s and more (docs/clickhouse.md, "Writes that stalled").
	t := time.NewTimer(in.backpressureWait)
	defer t.Stop()
	select {
	case <-ended:
	case <-t.C:
	}
}

// nextFlushEnd is closed when the next flush (or the one under way) has
// landed its entries.
func (in *Ingester) nextFlushEnd() <-chan struct{} {
	in.flushEndMu.Lock()
	defer in.flushEndMu.Unlock()
	if in.flushEnd == nil {
		in.flushEnd = make(chan struct{})
	}
	return in.flushEnd
}

// flushEnded wakes the calls waiting for a flush's end (backpressure).
func (in *Ingester) flushEnded() {
	in.flushEndMu.Lock()
	defer in.flushEndMu.Unlock()
	if in.flushEnd != nil {
		close(in.flushEnd)
		in.flushEnd = nil
	}
}

// byTrace groups the documents of a call by trace: the trace ids in order
// of first appearance, and for each the documents' positions, all carved
// from one slice.
func (sc *callScratch) byTrace(segs []*segment.Segment) (order []string, groups [][]int) {
	if sc.number == nil {
		sc.number = make(map[string]int, len(segs))
	}
	number := sc.number
	of := grown(sc.of, len(segs))
	counts := sc.counts[:0]
	order = sc.order[:0]
	for i, s := range segs {
		n, ok := number[s.TraceID]
		if !ok {
			n = len(order)
			number[s.TraceID] = n
			order = append(order, s.TraceID)
			counts = append(counts, 0)
		}
		of[i] = n
		counts[n]++
	}
	groups = grown(sc.groups, len(order))
	flat := grown(sc.flat, len(segs))
	off := 0
	for n, c := range counts {
		groups[n] = flat[off : off : off+c]
		off += c
	}
	for i, n := range of {
		groups[n] = append(groups[n], i)
	}
	sc.of, sc.counts, sc.order, sc.groups, sc.flat = of, counts, order, groups, flat
	return order, groups
}

// stage decides, for one trace, its epoch and which of its documents in
// this call are new, enforcing MaxTraceBytes. The caller holds the trace's
// stripe lock and its claim (pendingSet.claim), so no flush takes the
// trace, and on the embedded store none holds it: its state has one owner
// at a time. On a shared store a flush may hold it (claim), and the entry
// in flight is known as a queued one (view). The pending set holds what
// awaits a summary, the cache what the last flush stored (a flush caches
// its result before it lets go of the trace), the store the rest.
func (in *Ingester) stage(ctx context.Context, st *staged, segs []*segment.Segment, idx []int, now time.Time, rejected *[]Rejection) error {
	id := st.id
	// What is already known of the trace, newest first: documents awaiting
	// their summary, then the last summarised state in the cache (or,
	// when none is in memory, in the store).
	var known []*trace.Trace
	var queued *pendingEntry
	var flying []*staged
	var queuedFind func(docID string) *segment.Segment // the queued documents, when not in known
	if in.preparer() != nil {
		flying = in.storing.of(id) // before the queue: a write leaves here once queued
		queued, queuedFind = in.pend.view(id)
	} else if st.slot != nil {
		queued = in.pend.queuedIn(st.slot)
	} else {
		queued = in.pend.get(id)
	}
	cached := in.cache.get(id)
	if store.IsShared(in.cfg.Store) {
		cached = nil // another process may have changed the trace since
	}
	switch {
	case queued != nil || cached != nil:
		if queued != nil {
			st.epoch, st.bytes = queued.epoch, queued.bytes
			if queuedFind == nil {
				known = append(known, &queued.docs)
			}
		} else {
			st.epoch, st.bytes = cached.summary.Epoch, cached.bytes
		}
		switch {
		case cached != nil && cached.trace != nil:
			known = append(known, cached.trace)
		case anyInProgress(segs, idx):
			// The summarised documents are not in memory (the cache let
			// them go or keeps only the size of a huge trace), and an
			// in-progress version must not replace a complete one there.
			e, _, err := in.load(ctx, id)
			if err != nil {
				return err
			}
			known = append(known, e.trace)
		}
	default:
		base, ep, bytes, fresh, err := in.stored(ctx, id, segs, idx, now)
		if err != nil {
			return err
		}
		st.epoch, st.bytes, st.fresh = ep, bytes, fresh
		if base != nil {
			known = append(known, base)
		}
	}
	if len(flying) > 0 {
		// Writes of this trace still being stored know it best: the
		// newest was staged against everything known before it.
		st.epoch, st.bytes = flying[0].epoch, max(st.bytes, flying[0].bytes)
	}
	for _, i := range idx {
		s := segs[i]
		old := st.docs.Find(s.ID)
		for _, f := range flying {
			if old != nil {
				break
			}
			old = f.docs.Find(s.ID)
		}
		if old == nil && queuedFind != nil {
			old = queuedFind(s.ID)
		}
		for _, k := range known {
			if old != nil {
				break
			}
			old = k.Find(s.ID)
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
		}
	}
	return nil
}

func anyInProgress(segs []*segment.Segment, idx []int) bool {
	for _, i := range idx {
		if segs[i].InProgress {
			return true
		}
	}
	return false
}

// stored is what the store knows of a trace no state in memory covers: its
// epoch, its size (MaxTraceBytes counts what is stored, also after the
// cache let the trace go) and, when an in-progress document arrives, its
// documents, which that document must not replace when they are complete;
// fresh when the store holds no summary of it (nor a tombstone).
func (in *Ingester) stored(ctx context.Context, id string, segs []*segment.Segment, idx []int, now time.Time) (base *trace.Trace, epoch int64, bytes int, fresh bool, err error) {
	start := math.Inf(1)
	for _, i := range idx {
		start = min(start, segs[i].StartTime)
	}
	if anyInProgress(segs, idx) {
		e, ep, err := in.load(ctx, id)
		if err != nil {
			return nil, 0, 0, false, err
		}
		if len(e.trace.Docs) > 0 {
			return e.trace, ep, e.bytes, false, nil
		}
	}
	ep, err := in.epochFor(ctx, id, start, now)
	// On a shared store seen knows only this process's traces; and a
	// lookup per new trace would cost a round trip each, so the size the
	// store holds is learnt when the trace is summarised (MaxTraceBytes is
	// then enforced per process for the documents of one flush interval).
	if err != nil || store.IsShared(in.cfg.Store) {
		return nil, ep, 0, false, err
	}
	if in.seen.isNew(id, ep, now) {
		return nil, ep, 0, true, nil
	}
	sum, err := in.cfg.Store.Head(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, ep, 0, !errors.Is(err, store.ErrDropped), nil
	case err != nil:
		return nil, 0, 0, false, err
	}
	return nil, ep, sum.Bytes, false, nil
}

// epochFor is the epoch a trace not in memory is filed under: its id's, as
// X-Ray ids carry the time of the original request, unless that is far from
// the trace's times (ids converted from W3C ones are random there), when it
// is the one already recorded for the trace, or else the segment's start.
func (in *Ingester) epochFor(ctx context.Context, id string, start float64, now time.Time) (int64, error) {
	ep, err := in.epochOf(ctx, id, start)
	// Never later than MaxFuture from now, which seen relies on (a foreign
	// trace's start time is the client's to choose).
	return min(ep, now.Add(segment.DefaultMaxFuture).Unix()), err
}

func (in *Ingester) epochOf(ctx context.Context, id string, start float64) (int64, error) {
	idEpoch, ok := segment.TraceEpoch(id) // once: ~110 instructions a call
	ep := trace.EpochFrom(idEpoch, ok, start)
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
		if err == nil || errors.Is(err, store.ErrDropped) {
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
	st, err := in.cfg.Store.Trace(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		st, err = nil, nil
	}
	if err != nil {
		return nil, 0, err
	}
	e, ep := in.parseStored(id, st)
	return e, ep, nil
}

// parseStored is the state of a stored trace (nil: none stored).
func (in *Ingester) parseStored(id string, st *store.StoredTrace) (*entry, int64) {
	e := &entry{trace: &trace.Trace{ID: id}}
	if st == nil {
		return e, 0
	}
	e.dropped = st.Dropped
	if st.Summary != nil {
		e.summary, e.limitExceeded = st.Summary, st.Summary.LimitExceeded
	}
	for _, d := range st.Docs {
		in.parseDoc(e, d)
	}
	return e, st.Epoch
}

// parseDoc adds a stored document of e's trace to it, decoded.
func (in *Ingester) parseDoc(e *entry, d store.Doc) {
	// Stored documents were validated on the way in; only re-decode.
	parsed, err := segment.Parse(d.Raw, segment.Options{SkipTraceEpoch: true, Stored: true})
	if err != nil {
		in.cfg.Logger.Warn("stored document does not parse", "trace_id", e.trace.ID, "id", d.ID, "err", err)
		return
	}
	e.trace.Docs = append(e.trace.Docs, parsed...)
	e.bytes += len(d.Raw)
}

// lock takes the stripe locks of the given traces in a fixed order.
func (in *Ingester) lock(ids []string) func() {
	stripes := in.stripes(ids)
	for _, s := range stripes {
		in.locks[s].Lock()
	}
	return func() {
		for _, s := range stripes {
			in.locks[s].Unlock()
		}
	}
}

// stripes are the traces' stripe locks, sorted, each once. They are
// gathered in a bit set, which also sorts them: a map of them grew,
// allocating, to each call's ~50 traces.
func (in *Ingester) stripes(ids []string) []int {
	var set [len(in.locks) / 64]uint64
	n := 0
	for _, id := range ids {
		s := maphash.String(in.seed, id) % uint64(len(in.locks))
		if set[s/64]&(1<<(s%64)) == 0 {
			set[s/64] |= 1 << (s % 64)
			n++
		}
	}
	stripes := make([]int, 0, n)
	for w, bits := range set {
		for ; bits != 0; bits &= bits - 1 {
			stripes = append(stripes, w*64+mathbits.TrailingZeros64(bits))
		}
	}
	return stripes
}
