package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// GetTraceSummaries

// summariesPage bounds one page of GetTraceSummaries: results returned and
// traces examined, so a page answers quickly whatever the window.
const (
	summariesPageSize = 100
	summariesPageScan = 20000
	// eventLookback is how far before the window a trace may have started and
	// still have events inside it (TimeRangeType Event and Service).
	eventLookback = 6 * 3600
)

type getTraceSummariesInput struct {
	StartTime        *Timestamp
	EndTime          *Timestamp
	TimeRangeType    string
	Sampling         *bool
	SamplingStrategy *struct {
		Name  string
		Value *float64
	}
	FilterExpression *string
	NextToken        *string
}

// pageToken is the opaque NextToken of GetTraceSummaries: the position of
// the last trace examined. New traces arriving later sort before it, so
// paging is stable while ingest goes on.
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

func (s *Server) getTraceSummaries(ctx context.Context, in *getTraceSummariesInput) (any, error) {
	if in.StartTime == nil || in.EndTime == nil {
		return nil, invalid("StartTime and EndTime are required")
	}
	start, end := float64(*in.StartTime), float64(*in.EndTime)
	if end <= start {
		return nil, invalid("EndTime (%s) must be after StartTime (%s)", ftoa(end), ftoa(start))
	}
	rangeType := in.TimeRangeType
	if rangeType == "" {
		rangeType = "TraceId"
	}
	if rangeType != "TraceId" && rangeType != "Event" {
		return nil, invalid("TimeRangeType must be TraceId or Event, not %q", in.TimeRangeType)
	}
	if in.FilterExpression != nil && strings.TrimSpace(*in.FilterExpression) != "" {
		return nil, invalid("FilterExpression is not supported yet; omit it to list every trace in the window")
	}
	q := store.SummaryQuery{From: int64(math.Ceil(start)), To: int64(math.Ceil(end))}
	if rangeType == "Event" {
		q.From -= eventLookback
	}
	if in.NextToken != nil && *in.NextToken != "" {
		c, err := decodeToken(*in.NextToken)
		if err != nil {
			return nil, err
		}
		q.After = c
	}
	type output struct {
		TraceSummaries       []traceSummaryOut
		ApproximateTime      Timestamp
		TracesProcessedCount int64
		NextToken            *string `json:",omitempty"`
	}
	out := output{TraceSummaries: []traceSummaryOut{}, ApproximateTime: Timestamp(end)}
	var last store.Cursor
	more := false
	err := s.cfg.Store.Summaries(ctx, q, func(sum *trace.Summary) bool {
		if len(out.TraceSummaries) >= summariesPageSize || out.TracesProcessedCount >= summariesPageScan {
			more = true
			return false
		}
		out.TracesProcessedCount++
		last = store.CursorOf(sum)
		var matched *float64
		if rangeType == "Event" {
			t, ok := eventIn(sum, start, end)
			if !ok {
				return true
			}
			matched = &t
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
