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
	pending   map[groupKey]*Stats
	lastFlush time.Time

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
	return &Aggregator{cfg: cfg, pending: map[groupKey]*Stats{}, lastFlush: cfg.Now()}
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
		if err := a.Flush(ctx); err != nil {
			a.cfg.Logger.Error("flush service-graph statistics", "err", err)
		}
	}
}

// Flush merges pending deltas into the store at every resolution.
func (a *Aggregator) Flush(ctx context.Context) error {
	a.flushMu.Lock()
	defer a.flushMu.Unlock()
	a.mu.Lock()
	pending := a.pending
	a.pending = map[groupKey]*Stats{}
	a.lastFlush = a.cfg.Now()
	a.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	// Roll the 60 s deltas up into every resolution.
	type resKey struct {
		res int64
		groupKey
	}
	merged := map[resKey]*Stats{}
	buckets := map[string][2]int64{}
	for gk, d := range pending {
		for _, res := range store.StatResolutions {
			rk := resKey{res, groupKey{gk.Group, Key{gk.Bucket - mod(gk.Bucket, res), gk.Entity}}}
			m := merged[rk]
			if m == nil {
				m = &Stats{}
				merged[rk] = m
			}
			m.Add(d, 1)
		}
		r, ok := buckets[gk.Group]
		if !ok || gk.Bucket < r[0] {
			r[0] = gk.Bucket
		}
		if gk.Bucket+BucketSeconds > r[1] {
			r[1] = gk.Bucket + BucketSeconds
		}
		buckets[gk.Group] = r
	}
	recs := make([]store.StatRecord, 0, len(merged))
	for rk, d := range merged {
		k := store.StatKey{Resolution: rk.res, Bucket: rk.Bucket, Group: rk.Group, Entity: string(rk.Entity)}
		var cur Stats
		v, err := a.cfg.Store.GetStat(ctx, k)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			a.restore(pending)
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
	if err := a.cfg.Store.PutStats(ctx, recs); err != nil {
		a.restore(pending)
		return err
	}
	return a.recordGroupVersions(ctx, buckets)
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
