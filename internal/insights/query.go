package insights

import (
	"context"
	"sort"

	"github.com/roentgen-tracing/roentgen/internal/graph"
)

// Query selects insights.
type Query struct {
	// Group selects one group's insights ("" every group's).
	Group string
	// State selects ACTIVE or CLOSED ("" both).
	State string
	// From, To: insights that were active at some time in [From, To)
	// (epoch seconds).
	From, To int64
}

// List returns copies of the insights a query selects, newest first
// (by start, then id).
func (d *Detector) List(q Query) []*Insight {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []*Insight
	for _, in := range d.byID {
		if q.Group != "" && in.Group != q.Group || q.State != "" && in.State != q.State {
			continue
		}
		if in.Start >= q.To || !in.Active() && in.End < q.From {
			continue
		}
		out = append(out, in.clone())
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Start != out[j].Start {
			return out[i].Start > out[j].Start
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Get returns a copy of an insight.
func (d *Detector) Get(id string) (*Insight, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	in, ok := d.byID[id]
	if !ok {
		return nil, false
	}
	return in.clone(), true
}

// ImpactGraph is the part of the group's service graph over [from, to)
// (multiples of graph.BucketSeconds) that the insight touched: its
// impacted services, their clients and the edges between them, with
// reference ids renumbered among them.
func (d *Detector) ImpactGraph(ctx context.Context, in *Insight, from, to int64) ([]graph.Service, error) {
	g, err := d.cfg.Graph.ServiceGraph(ctx, in.Group, from, to)
	if err != nil {
		return nil, err
	}
	want := map[Service]bool{}
	for _, s := range in.Impacted {
		want[s] = true
	}
	want[in.RootCause] = true
	all := g.Services(float64(from), float64(to))
	ref := map[int]int{}
	var out []graph.Service
	for _, s := range all {
		if want[Service{Name: s.Name, Type: s.Type, AccountID: s.AccountId}] {
			ref[s.ReferenceId] = len(out)
			out = append(out, s)
		}
	}
	for i := range out {
		out[i].ReferenceId = ref[out[i].ReferenceId]
		var es []graph.Edge
		for _, e := range out[i].Edges {
			if r, ok := ref[e.ReferenceId]; ok {
				e.ReferenceId = r
				es = append(es, e)
			}
		}
		out[i].Edges = es
	}
	return out, nil
}

// Active lists the root causes of the active insights of a group.
func (d *Detector) Active(group string) []Service {
	var out []Service
	for _, in := range d.List(Query{Group: group, State: StateActive, To: 1 << 62}) {
		out = append(out, in.RootCause)
	}
	return out
}

// ActiveCount is how many insights are active (roentgen_insights_active).
func (d *Detector) ActiveCount() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	n := 0
	for _, in := range d.byID {
		if in.Active() {
			n++
		}
	}
	return n
}
