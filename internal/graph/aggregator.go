package graph

import (
	"context"
	"log/slog"
	"sync"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// DefaultGroup is the group every trace belongs to.
const DefaultGroup = "Default"

// Aggregator keeps the statistics up to date as traces change, and answers
// queries from them. It holds no statistics itself: Prepare, called by the
// ingest path before a batch of summaries is stored, attaches to each
// update the deltas its change makes (store.TraceUpdate.Stats), and the
// store adds them in the write that stores the summary. So statistics are as
// durable as the summaries they come from, are never read and rewritten,
// and a store written by several processes sums them all.
type Aggregator struct {
	cfg AggregatorConfig

	mu       sync.Mutex
	versions map[string]groupVersion // the last version recorded per group
}

// AggregatorConfig configures an Aggregator.
type AggregatorConfig struct {
	Store store.Store
	// Groups lists the groups (other than Default) a trace belongs to. It
	// is called once per summary, and its cost is the ingest path's: the
	// groups package bounds how many groups there are.
	Groups func(*trace.Summary) []string
	// GroupExpression is a group's current filter expression, recorded for
	// the buckets written so that queries can tell when it changed.
	GroupExpression func(group string) string
	Logger          *slog.Logger
}

type groupKey struct {
	Group string
	Key
}

// NewAggregator returns an Aggregator.
func NewAggregator(cfg AggregatorConfig) *Aggregator {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Groups == nil {
		cfg.Groups = func(*trace.Summary) []string { return nil }
	}
	return &Aggregator{cfg: cfg, versions: map[string]groupVersion{}}
}

// Prepare sets the statistics deltas of each update (Deltas), before the
// updates are stored (ingest.Ingester.AddDeriver).
func (a *Aggregator) Prepare(updates []store.TraceUpdate) {
	var b deltaBuilder
	// Sized for the usual case (each segment and call a record of its own
	// at every resolution, in Default): grown by doubling, the records
	// were the largest thing this allocated.
	n := 0
	for _, u := range updates {
		if u.Summary != nil {
			n += len(store.StatResolutions) * (len(u.Summary.Segments) + len(u.Summary.Edges) + 1)
		}
	}
	b.out = make([]store.StatRecord, 0, n)
	for i := range updates {
		updates[i].Stats = b.deltas(a, updates[i].Summary, updates[i].Previous)
	}
}

// Deltas are the records to add for a trace whose summary changes from prev
// (nil for a new trace) to sum: Contribute(sum) − Contribute(prev), for the
// groups each version belongs to, at every resolution. The same delta goes
// to a minute and to the five minutes and the hour holding it, so a coarse
// bucket stays the exact sum of its finer ones. Records that cancel out
// (a trace summarised again unchanged) are left out.
func (a *Aggregator) Deltas(sum, prev *trace.Summary) []store.StatRecord {
	var b deltaBuilder
	return b.deltas(a, sum, prev)
}

// deltaBuilder computes the deltas of one batch of updates, reusing its
// maps, statistics and encoding buffer from trace to trace: the ingest path
// pays for them on every summary.
type deltaBuilder struct {
	acc    map[groupKey]*Stats
	free   []*Stats // reset and reused
	used   []*Stats
	coarse []map[groupKey]coarseSum
	arena  []byte // the encoded values, one after another
	out    []store.StatRecord
}

// coarseSum is a coarse record: usually one minute's delta (a trace is
// short), whose encoding it shares; sum once a second minute adds to it.
type coarseSum struct {
	one *Stats
	enc []byte
	sum *Stats
}

func (b *deltaBuilder) stats() *Stats {
	var s *Stats
	if n := len(b.free); n > 0 {
		s, b.free = b.free[n-1], b.free[:n-1]
		s.reset()
	} else {
		s = &Stats{}
	}
	b.used = append(b.used, s)
	return s
}

func (b *deltaBuilder) encode(s *Stats) []byte {
	start := len(b.arena)
	b.arena = s.AppendEncode(b.arena)
	return b.arena[start:len(b.arena):len(b.arena)]
}

func (b *deltaBuilder) deltas(a *Aggregator, sum, prev *trace.Summary) []store.StatRecord {
	res := store.StatResolutions
	if b.acc == nil {
		b.acc = map[groupKey]*Stats{}
		b.coarse = make([]map[groupKey]coarseSum, len(res))
		for i := 1; i < len(res); i++ {
			b.coarse[i] = map[groupKey]coarseSum{}
		}
	}
	clear(b.acc)
	for i := 1; i < len(res); i++ {
		clear(b.coarse[i])
	}
	b.free, b.used = append(b.free, b.used...), b.used[:0]
	if len(b.arena) > 1<<20 {
		b.arena = nil // earlier updates keep what they point into
	}
	add := func(s *trace.Summary, sign int64) {
		if s == nil {
			return
		}
		groups := append([]string{DefaultGroup}, a.cfg.Groups(s)...)
		Contribute(s, sign, func(k Key, st *Stats) {
			for _, g := range groups {
				gk := groupKey{g, k}
				d := b.acc[gk]
				if d == nil {
					d = b.stats()
					b.acc[gk] = d
				}
				d.Add(st, 1)
			}
		})
	}
	add(prev, -1)
	add(sum, 1)
	start := len(b.out)
	emit := func(r int64, gk groupKey, enc []byte) {
		b.out = append(b.out, store.StatRecord{StatKey: store.StatKey{Resolution: r, Bucket: gk.Bucket, Group: gk.Group, Entity: string(gk.Entity)}, Value: enc})
	}
	for gk, d := range b.acc {
		if prev != nil && d.Empty() {
			continue
		}
		enc := b.encode(d)
		emit(res[0], gk, enc)
		for i := 1; i < len(res); i++ {
			ck := groupKey{gk.Group, Key{gk.Bucket - mod(gk.Bucket, res[i]), gk.Entity}}
			c, ok := b.coarse[i][ck]
			switch {
			case !ok:
				c = coarseSum{one: d, enc: enc}
			case c.sum == nil:
				c.sum = b.stats()
				c.sum.Add(c.one, 1)
				c.sum.Add(d, 1)
			default:
				c.sum.Add(d, 1)
			}
			b.coarse[i][ck] = c
		}
	}
	for i := 1; i < len(res); i++ {
		for ck, c := range b.coarse[i] {
			if c.sum == nil {
				emit(res[i], ck, c.enc)
			} else if !c.sum.Empty() || prev == nil {
				emit(res[i], ck, b.encode(c.sum))
			}
		}
	}
	// Each update's records are its own: later appends never write into them.
	return b.out[start:len(b.out):len(b.out)]
}

// Hook is the ingest hook, after updates are stored: it records which
// expression each group had for the minutes the updates counted in.
func (a *Aggregator) Hook(ctx context.Context, updates []store.TraceUpdate) {
	buckets := map[string][2]int64{}
	for _, u := range updates {
		for _, r := range u.Stats {
			if r.Resolution != BucketSeconds || r.Group == DefaultGroup {
				continue
			}
			b, ok := buckets[r.Group]
			if !ok || r.Bucket < b[0] {
				b[0] = r.Bucket
			}
			b[1] = max(b[1], r.Bucket+BucketSeconds)
			buckets[r.Group] = b
		}
	}
	if err := a.recordGroupVersions(ctx, buckets); err != nil {
		a.cfg.Logger.Error("record group versions", "err", err)
	}
}
