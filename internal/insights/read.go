package insights

import (
	"context"
	"fmt"
	"strings"

	"github.com/roentgen-tracing/roentgen/internal/graph"
)

// category is one rate the detector watches.
type category struct {
	name string
	i    int
	of   func(*graph.Stats) int64
}

var categories = []category{
	{CategoryFault, 0, func(s *graph.Stats) int64 { return s.Fault }},
	{CategoryError, 1, func(s *graph.Stats) int64 { return s.ErrorOther }},
	{CategoryThrottle, 2, func(s *graph.Stats) int64 { return s.Throttle }},
}

func catRank(c string) int {
	for _, k := range categories {
		if k.name == c {
			return k.i
		}
	}
	return len(categories)
}

// readMinute reads a group's node and edge statistics of minute m, and
// its nodes' statistics over the PoolMinutes ending with m.
func (d *Detector) readMinute(ctx context.Context, group string, m int64) (*minute, error) {
	cur := &minute{nodes: map[Service]*nodeEval{}, edges: map[[2]Service]*graph.Stats{}, pooledEdges: map[[2]Service]*graph.Stats{}}
	pooled := map[Service]*graph.Stats{}
	from := m - (PoolMinutes-1)*60
	err := d.cfg.Graph.Scan(ctx, group, []graph.Span{{Resolution: graph.BucketSeconds, From: from, To: m + 60}}, nil, false,
		func(b int64, e graph.Entity, s *graph.Stats) {
			if !e.IsEdge() {
				id := e.Node()
				if pooled[id] == nil {
					pooled[id] = &graph.Stats{}
				}
				pooled[id].Add(s, 1)
			} else if from, to, ok := e.Edge(); ok {
				k := [2]Service{from, to}
				if cur.pooledEdges[k] == nil {
					cur.pooledEdges[k] = &graph.Stats{}
				}
				cur.pooledEdges[k].Add(s, 1)
			}
			if b != m {
				return
			}
			if e.IsEdge() {
				from, to, ok := e.Edge()
				if !ok {
					return
				}
				k := [2]Service{from, to}
				if cur.edges[k] == nil {
					cur.edges[k] = &graph.Stats{}
				}
				cur.edges[k].Add(s, 1)
				return
			}
			id := e.Node()
			ev := cur.nodes[id]
			if ev == nil {
				ev = &nodeEval{id: id}
				cur.nodes[id] = ev
			}
			ev.stats.Add(s, 1)
		})
	for id, ev := range cur.nodes {
		if p := pooled[id]; p != nil {
			ev.pooled = *p
		}
	}
	return cur, err
}

// histWindow is one five-minute window of a service's history.
type histWindow struct {
	n   float64
	bad [3]float64 // by category index
}

// history is a group's history for the minutes of one five-minute window.
type history struct {
	end int64
	by  map[Service][]histWindow
}

// history reads the HistoryWindows five-minute windows before the one
// holding minute m, per service; cached while m stays in the same window.
// Late traces of those windows (summarised after the cache was filled)
// are not seen until the next window: they are few, and the baseline is a
// median.
func (d *Detector) history(ctx context.Context, group string, m int64) (map[Service][]histWindow, error) {
	end := m - mod(m, WindowSeconds)
	if h := d.hist[group]; h != nil && h.end == end {
		return h.by, nil
	}
	start := end - HistoryWindows*WindowSeconds
	acc := map[Service]map[int64]*histWindow{}
	err := d.cfg.Graph.Scan(ctx, group, []graph.Span{{Resolution: WindowSeconds, From: start, To: end}},
		func(e graph.Entity) bool { return !e.IsEdge() }, false,
		func(b int64, e graph.Entity, s *graph.Stats) {
			id := e.Node()
			if acc[id] == nil {
				acc[id] = map[int64]*histWindow{}
			}
			w := acc[id][b]
			if w == nil {
				w = &histWindow{}
				acc[id][b] = w
			}
			w.n += float64(s.Total())
			for _, c := range categories {
				w.bad[c.i] += float64(c.of(s))
			}
		})
	if err != nil {
		return nil, err
	}
	by := map[Service][]histWindow{}
	for id, ws := range acc {
		for b := start; b < end; b += WindowSeconds {
			if w := ws[b]; w != nil {
				by[id] = append(by[id], *w)
			}
		}
	}
	d.hist[group] = &history{end: end, by: by}
	return by, nil
}

// summaryOf describes an active insight in a sentence.
func summaryOf(in *Insight, cur *minute) string {
	r := in.RootCause
	var b strings.Builder
	ev := cur.nodes[r]
	for i, c := range in.Categories {
		if i > 0 {
			b.WriteString("; ")
		}
		band := in.Bands[c]
		rate := 0.0
		if ev != nil && ev.stats.Total() > 0 {
			for _, k := range categories {
				if k.name == c {
					rate = float64(k.of(&ev.stats)) / float64(ev.stats.Total())
				}
			}
		}
		fmt.Fprintf(&b, "%s rate of %s is %.1f%% (expected at most %.1f%%)", strings.ToLower(c), r.Name, 100*rate, 100*band.High)
	}
	var others []string
	for _, s := range in.Top {
		if s != r {
			others = append(others, s.Name)
		}
	}
	if len(others) > 0 {
		b.WriteString(", impacting " + strings.Join(others, ", "))
	}
	return b.String()
}
