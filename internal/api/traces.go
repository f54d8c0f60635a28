package api

import (
	"context"
	"errors"
	"math"
	"strconv"

	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/store"
)

// PutTraceSegments

type putTraceSegmentsInput struct {
	TraceSegmentDocuments *[]string
}

type unprocessedTraceSegment struct {
	Id        string `json:"Id,omitempty"`
	ErrorCode string
	Message   string
}

// MaxTraceSegmentDocuments bounds the documents of one PutTraceSegments
// request. X-Ray documents no count (only 64 kB per document); its daemon
// and OpenTelemetry's exporter send at most 50. A hundred times that keeps
// every real client working while a body of millions of tiny documents
// costs one error instead of a response the size of its rejections.
const MaxTraceSegmentDocuments = 5000

// putTraceSegments decodes its body with traceSegmentDocuments (segdocs.go),
// not with decode: that is most of the CPU the API spends per document.
func (s *Server) putTraceSegments(ctx context.Context, body []byte) (any, error) {
	scratch := getBuffer()
	defer putBuffer(scratch)
	docs, err := traceSegmentDocuments(body, scratch)
	if err != nil {
		return nil, err
	}
	if len(docs) > MaxTraceSegmentDocuments {
		return nil, invalid("TraceSegmentDocuments holds %d documents; the limit is %d per request (the X-Ray daemon sends at most 50): split the batch", len(docs), MaxTraceSegmentDocuments)
	}
	rejected, err := s.cfg.Ingest.TryIngest(ctx, docs, ingest.Options{Source: "api"})
	if errors.Is(err, ingest.ErrThrottled) {
		return nil, throttled("PutTraceSegments: %v; nothing of this request was stored", err)
	}
	if len(rejected) == 0 {
		return noUnprocessedTraceSegments, nil
	}
	if n, msg := countCode(rejected, ingest.CodeThrottled); n > 0 {
		// The store was too loaded to take them (ClickHouse merging behind
		// inserts). UnprocessedTraceSegments are dropped by the X-Ray
		// daemon and the SDKs; a 429 is retried. The whole request goes
		// back: its documents that were stored are recognised as repeats.
		return nil, throttled("PutTraceSegments: %d of %d documents were not stored, the store is overloaded (%s); resend the request", n, len(docs), msg)
	}
	out := struct{ UnprocessedTraceSegments []unprocessedTraceSegment }{UnprocessedTraceSegments: []unprocessedTraceSegment{}}
	for _, r := range rejected {
		out.UnprocessedTraceSegments = append(out.UnprocessedTraceSegments, unprocessedTraceSegment{Id: r.ID, ErrorCode: r.Code, Message: r.Message})
	}
	return out, nil
}

// countCode counts the rejections of code, with the first one's message.
func countCode(rejected []ingest.Rejection, code string) (n int, msg string) {
	for _, r := range rejected {
		if r.Code == code {
			if n == 0 {
				msg = r.Message
			}
			n++
		}
	}
	return n, msg
}

// noUnprocessedTraceSegments is the usual answer, encoded once.
var noUnprocessedTraceSegments = rawJSON(`{"UnprocessedTraceSegments":[]}`)

// BatchGetTraces

// batchGetTracesPage is how many traces one BatchGetTraces page returns, as X-Ray does.
const batchGetTracesPage = 5

type batchGetTracesInput struct {
	TraceIds  []string
	NextToken *string
}

type traceOut struct {
	Id            string
	Duration      float64
	LimitExceeded bool
	Segments      []segmentOut
}

type segmentOut struct {
	Id       string
	Document string
}

func (s *Server) batchGetTraces(ctx context.Context, in *batchGetTracesInput) (any, error) {
	if len(in.TraceIds) == 0 {
		return nil, invalid("TraceIds must list at least one trace id")
	}
	for _, id := range in.TraceIds {
		if len(id) == 0 || len(id) > 35 {
			return nil, invalid("trace id %q must be 1 to 35 characters long", id)
		}
	}
	offset := 0
	if in.NextToken != nil && *in.NextToken != "" {
		n, err := strconv.Atoi(*in.NextToken)
		if err != nil || n < 0 || n >= len(in.TraceIds) {
			return nil, invalid("NextToken %q does not belong to this request", *in.NextToken)
		}
		offset = n
	}
	out := struct {
		Traces              []traceOut
		UnprocessedTraceIds []string
		NextToken           *string `json:",omitempty"`
	}{Traces: []traceOut{}, UnprocessedTraceIds: []string{}}
	end := min(offset+batchGetTracesPage, len(in.TraceIds))
	for _, id := range in.TraceIds[offset:end] {
		st, err := s.cfg.Store.Trace(ctx, id)
		if errors.Is(err, store.ErrNotFound) || err == nil && st.Summary == nil { // nil: not yet summarised
			out.UnprocessedTraceIds = append(out.UnprocessedTraceIds, id)
			continue
		}
		if err != nil {
			return nil, err
		}
		out.Traces = append(out.Traces, s.traceOutput(st))
	}
	if end < len(in.TraceIds) {
		tok := strconv.Itoa(end)
		out.NextToken = &tok
	}
	return out, nil
}

// traceOutput is a stored trace as BatchGetTraces returns it: the documents
// as received (independent subsegments grafted into their parents), plus the inferred segments of its downstream calls.
func (s *Server) traceOutput(st *store.StoredTrace) traceOut {
	t := traceOut{Id: st.ID, Duration: round6(st.Summary.Duration), LimitExceeded: st.Summary.LimitExceeded}
	t.Segments = graftedSegments(st.Docs)                    // graft.go
	t.Segments = append(t.Segments, inferredSegments(st)...) // graph.go
	return t
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// round6 rounds seconds to microseconds for an answer. Values beyond microsecond precision are returned as they are, and a
// non-finite one as 0: documents stored before times were bounded
// (end_time 1.7e308) must not make encoding/json fail the whole answer.
func round6(f float64) float64 {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return 0
	case math.Abs(f) >= 1e15:
		return f
	}
	return math.Round(f*1e6) / 1e6
}
