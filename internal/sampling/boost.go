package sampling

import (
	"fmt"
	"sync"
	"time"
)

// boostFor is how long a boost lasts once anomalies are seen (the AWS
// documentation: "lasts up to 1 minute, then cooldown").
const boostFor = time.Minute

// boosts is the adaptive-sampling state (spec §5.6), in memory: a rule with
// a SamplingRateBoost that hears of anomalies is raised to its MaxRate for
// boostFor, then not again until its cooldown window has passed.
type boosts struct {
	mu    sync.Mutex
	rules map[string]*boostState
}

type boostState struct {
	rate       float64
	until      time.Time
	coolsUntil time.Time
}

func (b *boosts) report(s *Service, d BoostStatistics, now time.Time) *Unprocessed {
	rec, ok := s.rule(d.RuleName)
	switch {
	case !ok:
		return &Unprocessed{d.RuleName, "400", fmt.Sprintf("there is no sampling rule named %q", d.RuleName)}
	case rec.Rule.SamplingRateBoost == nil:
		return &Unprocessed{d.RuleName, "400", fmt.Sprintf("sampling rule %q has no SamplingRateBoost", d.RuleName)}
	case d.AnomalyCount == 0:
		return nil
	}
	cfg := rec.Rule.SamplingRateBoost
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.rules == nil {
		b.rules = map[string]*boostState{}
	}
	st := b.rules[d.RuleName]
	if st == nil {
		st = &boostState{}
		b.rules[d.RuleName] = st
	}
	if now.Before(st.coolsUntil) {
		return nil
	}
	st.rate = max(cfg.MaxRate, rec.Rule.FixedRate)
	st.until = now.Add(boostFor)
	st.coolsUntil = now.Add(time.Duration(cfg.CooldownWindowMinutes) * time.Minute)
	return nil
}

func (b *boosts) active(rule string, now time.Time) *Boost {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.rules[rule]
	if st == nil || !now.Before(st.until) {
		return nil
	}
	return &Boost{BoostRate: st.rate, BoostRateTTL: st.until}
}

func (b *boosts) forget(rule string) {
	b.mu.Lock()
	delete(b.rules, rule)
	b.mu.Unlock()
}
