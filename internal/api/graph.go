package api

import "context"

// graphAPI serves the service-graph operations (spec §6).
type graphAPI struct{}

func (g *graphAPI) init(s *Server) error { return nil }

func (g *graphAPI) getServiceGraph(ctx context.Context, body []byte) (any, error) {
	return notSupported("GetServiceGraph", "the service graph is not implemented yet")()
}

func (g *graphAPI) getTraceGraph(ctx context.Context, body []byte) (any, error) {
	return notSupported("GetTraceGraph", "the service graph is not implemented yet")()
}

func (g *graphAPI) getTimeSeriesServiceStatistics(ctx context.Context, body []byte) (any, error) {
	return notSupported("GetTimeSeriesServiceStatistics", "the service graph is not implemented yet")()
}
