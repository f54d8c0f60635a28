package sampling

import (
	"context"
	"fmt"
	"time"
)

// MaxStatistics is how many statistics (and boost statistics) documents one
// GetSamplingTargets call may carry.
const MaxStatistics = 25

// staleAfter bounds how far a report's timestamp may be from the server's
// clock; beyond it the client is answered with an UnprocessedStatistics.
const staleAfter = time.Hour

// Statistics is one client's report for one rule (SamplingStatisticsDocument).
type Statistics struct {
	RuleName     string
	ClientID     string
	Timestamp    time.Time
	RequestCount int64
	SampledCount int64
	BorrowCount  int64
}

// BoostStatistics is one client's anomaly report for one rule
// (SamplingBoostStatisticsDocument, spec §5.6).
type BoostStatistics struct {
	RuleName            string
	ServiceName         string
	Timestamp           time.Time
	AnomalyCount        int64
	TotalCount          int64
	SampledAnomalyCount int64
}

// Target is what a client should do for a rule until the next report.
type Target struct {
	RuleName          string
	FixedRate         float64
	ReservoirQuota    int64
	ReservoirQuotaTTL time.Time
	Interval          int32
	Boost             *Boost
}

// Boost is a temporary raised rate (SamplingBoost).
type Boost struct {
	BoostRate    float64
	BoostRateTTL time.Time
}

// Unprocessed is a report the server did not take, with an HTTP-like code:
// SDKs refresh their rules on a code starting with 4.
type Unprocessed struct {
	RuleName, ErrorCode, Message string
}

// TargetsResult is the GetSamplingTargets answer.
type TargetsResult struct {
	Targets              []Target
	LastRuleModification time.Time
	Unprocessed          []Unprocessed
	UnprocessedBoost     []Unprocessed
}

// Check validates the values of a GetSamplingTargets request; the member
// paths in its messages are the wire's.
func Check(stats []Statistics, boosts []BoostStatistics) error {
	if len(stats) > MaxStatistics {
		return invalidf("SamplingStatisticsDocuments may have at most %d entries, got %d", MaxStatistics, len(stats))
	}
	if len(boosts) > MaxStatistics {
		return invalidf("SamplingBoostStatisticsDocuments may have at most %d entries, got %d", MaxStatistics, len(boosts))
	}
	for i, d := range stats {
		at := fmt.Sprintf("SamplingStatisticsDocuments[%d].", i)
		if n := len(d.RuleName); n < 1 || n > maxNameLen {
			return invalidf("%sRuleName must be 1 to %d characters, got %d", at, maxNameLen, n)
		}
		if len(d.ClientID) != 24 {
			return invalidf("%sClientID must be exactly 24 characters, got %d", at, len(d.ClientID))
		}
		for _, c := range []struct {
			name string
			v    int64
		}{{"RequestCount", d.RequestCount}, {"SampledCount", d.SampledCount}, {"BorrowCount", d.BorrowCount}} {
			if c.v < 0 {
				return invalidf("%s%s must be 0 or more, got %d", at, c.name, c.v)
			}
		}
	}
	for i, d := range boosts {
		at := fmt.Sprintf("SamplingBoostStatisticsDocuments[%d].", i)
		if n := len(d.RuleName); n < 1 || n > maxNameLen {
			return invalidf("%sRuleName must be 1 to %d characters, got %d", at, maxNameLen, n)
		}
		if d.AnomalyCount < 0 || d.TotalCount < 0 || d.SampledAnomalyCount < 0 {
			return invalidf("%sAnomalyCount, TotalCount and SampledAnomalyCount must be 0 or more", at)
		}
	}
	return nil
}

// Targets records a round of client reports and answers each with the
// client's target for that rule. Call Check first. It fails only on a
// shared store that cannot be read or written (fleetwide.go).
func (s *Service) Targets(ctx context.Context, stats []Statistics, boosts []BoostStatistics) (TargetsResult, error) {
	now := s.cfg.Now()
	res := TargetsResult{LastRuleModification: s.LastModification()}
	for _, b := range boosts {
		if u := s.boosts.report(s, b, now); u != nil {
			res.UnprocessedBoost = append(res.UnprocessedBoost, *u)
		}
	}
	var reqs []quotaReq
	var recs []Record
	for _, d := range stats {
		rec, ok := s.rule(d.RuleName)
		if !ok {
			res.Unprocessed = append(res.Unprocessed, Unprocessed{d.RuleName, "400",
				fmt.Sprintf("there is no sampling rule named %q; fetch the rules again", d.RuleName)})
			continue
		}
		if skew := now.Sub(d.Timestamp); skew > staleAfter || skew < -staleAfter {
			res.Unprocessed = append(res.Unprocessed, Unprocessed{d.RuleName, "400",
				fmt.Sprintf("Timestamp %d is more than %v from the server's clock (%d)", d.Timestamp.Unix(), staleAfter, now.Unix())})
			continue
		}
		reqs = append(reqs, quotaReq{d, int64(rec.Rule.ReservoirSize)})
		recs = append(recs, rec)
	}
	quotas := make([]int64, len(reqs))
	ttls := make([]time.Time, len(reqs))
	if s.shared != nil {
		grants, err := s.shared.quotas(ctx, reqs, now)
		if err != nil {
			return TargetsResult{}, fmt.Errorf("sampling quotas on the shared store: %w", err)
		}
		for i, g := range grants {
			quotas[i], ttls[i] = g.Quota, g.Expires
		}
	} else {
		for i, q := range reqs {
			d := q.stat
			s.stats.add(d.RuleName, d.Timestamp, d.RequestCount, d.SampledCount, d.BorrowCount)
			quotas[i], ttls[i] = s.fleet.quota(d.RuleName, d.ClientID, d.RequestCount, q.size, now)
		}
	}
	for i, q := range reqs {
		rec := recs[i]
		res.Targets = append(res.Targets, Target{
			RuleName:          q.stat.RuleName,
			FixedRate:         rec.Rule.FixedRate,
			ReservoirQuota:    quotas[i],
			ReservoirQuotaTTL: ttls[i],
			Interval:          int32(Interval / time.Second),
			Boost:             s.boosts.active(q.stat.RuleName, now),
		})
	}
	return res, nil
}

// Summaries returns the statistics windows of the last hour, every
// process's on a shared store.
func (s *Service) Summaries(ctx context.Context) ([]Summary, error) {
	since := s.cfg.Now().Add(-windowsKept * windowWidth)
	if s.shared != nil {
		return s.shared.windows(ctx, since)
	}
	return s.stats.all(since), nil
}
