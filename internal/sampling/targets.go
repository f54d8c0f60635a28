package sampling

import (
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
// client's target for that rule. Call Check first.
func (s *Service) Targets(stats []Statistics, boosts []BoostStatistics) TargetsResult {
	now := s.cfg.Now()
	res := TargetsResult{LastRuleModification: s.LastModification()}
	for _, b := range boosts {
		if u := s.boosts.report(s, b, now); u != nil {
			res.UnprocessedBoost = append(res.UnprocessedBoost, *u)
		}
	}
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
		s.stats.add(d.RuleName, d.Timestamp, d.RequestCount, d.SampledCount, d.BorrowCount)
		q, ttl := s.fleet.quota(d.RuleName, d.ClientID, d.RequestCount, int64(rec.Rule.ReservoirSize), now)
		res.Targets = append(res.Targets, Target{
			RuleName:          d.RuleName,
			FixedRate:         rec.Rule.FixedRate,
			ReservoirQuota:    q,
			ReservoirQuotaTTL: ttl,
			Interval:          int32(Interval / time.Second),
			Boost:             s.boosts.active(d.RuleName, now),
		})
	}
	return res
}

// Summaries returns the statistics windows of the last hour.
func (s *Service) Summaries() []Summary {
	return s.stats.all(s.cfg.Now().Add(-windowsKept * windowWidth))
}
