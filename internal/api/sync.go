package api

import (
	"context"
	"encoding/json"
)

// Trace summaries are computed a moment after a trace's documents are stored
// (see internal/ingest). Operations that read summaries, or what hooks derive
// from them, bring them up to date first, so that a client reads what it
// was told was accepted.

// synced runs h after summarising every pending trace.
func (s *Server) synced(h func(context.Context, []byte) (any, error)) func(context.Context, []byte) (any, error) {
	return func(ctx context.Context, body []byte) (any, error) {
		s.cfg.Ingest.Sync(ctx)
		return h(ctx, body)
	}
}

// syncedTraces runs h after summarising the pending traces the request names
// in TraceIds (a malformed body is left for h to reject).
func (s *Server) syncedTraces(h func(context.Context, []byte) (any, error)) func(context.Context, []byte) (any, error) {
	return func(ctx context.Context, body []byte) (any, error) {
		var in struct{ TraceIds []string }
		if json.Unmarshal(body, &in) == nil && len(in.TraceIds) > 0 {
			s.cfg.Ingest.Sync(ctx, in.TraceIds...)
		}
		return h(ctx, body)
	}
}
