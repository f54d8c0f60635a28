package graph

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// Span is a time range read at one resolution.
type Span struct {
	Resolution int64
	From, To   int64
}

// Plan covers [from, to) (multiples of BucketSeconds) with as few records
// as possible: whole hours from the hourly records, whole five-minute
// stretches from those, and the rest from minutes.
func Plan(from, to int64) []Span {
	var out []Span
	for t := from; t < to; {
		res := int64(BucketSeconds)
		for _, r := range store.StatResolutions {
			if mod(t, r) == 0 && t+r <= to {
				res = r
			}
		}
		if n := len(out); n > 0 && out[n-1].Resolution == res && out[n-1].To == t {
			out[n-1].To = t + res
		} else {
			out = append(out, Span{res, t, t + res})
		}
		t += res
	}
	return out
}

// Scan calls fn with the statistics of every wanted entity of a group in
// the spans (stored and pending alike), record by record: stored records at
// their span's resolution, pending ones per minute or rolled up. Duration
// histograms are read only when durations is set. fn must not keep s.
func (a *Aggregator) Scan(ctx context.Context, group string, spans []Span, want func(Entity) bool, durations bool, fn func(bucket int64, e Entity, s *Stats)) error {
	a.flushMu.RLock()
	defer a.flushMu.RUnlock()
	var s Stats
	for _, sp := range spans {
		var derr error
		q := store.StatQuery{Resolution: sp.Resolution, Group: group, From: sp.From, To: sp.To}
		if want != nil {
			q.Want = func(e string) bool { return want(Entity(e)) }
		}
		err := a.cfg.Store.Stats(ctx, q, func(r store.StatRecord) bool {
			e := Entity(r.Entity)
			if derr = s.decode(r.Value, durations); derr != nil {
				return false
			}
			fn(r.Bucket, e, &s)
			return true
		})
		if err == nil {
			err = derr
		}
		if err != nil {
			return err
		}
	}
	// Deltas not yet in the store: minute deltas count in every span;
	// rolled-up ones only in spans of their resolution, as the minute
	// records already hold them.
	type hit struct {
		bucket int64
		e      Entity
		s      Stats
	}
	var hits []hit
	in := func(res, bucket int64, e Entity) bool {
		if want != nil && !want(e) {
			return false
		}
		for _, sp := range spans {
			if (res == BucketSeconds || sp.Resolution == res) && bucket >= sp.From && bucket < sp.To {
				return true
			}
		}
		return false
	}
	for rk, d := range a.rolled {
		if rk.Group == group && in(rk.res, rk.Bucket, rk.Entity) {
			hits = append(hits, hit{rk.Bucket, rk.Entity, Stats{}})
			hits[len(hits)-1].s.Add(d, 1)
		}
	}
	a.mu.Lock()
	for gk, d := range a.pending {
		if gk.Group == group && in(BucketSeconds, gk.Bucket, gk.Entity) {
			hits = append(hits, hit{gk.Bucket, gk.Entity, Stats{}})
			hits[len(hits)-1].s.Add(d, 1)
		}
	}
	a.mu.Unlock()
	for i := range hits {
		fn(hits[i].bucket, hits[i].e, &hits[i].s)
	}
	return nil
}

// Group versions: a group's filter expression can change; statistics
// already aggregated under the old one stay as they were (X-Ray evaluates
// groups on incoming traces). Each flush records which expression was in
// effect for the buckets it touched, so a query can answer
// ContainsOldGroupVersions.

const groupVersionsKind = "graph.groupversions"

// maxGroupVersions bounds the history kept per group.
const maxGroupVersions = 64

type groupVersion struct {
	Expr     string `json:"e"`
	From, To int64
}

func (a *Aggregator) recordGroupVersions(ctx context.Context, buckets map[string][2]int64) error {
	if a.cfg.GroupExpression == nil {
		return nil
	}
	for g, r := range buckets {
		if g == DefaultGroup {
			continue
		}
		expr := a.cfg.GroupExpression(g)
		vs, err := a.groupVersions(ctx, g)
		if err != nil {
			return err
		}
		if n := len(vs); n > 0 && vs[n-1].Expr == expr {
			vs[n-1].From = min(vs[n-1].From, r[0])
			vs[n-1].To = max(vs[n-1].To, r[1])
		} else {
			vs = append(vs, groupVersion{expr, r[0], r[1]})
		}
		if len(vs) > maxGroupVersions {
			vs = vs[len(vs)-maxGroupVersions:]
		}
		b, _ := json.Marshal(vs)
		if err := a.cfg.Store.PutMeta(ctx, groupVersionsKind, g, b); err != nil {
			return err
		}
	}
	return nil
}

func (a *Aggregator) groupVersions(ctx context.Context, group string) ([]groupVersion, error) {
	b, err := a.cfg.Store.GetMeta(ctx, groupVersionsKind, group)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var vs []groupVersion
	if json.Unmarshal(b, &vs) != nil {
		return nil, nil
	}
	return vs, nil
}

// OldGroupVersions reports whether statistics of [from, to) were aggregated
// under a filter expression other than expr, the group's current one.
func (a *Aggregator) OldGroupVersions(ctx context.Context, group, expr string, from, to int64) (bool, error) {
	if group == DefaultGroup {
		return false, nil
	}
	vs, err := a.groupVersions(ctx, group)
	if err != nil {
		return false, err
	}
	for _, v := range vs {
		if v.Expr != expr && v.From < to && v.To > from {
			return true, nil
		}
	}
	return false, nil
}
