package graph

import (
	"context"
	"math"
	"sort"

	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Point is one bucket of GetTimeSeriesServiceStatistics.
type Point struct {
	Timestamp float64
	// Edge is set for an edge selector (and for no selector: the entry
	// points' client edges, i.e. the requests the group served); Service for
	// a node selector.
	Edge, Service *Summary
	Forecast      *Forecast
	Histogram     []Entry
}

// Forecast is ServiceForecastStatistics: the band the fault count of a
// bucket is expected in, given its request count and recent history.
type Forecast struct {
	FaultCountHigh, FaultCountLow int64
}

// Forecast model (docs/service-graph.md "Forecasts"). For a bucket with n
// requests, the history is the ForecastHistory periods before it; with at
// least ForecastMinHistory of them carrying traffic, the fault rate is
// p = (faults + 0.5) / (requests + 1) over the history, the per-request
// variance the larger of p(1-p) and the history's observed dispersion, and
// the band p·n ± 3·sqrt(variance·n), rounded outwards, floored at zero.
const (
	ForecastHistory    = 12
	ForecastMinHistory = 6
	forecastSigmas     = 3
)

// SeriesQuery selects a time series.
type SeriesQuery struct {
	Group    string
	Selector *Selector // nil: the client edges of every entry point
	From, To int64
	Period   int64
	Forecast bool
}

// Series computes the time series of a selection.
func (a *Aggregator) Series(ctx context.Context, q SeriesQuery) ([]Point, error) {
	p := q.Period
	from := q.From - mod(q.From, p)
	to := q.To
	if m := mod(to, p); m != 0 {
		to += p - m
	}
	res := int64(300)
	switch {
	case p == 60:
		res = 60
	case p%3600 == 0:
		res = 3600
	}
	scanFrom := from
	if q.Forecast {
		scanFrom -= ForecastHistory * p
	}
	want := func(e Entity) bool {
		if q.Selector != nil {
			return q.Selector.Matches(e)
		}
		from, _, ok := e.Edge()
		return ok && from.Type == trace.TypeClient
	}
	buckets := map[int64]*Stats{}
	err := a.Scan(ctx, q.Group, []Span{{res, scanFrom, to}}, want, false, func(bucket int64, e Entity, s *Stats) {
		b := bucket - mod(bucket, p)
		acc := buckets[b]
		if acc == nil {
			acc = &Stats{}
			buckets[b] = acc
		}
		acc.Add(s, 1)
	})
	if err != nil {
		return nil, err
	}
	var times []int64
	for t, s := range buckets {
		if t >= from && t < to && !s.Empty() {
			times = append(times, t)
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	out := make([]Point, 0, len(times))
	edge := q.Selector == nil || q.Selector.Edge
	for _, t := range times {
		s := buckets[t]
		sum := SummaryOf(s)
		pt := Point{Timestamp: float64(t), Histogram: s.Response.Entries()}
		if edge {
			pt.Edge = &sum
		} else {
			pt.Service = &sum
		}
		if q.Forecast {
			pt.Forecast = forecast(buckets, t, p, s.Total())
		}
		out = append(out, pt)
	}
	return out, nil
}

func forecast(buckets map[int64]*Stats, t, period, n int64) *Forecast {
	type obs struct{ f, n float64 }
	var hist []obs
	var faults, total float64
	for i := int64(1); i <= ForecastHistory; i++ {
		s := buckets[t-i*period]
		if s == nil || s.Total() == 0 {
			continue
		}
		o := obs{float64(s.Fault), float64(s.Total())}
		hist = append(hist, o)
		faults += o.f
		total += o.n
	}
	if len(hist) < ForecastMinHistory {
		return nil
	}
	p := (faults + 0.5) / (total + 1)
	variance := p * (1 - p)
	var disp float64
	for _, o := range hist {
		d := o.f - p*o.n
		disp += d * d / o.n
	}
	variance = math.Max(variance, disp/float64(len(hist)))
	mean := p * float64(n)
	sd := math.Sqrt(variance * float64(n))
	return &Forecast{
		FaultCountHigh: int64(math.Ceil(mean + forecastSigmas*sd)),
		FaultCountLow:  int64(math.Max(0, math.Floor(mean-forecastSigmas*sd))),
	}
}

// ServiceGraph aggregates the statistics of a group over [from, to)
// (multiples of BucketSeconds).
func (a *Aggregator) ServiceGraph(ctx context.Context, group string, from, to int64) (*Graph, error) {
	g := NewGraph()
	err := a.Scan(ctx, group, Plan(from, to), nil, true, func(_ int64, e Entity, s *Stats) { g.Add(e, s) })
	return g, err
}
