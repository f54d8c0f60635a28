package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"hash/fnv"
	"math"
	"strings"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/filter"
	keeppolicy "github.com/roentgen-tracing/roentgen/internal/keep"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// GetTraceSummaries: trace search (spec §3.2, §4). An expression is
// narrowed to index terms (filter.Expr.Terms) so that the store visits only
// traces that can match; every candidate is then tested in full.

// A page of GetTraceSummaries is bounded in results, in traces examined and
// in time, so a page answers quickly whatever the window and expression;
// the NextToken then resumes where the page stopped.
const (
	summariesPageSize = 100
	summariesPageScan = 20000
	summariesPageTime = 2 * time.Second
	// eventLookback is how far before the window a trace may have started and
	// still have events inside it (TimeRangeType Event and Service).
	eventLookback = 6 * 3600
	// defaultSampleRate is the FixedRate used for Sampling=true without a
	// SamplingStrategy.
	defaultSampleRate = 0.1
)

type samplingStrategy struct {
	Name  string
	Value *float64
}

type getTraceSummariesInput struct {
	StartTime        *Timestamp
	EndTime          *Timestamp
	TimeRangeType    string
	Sampling         *bool
	SamplingStrategy *samplingStrategy
	FilterExpression *string
	NextToken        *string
}

// pageToken is the opaque NextToken of GetTraceSummaries: the position of
// the last trace examined. Traces are visited newest first by their epoch,
// and new traces arrive with newer epochs, so paging is stable while ingest
// goes on.
type pageToken struct {
	Epoch int64  `json:"e"`
	Trace string `json:"t"`
}

func encodeToken(c store.Cursor) *string {
	b, _ := json.Marshal(pageToken{Epoch: c.Epoch, Trace: c.TraceID})
	t := base64.RawURLEncoding.EncodeToString(b)
	return &t
}

func decodeToken(s string) (store.Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var p pageToken
	if err != nil || json.Unmarshal(b, &p) != nil || p.Trace == "" {
		return store.Cursor{}, invalid("NextToken %q was not returned by GetTraceSummaries", s)
	}
	return store.Cursor{Epoch: p.Epoch, TraceID: p.Trace}, nil
}

// sampler keeps a deterministic share of traces by trace id, so that pages
// of one search agree on which traces are in the sample.
type sampler struct {
	scan, keep float64 // PartialScan and FixedRate shares; 1 keeps all
}

func inSample(traceID string, rate float64) bool {
	if rate >= 1 {
		return true
	}
	h := fnv.New64a()
	h.Write([]byte(traceID))
	// FNV's high bits vary little between ids that differ at the end; the
	// splitmix64 finalizer spreads them.
	x := h.Sum64()
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x)/math.MaxUint64 < rate
}

func samplerOf(on *bool, st *samplingStrategy) (sampler, error) {
	sm := sampler{scan: 1, keep: 1}
	if st == nil {
		if on != nil && *on {
			sm.keep = defaultSampleRate
		}
		return sm, nil
	}
	if on != nil && !*on {
		return sm, nil
	}
	if st.Value == nil {
		return sm, invalid("SamplingStrategy.Value is required: the share of traces, from 0 to 1")
	}
	v := *st.Value
	if v > 1 && v <= 100 {
		v /= 100 // a percentage
	}
	if !(v > 0 && v <= 1) {
		return sm, invalid("SamplingStrategy.Value must be a share of traces above 0 and at most 1 (or a percentage up to 100), not %s", ftoa(*st.Value))
	}
	switch st.Name {
	case "PartialScan":
		sm.scan = v
	case "FixedRate", "":
		sm.keep = v
	default:
		return sm, invalid("SamplingStrategy.Name must be PartialScan or FixedRate, not %q", st.Name)
	}
	return sm, nil
}

type getTraceSummariesOutput struct {
	TraceSummaries       []traceSummaryOut
	ApproximateTime      Timestamp
	TracesProcessedCount int64
	NextToken            *string `json:",omitempty"`
}

