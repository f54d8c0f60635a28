package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// DefaultGroup is the group every trace belongs to.
const DefaultGroup = "Default"

// Aggregator keeps the statistics up to date as traces change. Ingest
// hooks add each trace's contribution delta to an in-memory table of
// 60-second records; Flush merges that table into the store at every
// resolution. Queries see stored and pending records alike, so nothing
// waits for a flush to become visible.
//
// The ingest path pays only for map updates; flushes run on the ingest
// path too, at most once per FlushInterval, so no goroutine is needed and
// a quiet server holds its last seconds in memory until Close.
type Aggregator struct {
	cfg AggregatorConfig

	mu        sync.Mutex
	pending   map[groupKey]*Stats // minute deltas from the ingest hook
	lastFlush time.Time

	// rolled holds coarse-resolution deltas already written at the minute
	// resolution; guarded by flushMu.
	rolled  map[resKey]*Stats
	flushes int

	// flushMu serialises flushes and keeps queries from reading a store
	// that a flush is half-way through updating.
	flushMu sync.RWMutex
}

// AggregatorConfig configures an Aggregator.
type AggregatorConfig struct {
	Store store.Store
	// Groups lists the groups (other than Default) a trace belongs to.
	Groups func(*trace.Summary) []string
	// GroupExpression is a group's current filter expression, recorded per
	// flushed bucket so queries can tell when it changed.
	GroupExpression func(group string) string
	// FlushInterval bounds how long deltas stay in memory (default 2 s).
	FlushInterval time.Duration
	Now           func() time.Time
	Logger        *slog.Logger
}

type groupKey struct {
	Group string
	Key
}

// NewAggregator returns an Aggregator.
func NewAggregator(cfg AggregatorConfig) *Aggregator {
	if cfg.FlushInterval == 0 {
		cfg.FlushInterval = 2 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Groups == nil {
		cfg.Groups = func(*trace.Summary) []string { return nil }
	}
	return &Aggregator{cfg: cfg, pending: map[groupKey]*Stats{}, rolled: map[resKey]*Stats{}, lastFlush: cfg.Now()}
}

// Hook is the ingest hook: it applies each update's contribution delta.
func (a *Aggregator) Hook(ctx context.Context, updates []store.TraceUpdate) {
	type delta struct {
		groups []string
		sum    *trace.Summary
		sign   int64
	}
	ds := make([]delta, 0, 2*len(updates))
	for _, u := range updates {
		if u.Previous != nil {
			ds = append(ds, delta{append([]string{DefaultGroup}, a.cfg.Groups(u.Previous)...), u.Previous, -1})
		}
		ds = append(ds, delta{append([]string{DefaultGroup}, a.cfg.Groups(u.Summary)...), u.Summary, 1})
	}
	a.mu.Lock()
	for _, d := range ds {
		Contribute(d.sum, d.sign, func(k Key, s *Stats) {
			for _, g := range d.groups {
				gk := groupKey{g, k}
				p := a.pending[gk]
				if p == nil {
					p = &Stats{}
					a.pending[gk] = p
				}
				p.Add(s, 1)
			}
		})
	}
	due := a.cfg.Now().Sub(a.lastFlush) >= a.cfg.FlushInterval
	a.mu.Unlock()
	if due {
		if err := a.flush(ctx, false); err != nil {
			a.cfg.Logger.Error("flush service-graph statistics", "err", err)
		}
	}
}

// Flush merges every pending delta into the store at every resolution.
func (a *Aggregator) Flush(ctx context.Context) error { return a.flush(ctx, true) }

// rollupEvery is how many minute-level flushes pass between writes of the
// coarser resolutions, whose records are large (an hour's histogram) and
// would otherwise be rewritten every few seconds.
const rollupEvery = 15

type resKey struct {
	res int64
	groupKey
}

// flush writes the minute-level deltas and, when all is set or it is
// time, the coarser ones rolled up from them.
func (a *Aggregator) flush(ctx context.Context, all bool) error {
	a.flushMu.Lock()
	defer a.flushMu.Unlock()
	a.mu.Lock()
	pending := a.pending
	a.pending = map[groupKey]*Stats{}
	a.lastFlush = a.cfg.Now()
	a.mu.Unlock()
	fine := make(map[resKey]*Stats, len(pending))
	buckets := map[string][2]int64{}
	for gk, d := range pending {
		fine[resKey{BucketSeconds, gk}] = d
		r, ok := buckets[gk.Group]
		if !ok || gk.Bucket < r[0] {
			r[0] = gk.Bucket
		}
		if gk.Bucket+BucketSeconds > r[1] {
			r[1] = gk.Bucket + BucketSeconds
		}
		buckets[gk.Group] = r
	}
	if err := a.write(ctx, fine); err != nil {
		a.restore(pending)
		return err
	}
	for gk, d := range pending {
		for _, res := range store.StatResolutions[1:] {
			rk := resKey{res, groupKey{gk.Group, Key{gk.Bucket - mod(gk.Bucket, res), gk.Entity}}}
			m := a.rolled[rk]
			if m == nil {
				m = &Stats{}
				a.rolled[rk] = m
			}
			m.Add(d, 1)
		}
	}
	a.flushes++
	if all || a.flushes%rollupEvery == 0 {
		if err := a.write(ctx, a.rolled); err != nil {
			return err // a.rolled keeps them for the next attempt
		}
		a.rolled = map[resKey]*Stats{}
	}
	return a.recordGroupVersions(ctx, buckets)
}

// write merges deltas into the stored records.
func (a *Aggregator) write(ctx context.Context, deltas map[resKey]*Stats) error {
	if len(deltas) == 0 {
		return nil
	}
	recs := make([]store.StatRecord, 0, len(deltas))
	for rk, d := range deltas {
		k := store.StatKey{Resolution: rk.res, Bucket: rk.Bucket, Group: rk.Group, Entity: string(rk.Entity)}
		var cur Stats
		v, err := a.cfg.Store.GetStat(ctx, k)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		default:
			if err := cur.Decode(v); err != nil {
				a.cfg.Logger.Warn("replacing a corrupt statistics record", "key", fmt.Sprintf("%+v", k))
				cur = Stats{}
			}
		}
		cur.Add(d, 1)
		rec := store.StatRecord{StatKey: k}
		if !cur.Empty() {
			rec.Value = cur.Encode()
		}
		recs = append(recs, rec)
	}
	return a.cfg.Store.PutStats(ctx, recs)
}

// restore puts deltas that could not be flushed back in front of newer ones.
func (a *Aggregator) restore(pending map[groupKey]*Stats) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, d := range a.pending {
		if p := pending[k]; p != nil {
			p.Add(d, 1)
		} else {
			pending[k] = d
		}
	}
	a.pending = pending
}

// Close flushes what is pending.
func (a *Aggregator) Close(ctx context.Context) error { return a.Flush(ctx) }
