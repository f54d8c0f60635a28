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
// the spans, record by record, each at its span's resolution; a record may
// come more than once (store.StatsStore), and callers add what they get.
// Duration histograms are read only when durations is set. A record that
// does not decode is skipped (and logged), not the whole answer. fn must not
// keep s.
func (a *Aggregator) Scan(ctx context.Context, group string, spans []Span, want func(Entity) bool, durations bool, fn func(bucket int64, e Entity, s *Stats)) error {
	var s Stats
	corrupt := 0
	for _, sp := range spans {
		q := store.StatQuery{Resolution: sp.Resolution, Group: group, From: sp.From, To: sp.To}
		if want != nil {
			q.Want = func(e string) bool { return want(Entity(e)) }
		}
		err := a.cfg.Store.Stats(ctx, q, func(r store.StatRecord) bool {
			if s.decodeSum(r.Value, durations) != nil {
				corrupt++
				return true
			}
			fn(r.Bucket, Entity(r.Entity), &s)
			return true
		})
		if err != nil {
			return err
		}
	}
	if corrupt > 0 {
		a.cfg.Logger.Warn("skipped statistics records that do not decode", "group", group, "records", corrupt)
	}
	return nil
}

// Group versions: a group's filter expression can change; statistics
// already aggregated under the old one stay as they were (X-Ray evaluates
// groups on incoming traces). After each stored batch (Hook), the
// expression in effect is recorded for the minutes the batch counted in, at
// most once per group and minute, so a query can answer
// ContainsOldGroupVersions. Unlike the statistics, this record is read and
// rewritten: it is a hint, and a crash or a second process can lose an
// extension of a range.

const groupVersionsKind = "graph.groupversions"

// maxGroupVersions bounds the history kept per group.
const maxGroupVersions = 64

type groupVersion struct {
	Expr     string `json:"e"`
	From, To int64
}

func (a *Aggregator) recordGroupVersions(ctx context.Context, buckets map[string][2]int64) error {
	if a.cfg.GroupExpression == nil || len(buckets) == 0 {
		return nil
	}
	// Batches are stored in parallel; each version record is read and rewritten.
	a.mu.Lock()
	defer a.mu.Unlock()
	for g, r := range buckets {
		if g == DefaultGroup {
			continue
		}
		expr := a.cfg.GroupExpression(g)
		last, ok := a.versions[g]
		if ok && last.Expr == expr && last.From <= r[0] && last.To >= r[1] {
			continue // recorded already: one write per group and minute at most
		}
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
		a.versions[g] = vs[len(vs)-1]
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
