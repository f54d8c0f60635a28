package api

import (
	"context"
	"encoding/base64"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/insights"
)

// GetInsightSummaries, GetInsight, GetInsightEvents and
// GetInsightImpactGraph, served from the insights detector
// (internal/insights; docs/insights.md).

const (
	maxInsightSummaries  = 100 // MaxResults' range: 1..100
	maxInsightEvents     = 50  // 1..50
	maxImpactGraphWindow = 6 * time.Hour
)

var uuidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

type serviceIDOut struct {
	Name      string
	Names     []string
	AccountId string `json:",omitempty"`
	Type      string `json:",omitempty"`
}

type impactOut struct{ FaultCount, OkCount, TotalCount int64 }

type anomalousOut struct{ ServiceId serviceIDOut }

type insightOut struct {
	InsightId                               string
	GroupARN                                string
	GroupName                               string
	RootCauseServiceId                      serviceIDOut
	Categories                              []string
	State                                   string
	StartTime                               Timestamp
	EndTime                                 *Timestamp `json:",omitempty"`
	Summary                                 string
	ClientRequestImpactStatistics           impactOut
	RootCauseServiceRequestImpactStatistics impactOut
	TopAnomalousServices                    []anomalousOut
	LastUpdateTime                          *Timestamp `json:",omitempty"` // summaries only
}

func serviceIDOf(s insights.Service) serviceIDOut {
	return serviceIDOut{Name: s.Name, Names: []string{s.Name}, AccountId: s.AccountID, Type: s.Type}
}

func impactOf(c insights.Counts) impactOut {
	return impactOut{FaultCount: c.Fault, OkCount: c.OK, TotalCount: c.Total}
}

func anomalousOf(ss []insights.Service) []anomalousOut {
	out := make([]anomalousOut, 0, len(ss))
	for _, s := range ss {
		out = append(out, anomalousOut{serviceIDOf(s)})
	}
	return out
}

func insightOf(in *insights.Insight, summary bool) insightOut {
	o := insightOut{InsightId: in.ID, GroupARN: in.GroupARN, GroupName: in.Group, RootCauseServiceId: serviceIDOf(in.RootCause),
		Categories: in.Categories, State: in.State, StartTime: Timestamp(in.Start), Summary: in.Summary,
		ClientRequestImpactStatistics: impactOf(in.Client), RootCauseServiceRequestImpactStatistics: impactOf(in.RootImpact),
		TopAnomalousServices: anomalousOf(in.Top)}
	if o.Categories == nil {
		o.Categories = []string{}
	}
	if !in.Active() {
		e := Timestamp(in.End)
		o.EndTime = &e
	}
	if summary {
		u := Timestamp(in.LastUpdate)
		o.LastUpdateTime = &u
	}
	return o
}

func (s *Server) detector() (*insights.Detector, error) {
	if s.cfg.Insights == nil {
		return nil, invalid("X-Ray Insights is not enabled on this server")
	}
	return s.cfg.Insights, nil
}

// findInsight resolves an InsightId.
func (s *Server) findInsight(id *string) (*insights.Insight, error) {
	if id == nil || *id == "" {
		return nil, invalid("InsightId is required")
	}
	if !uuidRe.MatchString(*id) {
		return nil, invalid("InsightId %q is not a UUID (8-4-4-4-12 hex digits)", *id)
	}
	d, err := s.detector()
	if err != nil {
		return nil, err
	}
	in, ok := d.Get(strings.ToLower(*id))
	if !ok {
		return nil, invalid("there is no insight %q (insights are kept as long as traces)", *id)
	}
	return in, nil
}

// maxResults checks a MaxResults member against its range.
func maxResults(p *int32, max int) (int, error) {
	if p == nil {
		return max, nil
	}
	if *p < 1 || int(*p) > max {
		return 0, invalid("MaxResults must be 1 to %d, not %d", max, *p)
	}
	return int(*p), nil
}

// GetInsightSummaries

func (s *Server) getInsightSummaries(ctx context.Context, in *struct {
	StartTime, EndTime  *Timestamp
	GroupName, GroupARN *string
	States              []string
	MaxResults          *int32
	NextToken           *string
}) (any, error) {
	d, err := s.detector()
	if err != nil {
		return nil, err
	}
	from, to, err := s.checkWindow(in.StartTime, in.EndTime, 0)
	if err != nil {
		return nil, err
	}
	n, err := maxResults(in.MaxResults, maxInsightSummaries)
	if err != nil {
		return nil, err
	}
	q := insights.Query{From: int64(math.Floor(from)), To: int64(math.Ceil(to))}
	if len(in.States) > 1 {
		return nil, invalid("States takes at most one state, not %d", len(in.States))
	}
	for _, st := range in.States {
		if st != insights.StateActive && st != insights.StateClosed {
			return nil, invalid("States: %q is not a state; use ACTIVE or CLOSED", st)
		}
		q.State = st
	}
	// Neither GroupName nor GroupARN: every group's insights (AWS requires
	// one; the console lists them all).
	if str(in.GroupName) != "" || str(in.GroupARN) != "" {
		g, err := s.cfg.Groups.Find(str(in.GroupName), str(in.GroupARN))
		if err != nil {
			return nil, groupsError(err)
		}
		q.Group = g.GroupName
	}
	all := d.List(q)
	start := 0
	if t := str(in.NextToken); t != "" {
		st, id, err := parseInsightToken(t)
		if err != nil {
			return nil, err
		}
		// Resume strictly after (st, id) in the list's order.
		for start < len(all) && (all[start].Start > st || all[start].Start == st && all[start].ID <= id) {
			start++
		}
	}
	out := struct {
		InsightSummaries []insightOut
		NextToken        *string `json:",omitempty"`
	}{InsightSummaries: []insightOut{}}
	for i := start; i < len(all) && i < start+n; i++ {
		out.InsightSummaries = append(out.InsightSummaries, insightOf(all[i], true))
	}
	if end := start + n; end < len(all) {
		last := all[end-1]
		t := base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(last.Start, 10) + ":" + last.ID))
		out.NextToken = &t
	}
	return out, nil
}