func (s *Server) getTraceSummaries(ctx context.Context, in *getTraceSummariesInput) (any, error) {
	start, end, err := s.checkWindow(in.StartTime, in.EndTime, 0)
	if err != nil {
		return nil, err
	}
	rangeType := in.TimeRangeType
	if rangeType == "" {
		rangeType = "TraceId"
	}
	if rangeType != "TraceId" && rangeType != "Event" && rangeType != "Service" {
		return nil, invalid("TimeRangeType must be TraceId, Event or Service, not %q", in.TimeRangeType)
	}
	sm, err := samplerOf(in.Sampling, in.SamplingStrategy)
	if err != nil {
		return nil, err
	}
	expr, q, none, err := s.searchQuery(in.FilterExpression, start, end, rangeType)
	if err != nil {
		return nil, err
	}
	if in.NextToken != nil && *in.NextToken != "" {
		c, err := decodeToken(*in.NextToken)
		if err != nil {
			return nil, err
		}
		q.After = c
	}
	out := getTraceSummariesOutput{TraceSummaries: []traceSummaryOut{}, ApproximateTime: Timestamp(end)}
	var last store.Cursor
	more := false
	indexed, err := s.indexingShare(ctx)
	if err != nil {
		return nil, err
	}
	if none || indexed <= 0 {
		return out, nil
	}
	deadline := time.Now().Add(summariesPageTime)
	err = s.cfg.Store.Summaries(ctx, q, func(sum *trace.Summary) bool {
		if len(out.TraceSummaries) >= summariesPageSize || out.TracesProcessedCount >= summariesPageScan ||
			out.TracesProcessedCount%256 == 255 && time.Now().After(deadline) {
			more = true
			return false
		}
		last = store.CursorOf(sum)
		if !keeppolicy.Indexed(sum.TraceID, indexed) || !inSample(sum.TraceID, sm.scan) {
			return true
		}
		out.TracesProcessedCount++
		var matched *float64
		switch rangeType {
		case "Event":
			t, ok := eventIn(sum, start, end)
			if !ok {
				return true
			}
			matched = &t
		case "Service":
			if !serviceEndIn(sum, start, end) {
				return true
			}
		}
		if expr != nil && !expr.Match(sum) || !inSample(sum.TraceID, sm.keep) {
			return true
		}
		ts := summaryOutput(sum)
		if matched != nil {
			m := Timestamp(*matched)
			ts.MatchedEventTime = &m
		}
		out.TraceSummaries = append(out.TraceSummaries, ts)
		return true
	})
	if err != nil {
		return nil, err
	}
	if more {
		out.NextToken = encodeToken(last)
	}
	if n := len(out.TraceSummaries); n > 0 {
		out.ApproximateTime = out.TraceSummaries[n-1].StartTime
	}
	return out, nil
}

// eventIn reports whether a trace has activity in [start, end) and when:
// the trace's span of time overlaps the window.
func eventIn(s *trace.Summary, start, end float64) (float64, bool) {
	last := max(s.EndTime, s.StartTime)
	for _, f := range s.Segments {
		if f.InProgress {
			last = max(last, s.UpdatedAt)
		}
	}
	if s.StartTime >= end || last < start {
		return 0, false
	}
	return max(s.StartTime, start), true
}

// serviceEndIn reports whether a segment of the trace ended in [start, end)
// (TimeRangeType Service).
func serviceEndIn(s *trace.Summary, start, end float64) bool {
	for _, f := range s.Segments {
		if !f.InProgress && f.End >= start && f.End < end {
			return true
		}
	}
	return false
}

// searchQuery parses a search's filter and narrows its store query to the
// index terms the filter implies; none reports that the index proves
// nothing matches. GetTraceSummaries and the aggregates select alike.
func (s *Server) searchQuery(filterExpr *string, start, end float64, rangeType string) (expr *filter.Expr, q store.SummaryQuery, none bool, err error) {
	if filterExpr != nil && strings.TrimSpace(*filterExpr) != "" {
		expr, err = filter.Parse(*filterExpr, s.cfg.Groups.FilterOptions())
		if err != nil {
			return nil, q, false, invalid("FilterExpression: %s", err.Error())
		}
	}
	q = store.SummaryQuery{From: int64(math.Ceil(start)), To: int64(math.Ceil(end))}
	if rangeType != "TraceId" {
		q.From -= eventLookback
	}
	if expr != nil {
		if terms, also, ok := expr.Narrowing(); ok {
			q.AnyOf, q.AnyIn, q.AllOf, none = terms.Terms, terms.Ranges, also, terms.Empty()
		}
	}
	return expr, q, none, nil
}
