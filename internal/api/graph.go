package api

import (
	"context"
	"errors"
	"math"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/groups"
	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// graphAPI serves the service-graph operations (spec §6) from the
// statistics of a graph.Aggregator, which app wires to the ingest path.
type graphAPI struct{ s *Server }

func (g *graphAPI) agg() *graph.Aggregator { return g.s.cfg.Graph }

// Limits of the graph operations.
const (
	// maxTraceGraphIDs bounds GetTraceGraph (X-Ray documents 5 per call;
	// Roentgen draws more in one graph).
	maxTraceGraphIDs = 100
	// maxSeriesPoints bounds a time series' buckets.
	maxSeriesPoints = 50000
)

// GetServiceGraph

type getServiceGraphInput struct {
	StartTime, EndTime *Timestamp
	GroupName          *string
	GroupARN           *string
	NextToken          *string
}

type serviceGraphOut struct {
	StartTime                Timestamp
	EndTime                  Timestamp
	Services                 []graph.Service
	ContainsOldGroupVersions bool
	NextToken                *string `json:",omitempty"`
}

// window validates a request's time window (checkWindow) and aligns it to
// whole statistics buckets, which is the window the answer reports.
func (g *graphAPI) window(start, end *Timestamp) (int64, int64, error) {
	s, e, err := g.s.checkWindow(start, end, maxGraphWindow)
	if err != nil {
		return 0, 0, err
	}
	b := int64(graph.BucketSeconds)
	from := int64(math.Floor(s))
	from -= ((from % b) + b) % b
	to := int64(math.Ceil(e))
	if m := ((to % b) + b) % b; m != 0 {
		to += b - m
	}
	return from, to, nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (g *graphAPI) group(name, arn *string) (groups.Group, error) {
	r, err := g.s.cfg.Groups.Find(str(name), str(arn))
	return r, groupsError(err)
}

func (g *graphAPI) getServiceGraph(ctx context.Context, body []byte) (any, error) {
	var in getServiceGraphInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	from, to, err := g.window(in.StartTime, in.EndTime)
	if err != nil {
		return nil, err
	}
	grp, err := g.group(in.GroupName, in.GroupARN)
	if err != nil {
		return nil, err
	}
	gr, err := g.agg().ServiceGraph(ctx, grp.GroupName, from, to)
	if err != nil {
		return nil, err
	}
	old, err := g.agg().OldGroupVersions(ctx, grp.GroupName, grp.FilterExpression, from, to)
	if err != nil {
		return nil, err
	}
	return serviceGraphOut{
		StartTime: Timestamp(from), EndTime: Timestamp(to),
		Services:                 round(gr.Services(float64(from), float64(to))),
		ContainsOldGroupVersions: old,
	}, nil
}

// round trims float noise from response-time totals.
func round(svcs []graph.Service) []graph.Service {
	for i := range svcs {
		if s := svcs[i].SummaryStatistics; s != nil {
			s.TotalResponseTime = round6(s.TotalResponseTime)
		}
		for j := range svcs[i].Edges {
			e := &svcs[i].Edges[j].SummaryStatistics
			e.TotalResponseTime = round6(e.TotalResponseTime)
		}
	}
	return svcs
}

// GetTraceGraph

type getTraceGraphInput struct {
	TraceIds  []string
	NextToken *string
}

func (g *graphAPI) getTraceGraph(ctx context.Context, body []byte) (any, error) {
	var in getTraceGraphInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.TraceIds) == 0 {
		return nil, invalid("TraceIds must list at least one trace id")
	}
	if len(in.TraceIds) > maxTraceGraphIDs {
		return nil, invalid("TraceIds lists %d trace ids; at most %d are allowed", len(in.TraceIds), maxTraceGraphIDs)
	}
	gr := graph.NewGraph()
	for _, id := range in.TraceIds {
		if len(id) == 0 || len(id) > 35 {
			return nil, invalid("trace id %q must be 1 to 35 characters long", id)
		}
		sum, err := g.s.cfg.Store.Head(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		gr.AddTrace(sum)
	}
	return struct {
		Services  []graph.Service
		NextToken *string `json:",omitempty"`
	}{Services: round(gr.Services(0, 0))}, nil
}

// GetTimeSeriesServiceStatistics

type getTimeSeriesInput struct {
	StartTime, EndTime       *Timestamp
	GroupName                *string
	GroupARN                 *string
	EntitySelectorExpression *string
	Period                   *int64
	ForecastStatistics       *bool
	NextToken                *string
}

type timeSeriesPoint struct {
	Timestamp                 Timestamp
	EdgeSummaryStatistics     *graph.Summary  `json:",omitempty"`
	ServiceSummaryStatistics  *graph.Summary  `json:",omitempty"`
	ServiceForecastStatistics *graph.Forecast `json:",omitempty"`
	ResponseTimeHistogram     []graph.Entry
}

func (g *graphAPI) getTimeSeriesServiceStatistics(ctx context.Context, body []byte) (any, error) {
	var in getTimeSeriesInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	from, to, err := g.window(in.StartTime, in.EndTime)
	if err != nil {
		return nil, err
	}
	period := int64(60)
	if in.Period != nil {
		period = *in.Period
		if period != 60 && (period <= 0 || period%300 != 0) {
			return nil, invalid("Period must be 60 or a multiple of 300 seconds, not %d", period)
		}
	}
	if (to-from)/period > maxSeriesPoints {
		return nil, invalid("the window holds %d periods of %d s; at most %d are allowed, so use a longer Period", (to-from)/period, period, maxSeriesPoints)
	}
	q := graph.SeriesQuery{From: from, To: to, Period: period}
	if e := str(in.EntitySelectorExpression); e != "" {
		if len(e) > 500 {
			return nil, invalid("EntitySelectorExpression is %d characters long; at most 500 are allowed", len(e))
		}
		sel, err := graph.ParseSelector(e)
		if err != nil {
			return nil, invalid("%v", err)
		}
		q.Selector = sel
	}
	if in.ForecastStatistics != nil && *in.ForecastStatistics {
		if q.Selector == nil || !q.Selector.ByID {
			return nil, invalid("ForecastStatistics requires an EntitySelectorExpression of the form id(name: \"...\", type: \"...\")")
		}
		q.Forecast = true
	}
	grp, err := g.group(in.GroupName, in.GroupARN)
	if err != nil {
		return nil, err
	}
	q.Group = grp.GroupName
	pts, err := g.agg().Series(ctx, q)
	if err != nil {
		return nil, err
	}
	old, err := g.agg().OldGroupVersions(ctx, grp.GroupName, grp.FilterExpression, from, to)
	if err != nil {
		return nil, err
	}
	out := struct {
		TimeSeriesServiceStatistics []timeSeriesPoint
		ContainsOldGroupVersions    bool
		NextToken                   *string `json:",omitempty"`
	}{TimeSeriesServiceStatistics: make([]timeSeriesPoint, 0, len(pts)), ContainsOldGroupVersions: old}
	for _, p := range pts {
		tp := timeSeriesPoint{Timestamp: Timestamp(p.Timestamp), EdgeSummaryStatistics: p.Edge, ServiceSummaryStatistics: p.Service,
			ServiceForecastStatistics: p.Forecast, ResponseTimeHistogram: p.Histogram}
		for _, s := range []*graph.Summary{tp.EdgeSummaryStatistics, tp.ServiceSummaryStatistics} {
			if s != nil {
				s.TotalResponseTime = round6(s.TotalResponseTime)
			}
		}
		out.TimeSeriesServiceStatistics = append(out.TimeSeriesServiceStatistics, tp)
	}
	return out, nil
}

// inferredSegments are the documents BatchGetTraces adds for downstream
// calls whose callee did not report a segment (spec §6.1 step 4).
func inferredSegments(st *store.StoredTrace) []segmentOut {
	t := &trace.Trace{ID: st.ID}
	for _, d := range st.Docs {
		// Stored documents were validated on the way in; only re-decode.
		parsed, err := segment.Parse(d.Raw, segment.Options{SkipTraceEpoch: true, Stored: true})
		if err != nil {
			continue
		}
		t.Docs = append(t.Docs, parsed...)
	}
	var out []segmentOut
	for _, inf := range trace.Assemble(t).Inferences() {
		b, err := trace.InferredDocument(st.ID, inf)
		if err != nil {
			continue
		}
		out = append(out, segmentOut{Id: inf.ID, Document: string(b)})
	}
	return out
}