func parseInsightToken(t string) (int64, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err == nil {
		if st, id, ok := strings.Cut(string(b), ":"); ok {
			if n, err := strconv.ParseInt(st, 10, 64); err == nil {
				return n, id, nil
			}
		}
	}
	return 0, "", invalid("NextToken %q is not a token this operation returned", t)
}

// GetInsight

func (s *Server) getInsight(ctx context.Context, in *struct{ InsightId *string }) (any, error) {
	ins, err := s.findInsight(in.InsightId)
	if err != nil {
		return nil, err
	}
	return struct{ Insight insightOut }{insightOf(ins, false)}, nil
}

// GetInsightEvents

type insightEventOut struct {
	Summary                                 string
	EventTime                               Timestamp
	ClientRequestImpactStatistics           impactOut
	RootCauseServiceRequestImpactStatistics impactOut
	TopAnomalousServices                    []anomalousOut
}

func (s *Server) getInsightEvents(ctx context.Context, in *struct {
	InsightId  *string
	MaxResults *int32
	NextToken  *string
}) (any, error) {
	ins, err := s.findInsight(in.InsightId)
	if err != nil {
		return nil, err
	}
	n, err := maxResults(in.MaxResults, maxInsightEvents)
	if err != nil {
		return nil, err
	}
	// Events in the order they happened; the token is the position of the
	// next one (events are only ever appended).
	start := 0
	if t := str(in.NextToken); t != "" {
		v, err := strconv.Atoi(t)
		if err != nil || v < 0 || v > len(ins.Events) {
			return nil, invalid("NextToken %q is not a token this operation returned", t)
		}
		start = v
	}
	out := struct {
		InsightEvents []insightEventOut
		NextToken     *string `json:",omitempty"`
	}{InsightEvents: []insightEventOut{}}
	for i := start; i < len(ins.Events) && i < start+n; i++ {
		e := ins.Events[i]
		out.InsightEvents = append(out.InsightEvents, insightEventOut{Summary: e.Summary, EventTime: Timestamp(e.Time),
			ClientRequestImpactStatistics: impactOf(e.Client), RootCauseServiceRequestImpactStatistics: impactOf(e.RootCause),
			TopAnomalousServices: anomalousOf(e.Top)})
	}
	if start+n < len(ins.Events) {
		t := strconv.Itoa(start + n)
		out.NextToken = &t
	}
	return out, nil
}

// GetInsightImpactGraph

type impactServiceOut struct {
	ReferenceId int
	Type        string `json:",omitempty"`
	Name        string
	Names       []string
	AccountId   string `json:",omitempty"`
	Edges       []struct{ ReferenceId int }
}

func (s *Server) getInsightImpactGraph(ctx context.Context, in *struct {
	InsightId          *string
	StartTime, EndTime *Timestamp
	NextToken          *string
}) (any, error) {
	ins, err := s.findInsight(in.InsightId)
	if err != nil {
		return nil, err
	}
	start, end, err := s.checkWindow(in.StartTime, in.EndTime, 0)
	if err != nil {
		return nil, err
	}
	if end-start > maxImpactGraphWindow.Seconds() {
		return nil, invalid("the window from StartTime to EndTime is %s long; at most 6 hours are allowed",
			time.Duration((end-start)*float64(time.Second)).Round(time.Second))
	}
	b := int64(graph.BucketSeconds)
	from := int64(math.Floor(start))
	from -= mod(from, b)
	to := int64(math.Ceil(end))
	if m := mod(to, b); m != 0 {
		to += b - m
	}
	svcs, err := s.cfg.Insights.ImpactGraph(ctx, ins, from, to)
	if err != nil {
		return nil, err
	}
	out := struct {
		InsightId                                  string
		StartTime, EndTime                         Timestamp
		ServiceGraphStartTime, ServiceGraphEndTime Timestamp
		Services                                   []impactServiceOut
	}{InsightId: ins.ID, StartTime: *in.StartTime, EndTime: *in.EndTime,
		ServiceGraphStartTime: Timestamp(from), ServiceGraphEndTime: Timestamp(to), Services: []impactServiceOut{}}
	for _, sv := range svcs {
		o := impactServiceOut{ReferenceId: sv.ReferenceId, Type: sv.Type, Name: sv.Name, Names: sv.Names, AccountId: sv.AccountId,
			Edges: []struct{ ReferenceId int }{}}
		for _, e := range sv.Edges {
			o.Edges = append(o.Edges, struct{ ReferenceId int }{e.ReferenceId})
		}
		out.Services = append(out.Services, o)
	}
	return out, nil
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}
