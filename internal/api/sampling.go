package api

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/roentgen-tracing/roentgen/internal/sampling"
)

// samplingAPI serves sampling rules, targets and statistics (spec §5); the
// sampling package holds the logic, this file the wire shapes.
type samplingAPI struct{ s *Server }

func (a *samplingAPI) svc() *sampling.Service { return a.s.cfg.Sampling }

// samplingError maps the sampling service's refusals to API errors.
func samplingError(err error) error {
	var e *sampling.Error
	if !errors.As(err, &e) {
		return err
	}
	if e.Limit {
		return &Error{Status: http.StatusBadRequest, Type: "RuleLimitExceededException", Message: e.Message}
	}
	return invalid("%s", e.Message)
}

type samplingRuleRecord struct {
	SamplingRule sampling.Rule
	CreatedAt    Timestamp
	ModifiedAt   Timestamp
}

func recordOut(r sampling.Record) samplingRuleRecord {
	out := samplingRuleRecord{SamplingRule: r.Rule, ModifiedAt: ts(r.ModifiedAt)}
	if !r.CreatedAt.IsZero() {
		out.CreatedAt = ts(r.CreatedAt)
	}
	return out
}

type samplingRuleRecordOutput struct {
	SamplingRuleRecord samplingRuleRecord
}

