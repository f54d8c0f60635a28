package api

import (
	"context"
	"encoding/json"
	"math"
)

// GetIndexingRules and UpdateIndexingRule.
//
// On AWS, once Transaction Search is on (UpdateTraceSegmentDestination to
// CloudWatchLogs) every span is kept in CloudWatch Logs and the Default
// rule's share of trace ids is indexed as trace summaries for search.
// Roentgen does the same on its own store: with destination CloudWatchLogs
// GetTraceSummaries and the trace aggregates see only the traces whose id
// falls in the share (keep.Indexed, a salted hash of the id, so every
// process agrees); every trace is still stored, counted in the graph and
// statistics, and returned by id (BatchGetTraces, GetTraceGraph, trace
// retrieval). With destination XRay every trace is indexed, as on AWS.
// docs/indexing.md.

const indexingKey = "indexing/Default"

// defaultIndexingPercentage is X-Ray's default (the free 1 %).
const defaultIndexingPercentage = 1

type indexingRuleOut struct {
	Name       string
	ModifiedAt Timestamp
	Rule       struct {
		Probabilistic probabilisticRule
	}
}

type probabilisticRule struct {
	DesiredSamplingPercentage float64
	ActualSamplingPercentage  float64
}

type storedIndexingRule struct {
	Desired    float64
	ModifiedAt Timestamp
}

// indexingShare is the share of trace ids searches see, from 0 to 1.
func (s *Server) indexingShare(ctx context.Context) (float64, error) {
	d, err := s.traceSegmentDestination(ctx)
	if err != nil || d != destinationCloudWatchLogs {
		return 1, err
	}
	st := storedIndexingRule{Desired: defaultIndexingPercentage}
	_, err = s.getMetaJSON(ctx, metaAccount, indexingKey, &st)
	return st.Desired / 100, err
}

func (s *Server) indexingRule(ctx context.Context) (indexingRuleOut, error) {
	st := storedIndexingRule{Desired: defaultIndexingPercentage}
	if _, err := s.getMetaJSON(ctx, metaAccount, indexingKey, &st); err != nil {
		return indexingRuleOut{}, err
	}
	share, err := s.indexingShare(ctx)
	out := indexingRuleOut{Name: "Default", ModifiedAt: st.ModifiedAt}
	out.Rule.Probabilistic = probabilisticRule{DesiredSamplingPercentage: st.Desired, ActualSamplingPercentage: share * 100}
	return out, err
}

func (s *Server) getIndexingRules(ctx context.Context, in *struct{ NextToken *string }) (any, error) {
	if in.NextToken != nil && *in.NextToken != "" {
		return nil, invalid("NextToken %q does not belong to GetIndexingRules: all rules fit one page", *in.NextToken)
	}
	r, err := s.indexingRule(ctx)
	if err != nil {
		return nil, err
	}
	return struct{ IndexingRules []indexingRuleOut }{[]indexingRuleOut{r}}, nil
}

func (s *Server) updateIndexingRule(ctx context.Context, in *struct {
	Name *string
	Rule map[string]json.RawMessage
}) (any, error) {
	if in.Name == nil || *in.Name == "" {
		return nil, invalid("Name is required")
	}
	if *in.Name != "Default" {
		return nil, notFound(*in.Name, "indexing rule %q does not exist; the only rule is Default", *in.Name)
	}
	if len(in.Rule) != 1 || in.Rule["Probabilistic"] == nil {
		return nil, invalid(`Rule must hold exactly one member, Probabilistic: {"Probabilistic":{"DesiredSamplingPercentage":1}}`)
	}
	var p struct{ DesiredSamplingPercentage *float64 }
	if err := decode(in.Rule["Probabilistic"], &p); err != nil {
		return nil, err
	}
	d := p.DesiredSamplingPercentage
	if d == nil || math.IsNaN(*d) || *d < 0 || *d > 100 {
		return nil, invalid("Rule.Probabilistic.DesiredSamplingPercentage is required, from 0 to 100")
	}
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	if err := s.putMetaJSON(ctx, metaAccount, indexingKey, storedIndexingRule{Desired: *d, ModifiedAt: ts(s.now())}); err != nil {
		return nil, err
	}
	r, err := s.indexingRule(ctx)
	if err != nil {
		return nil, err
	}
	return struct{ IndexingRule indexingRuleOut }{r}, nil
}
