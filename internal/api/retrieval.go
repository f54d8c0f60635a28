package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// StartTraceRetrieval, ListRetrievedTraces, GetRetrievedTracesGraph and
// CancelTraceRetrieval.
//
// On AWS these fetch traces back from CloudWatch Logs (Transaction Search)
// in an asynchronous job. Roentgen's traces are in its own store, so a
// retrieval is complete as soon as it starts: the token remembers the
// request, and the listing and the graph are read from the store each time
// they are asked for, like BatchGetTraces and GetTraceGraph.

const (
	maxRetrievalIDs    = 100 // trace ids per retrieval, as AWS documents
	retrievedTracePage = 5   // traces per ListRetrievedTraces page
	// retrievalLifetime: how long a token answers; older ones are removed
	// when a retrieval starts, so the kept ones stay few.
	retrievalLifetime = 24 * time.Hour
)

type retrieval struct {
	TraceIds           []string
	StartTime, EndTime float64
	Created            time.Time
	Cancelled          bool
}

func (r *retrieval) status() string {
	if r.Cancelled {
		return "CANCELLED"
	}
	return "COMPLETE"
}

func (s *Server) startTraceRetrieval(ctx context.Context, in *struct {
	TraceIds           []string
	StartTime, EndTime *Timestamp
}) (any, error) {
	if len(in.TraceIds) == 0 || len(in.TraceIds) > maxRetrievalIDs {
		return nil, invalid("TraceIds must list 1 to %d trace ids, not %d", maxRetrievalIDs, len(in.TraceIds))
	}
	for _, id := range in.TraceIds {
		if len(id) == 0 || len(id) > 35 {
			return nil, invalid("trace id %q must be 1 to 35 characters long", id)
		}
	}
	if in.StartTime == nil || in.EndTime == nil {
		return nil, invalid("StartTime and EndTime are required")
	}
	if *in.EndTime < *in.StartTime {
		return nil, invalid("EndTime must not be before StartTime")
	}
	now := s.now()
	if err := s.pruneRetrievals(ctx, now); err != nil {
		return nil, err
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	r := retrieval{TraceIds: in.TraceIds, StartTime: float64(*in.StartTime), EndTime: float64(*in.EndTime), Created: now}
	if err := s.putMetaJSON(ctx, metaRetrievals, token, r); err != nil {
		return nil, err
	}
	return struct{ RetrievalToken string }{token}, nil
}

func (s *Server) pruneRetrievals(ctx context.Context, now time.Time) error {
	var old []string
	err := s.cfg.Store.ListMeta(ctx, metaRetrievals, func(k string, v []byte) bool {
		var r retrieval
		if json.Unmarshal(v, &r) != nil || now.Sub(r.Created) > retrievalLifetime {
			old = append(old, k)
		}
		return true
	})
	for _, k := range old {
		if err == nil {
			err = s.cfg.Store.DeleteMeta(ctx, metaRetrievals, k)
		}
	}
	return err
}

// retrieval reads a token's retrieval, or answers ResourceNotFoundException.
func (s *Server) retrieval(ctx context.Context, token *string) (*retrieval, error) {
	if token == nil || *token == "" {
		return nil, invalid("RetrievalToken is required")
	}
	var r retrieval
	found, err := s.getMetaJSON(ctx, metaRetrievals, *token, &r)
	if err != nil {
		return nil, err
	}
	if !found || s.now().Sub(r.Created) > retrievalLifetime {
		return nil, notFound(*token, "no trace retrieval has the token %q (tokens last %v)", *token, retrievalLifetime)
	}
	return &r, nil
}

// traceIDs are the retrieval's traces that are stored and overlap its
// time range (inclusive, as AWS documents), in the order asked for.
func (s *Server) retrievedIDs(ctx context.Context, r *retrieval) ([]string, error) {
	if r.Cancelled {
		return nil, nil
	}
	s.cfg.Ingest.Sync(ctx, r.TraceIds...)
	var ids []string
	seen := map[string]bool{}
	for _, id := range r.TraceIds {
		if seen[id] {
			continue
		}
		seen[id] = true
		sum, err := s.cfg.Store.Head(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if sum.EndTime >= r.StartTime && sum.StartTime <= r.EndTime {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

type retrievedTrace struct {
	Id       string
	Duration float64
	Spans    []segmentOut
}

func (s *Server) listRetrievedTraces(ctx context.Context, in *struct {
	RetrievalToken *string
	TraceFormat    *string
	NextToken      *string
}) (any, error) {
	format := "XRAY"
	if in.TraceFormat != nil {
		format = *in.TraceFormat
	}
	switch format {
	case "XRAY":
	case "OTEL":
		return nil, invalid("TraceFormat OTEL is not supported by Roentgen: traces are kept as X-Ray segment documents; ask for XRAY")
	default:
		return nil, invalid("TraceFormat must be XRAY or OTEL, not %q", format)
	}
	r, err := s.retrieval(ctx, in.RetrievalToken)
	if err != nil {
		return nil, err
	}
	ids, err := s.retrievedIDs(ctx, r)
	if err != nil {
		return nil, err
	}
	offset, err := pageOffset(in.NextToken, len(ids))
	if err != nil {
		return nil, err
	}
	out := struct {
		RetrievalStatus string
		TraceFormat     string
		Traces          []retrievedTrace
		NextToken       *string `json:",omitempty"`
	}{RetrievalStatus: r.status(), TraceFormat: format, Traces: []retrievedTrace{}}
	end := min(offset+retrievedTracePage, len(ids))
	for _, id := range ids[offset:end] {
		st, err := s.cfg.Store.Trace(ctx, id)
		if errors.Is(err, store.ErrNotFound) || err == nil && st.Summary == nil {
			continue // expired since Head
		}
		if err != nil {
			return nil, err
		}
		t := s.traceOutput(st)
		out.Traces = append(out.Traces, retrievedTrace{Id: t.Id, Duration: t.Duration, Spans: t.Segments})
	}
	if end < len(ids) {
		tok := strconv.Itoa(end)
		out.NextToken = &tok
	}
	return out, nil
}

// pageOffset reads a NextToken made by strconv.Itoa of an offset.
func pageOffset(tok *string, n int) (int, error) {
	if tok == nil || *tok == "" {
		return 0, nil
	}
	off, err := strconv.Atoi(*tok)
	if err != nil || off < 0 || off >= n {
		return 0, invalid("NextToken %q does not belong to this retrieval", *tok)
	}
	return off, nil
}

func (s *Server) getRetrievedTracesGraph(ctx context.Context, in *struct {
	RetrievalToken *string
	NextToken      *string
}) (any, error) {
	r, err := s.retrieval(ctx, in.RetrievalToken)
	if err != nil {
		return nil, err
	}
	if in.NextToken != nil && *in.NextToken != "" {
		return nil, invalid("NextToken %q does not belong to this retrieval: its graph fits one page", *in.NextToken)
	}
	ids, err := s.retrievedIDs(ctx, r)
	if err != nil {
		return nil, err
	}
	type retrievedService struct {
		Service json.RawMessage
		Links   []struct{}
	}
	out := struct {
		RetrievalStatus string
		Services        []retrievedService
	}{RetrievalStatus: r.status(), Services: []retrievedService{}}
	if len(ids) == 0 {
		return out, nil
	}
	// The graph is GetTraceGraph's, whichever file serves it.
	body, _ := json.Marshal(struct{ TraceIds []string }{ids})
	g, err := s.ops["/TraceGraph"].handle(ctx, body)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(g)
	if err != nil {
		return nil, err
	}
	var services struct{ Services []json.RawMessage }
	if err := json.Unmarshal(b, &services); err != nil {
		return nil, err
	}
	for _, svc := range services.Services {
		out.Services = append(out.Services, retrievedService{Service: svc, Links: []struct{}{}})
	}
	return out, nil
}

func (s *Server) cancelTraceRetrieval(ctx context.Context, in *struct{ RetrievalToken *string }) (any, error) {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	r, err := s.retrieval(ctx, in.RetrievalToken)
	if err != nil {
		return nil, err
	}
	r.Cancelled = true
	if err := s.putMetaJSON(ctx, metaRetrievals, *in.RetrievalToken, r); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}