// GetSamplingRules: one page with every rule; SDKs read only the first.
func (a *samplingAPI) getSamplingRules(ctx context.Context, body []byte) (any, error) {
	var in struct{ NextToken *string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	recs := a.svc().Rules()
	out := struct{ SamplingRuleRecords []samplingRuleRecord }{make([]samplingRuleRecord, 0, len(recs))}
	for _, r := range recs {
		out.SamplingRuleRecords = append(out.SamplingRuleRecords, recordOut(r))
	}
	return out, nil
}

func (a *samplingAPI) createSamplingRule(ctx context.Context, body []byte) (any, error) {
	var in struct {
		SamplingRule *sampling.Spec
		Tags         []sampling.Tag
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.SamplingRule == nil {
		return nil, invalid("SamplingRule is required")
	}
	rec, err := a.svc().Create(ctx, *in.SamplingRule, in.Tags)
	if err != nil {
		return nil, samplingError(err)
	}
	return samplingRuleRecordOutput{recordOut(rec)}, nil
}

func (a *samplingAPI) updateSamplingRule(ctx context.Context, body []byte) (any, error) {
	var in struct{ SamplingRuleUpdate *sampling.Update }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.SamplingRuleUpdate == nil {
		return nil, invalid("SamplingRuleUpdate is required")
	}
	rec, err := a.svc().Update(ctx, *in.SamplingRuleUpdate)
	if err != nil {
		return nil, samplingError(err)
	}
	return samplingRuleRecordOutput{recordOut(rec)}, nil
}

func (a *samplingAPI) deleteSamplingRule(ctx context.Context, body []byte) (any, error) {
	var in struct{ RuleName, RuleARN *string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	rec, err := a.svc().Delete(ctx, in.RuleName, in.RuleARN)
	if err != nil {
		return nil, samplingError(err)
	}
	return samplingRuleRecordOutput{recordOut(rec)}, nil
}

// Statistics documents keep pointers so that a missing required member is
// named, rather than read as zero.
type samplingStatisticsDocument struct {
	RuleName     *string
	ClientID     *string
	Timestamp    *Timestamp
	RequestCount *int64
	SampledCount *int64
	BorrowCount  *int64
}

type samplingBoostStatisticsDocument struct {
	RuleName            *string
	ServiceName         *string
	Timestamp           *Timestamp
	AnomalyCount        *int64
	TotalCount          *int64
	SampledAnomalyCount *int64
}

type samplingTargetDocument struct {
	RuleName          string
	FixedRate         float64
	ReservoirQuota    int64
	ReservoirQuotaTTL Timestamp
	Interval          int32
	SamplingBoost     *samplingBoost `json:",omitempty"`
}

type samplingBoost struct {
	BoostRate    float64
	BoostRateTTL Timestamp
}

type unprocessedStatistics struct {
	RuleName, ErrorCode, Message string
}

type getSamplingTargetsOutput struct {
	// Lists are always present: Node's SDK iterates them unconditionally.
	SamplingTargetDocuments    []samplingTargetDocument
	LastRuleModification       Timestamp
	UnprocessedStatistics      []unprocessedStatistics
	UnprocessedBoostStatistics []unprocessedStatistics `json:",omitzero"` // present when boosts were reported
}

// missing names the required members a document lacks.
func missing(at string, members ...any) error {
	var names []string
	for i := 0; i < len(members); i += 2 {
		if isNil(members[i+1]) {
			names = append(names, members[i].(string))
		}
	}
	if len(names) == 0 {
		return nil
	}
	return invalid("%s is missing required member(s): %s", at, strings.Join(names, ", "))
}

func isNil(v any) bool {
	switch p := v.(type) {
	case *string:
		return p == nil
	case *int64:
		return p == nil
	case *Timestamp:
		return p == nil
	}
	return v == nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func (a *samplingAPI) getSamplingTargets(ctx context.Context, body []byte) (any, error) {
	var in struct {
		SamplingStatisticsDocuments      []samplingStatisticsDocument
		SamplingBoostStatisticsDocuments []samplingBoostStatisticsDocument
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.SamplingStatisticsDocuments == nil {
		return nil, invalid("SamplingStatisticsDocuments is required")
	}
	stats := make([]sampling.Statistics, len(in.SamplingStatisticsDocuments))
	for i, d := range in.SamplingStatisticsDocuments {
		if err := missing(fmt.Sprintf("SamplingStatisticsDocuments[%d]", i),
			"RuleName", d.RuleName, "ClientID", d.ClientID, "Timestamp", d.Timestamp,
			"RequestCount", d.RequestCount, "SampledCount", d.SampledCount); err != nil {
			return nil, err
		}
		stats[i] = sampling.Statistics{RuleName: *d.RuleName, ClientID: *d.ClientID, Timestamp: d.Timestamp.Time(),
			RequestCount: *d.RequestCount, SampledCount: *d.SampledCount, BorrowCount: deref(d.BorrowCount)}
	}
	boosts := make([]sampling.BoostStatistics, len(in.SamplingBoostStatisticsDocuments))
	for i, d := range in.SamplingBoostStatisticsDocuments {
		if err := missing(fmt.Sprintf("SamplingBoostStatisticsDocuments[%d]", i),
			"RuleName", d.RuleName, "ServiceName", d.ServiceName, "Timestamp", d.Timestamp,
			"AnomalyCount", d.AnomalyCount, "TotalCount", d.TotalCount, "SampledAnomalyCount", d.SampledAnomalyCount); err != nil {
			return nil, err
		}
		boosts[i] = sampling.BoostStatistics{RuleName: *d.RuleName, ServiceName: *d.ServiceName, Timestamp: d.Timestamp.Time(),
			AnomalyCount: *d.AnomalyCount, TotalCount: *d.TotalCount, SampledAnomalyCount: *d.SampledAnomalyCount}
	}
	if err := sampling.Check(stats, boosts); err != nil {
		return nil, samplingError(err)
	}
	res, err := a.svc().Targets(ctx, stats, boosts)
	if err != nil {
		return nil, err
	}
	out := getSamplingTargetsOutput{
		SamplingTargetDocuments: make([]samplingTargetDocument, 0, len(res.Targets)),
		LastRuleModification:    ts(res.LastRuleModification),
		UnprocessedStatistics:   make([]unprocessedStatistics, 0, len(res.Unprocessed)),
	}
	for _, t := range res.Targets {
		d := samplingTargetDocument{RuleName: t.RuleName, FixedRate: t.FixedRate, ReservoirQuota: t.ReservoirQuota,
			ReservoirQuotaTTL: ts(t.ReservoirQuotaTTL), Interval: t.Interval}
		if b := t.Boost; b != nil {
			d.SamplingBoost = &samplingBoost{BoostRate: b.BoostRate, BoostRateTTL: ts(b.BoostRateTTL)}
		}
		out.SamplingTargetDocuments = append(out.SamplingTargetDocuments, d)
	}
	for _, u := range res.Unprocessed {
		out.UnprocessedStatistics = append(out.UnprocessedStatistics, unprocessedStatistics(u))
	}
	if len(boosts) > 0 {
		out.UnprocessedBoostStatistics = []unprocessedStatistics{}
		for _, u := range res.UnprocessedBoost {
			out.UnprocessedBoostStatistics = append(out.UnprocessedBoostStatistics, unprocessedStatistics(u))
		}
	}
	return out, nil
}

// summariesPage bounds one GetSamplingStatisticSummaries page.
const summariesPage = 500

type samplingStatisticSummary struct {
	RuleName     string
	Timestamp    Timestamp
	RequestCount int64
	BorrowCount  int64
	SampledCount int64
}

// GetSamplingStatisticSummaries: per rule, per 10 s window, ordered by rule
// then time. NextToken names the last window returned.
func (a *samplingAPI) getSamplingStatisticSummaries(ctx context.Context, body []byte) (any, error) {
	var in struct{ NextToken *string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	all, err := a.svc().Summaries(ctx)
	if err != nil {
		return nil, err
	}
	start := 0
	if tok := deref(in.NextToken); tok != "" {
		rule, at, err := parseSummaryToken(tok)
		if err != nil {
			return nil, err
		}
		for start < len(all) && (all[start].RuleName < rule || all[start].RuleName == rule && all[start].Timestamp.Unix() <= at) {
			start++
		}
	}
	end := min(start+summariesPage, len(all))
	out := struct {
		SamplingStatisticSummaries []samplingStatisticSummary
		NextToken                  string `json:",omitempty"`
	}{SamplingStatisticSummaries: make([]samplingStatisticSummary, 0, end-start)}
	for _, s := range all[start:end] {
		out.SamplingStatisticSummaries = append(out.SamplingStatisticSummaries, samplingStatisticSummary{
			RuleName: s.RuleName, Timestamp: ts(s.Timestamp), RequestCount: s.RequestCount,
			BorrowCount: s.BorrowCount, SampledCount: s.SampledCount})
	}
	if end < len(all) {
		last := all[end-1]
		out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(last.Timestamp.Unix(), 10) + "/" + last.RuleName))
	}
	return out, nil
}

func parseSummaryToken(tok string) (string, int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err == nil {
		if at, rule, ok := strings.Cut(string(b), "/"); ok {
			if n, err := strconv.ParseInt(at, 10, 64); err == nil {
				return rule, n, nil
			}
		}
	}
	return "", 0, invalid("NextToken %q was not issued by GetSamplingStatisticSummaries", tok)
}
