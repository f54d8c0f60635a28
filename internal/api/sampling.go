package api

import "context"

// samplingAPI serves sampling rules and targets (spec §5).
type samplingAPI struct{}

func (a *samplingAPI) init(s *Server) error { return nil }

func (a *samplingAPI) getSamplingRules(ctx context.Context, body []byte) (any, error) {
	return notSupported("GetSamplingRules", "sampling rules are not implemented yet")()
}

func (a *samplingAPI) createSamplingRule(ctx context.Context, body []byte) (any, error) {
	return notSupported("CreateSamplingRule", "sampling rules are not implemented yet")()
}

func (a *samplingAPI) updateSamplingRule(ctx context.Context, body []byte) (any, error) {
	return notSupported("UpdateSamplingRule", "sampling rules are not implemented yet")()
}

func (a *samplingAPI) deleteSamplingRule(ctx context.Context, body []byte) (any, error) {
	return notSupported("DeleteSamplingRule", "sampling rules are not implemented yet")()
}

func (a *samplingAPI) getSamplingTargets(ctx context.Context, body []byte) (any, error) {
	return notSupported("GetSamplingTargets", "sampling targets are not implemented yet")()
}

func (a *samplingAPI) getSamplingStatisticSummaries(ctx context.Context, body []byte) (any, error) {
	return notSupported("GetSamplingStatisticSummaries", "sampling statistics are not implemented yet")()
}
