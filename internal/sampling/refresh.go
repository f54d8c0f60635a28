package sampling

import (
	"bytes"
	"context"
	"fmt"
	"time"
)

// load reads every stored rule.
func (s *Service) load(ctx context.Context) (map[string]Record, error) {
	rules := map[string]Record{}
	var bad error
	err := s.cfg.Store.ListMeta(ctx, MetaRules, func(key string, value []byte) bool {
		rec, err := unmarshalRecord(value)
		if err != nil {
			bad = fmt.Errorf("sampling rule %q in the store: %w", key, err)
			return false
		}
		rec.Rule.RuleARN = s.ARN(rec.Rule.RuleName)
		if rec.Rule.Attributes == nil {
			rec.Rule.Attributes = map[string]string{}
		}
		rules[rec.Rule.RuleName] = rec
		return true
	})
	if err == nil {
		err = bad
	}
	return rules, err
}

// Refresh reloads the rules from the store, for a store other processes
// change too (store.Sharer): a rule created, changed or deleted through one
// process is what the next GetSamplingRules or GetSamplingTargets of every
// other answers with. A change moves LastRuleModification to the change's
// own time, or to now for a deletion (which leaves no record), so that SDKs
// fetch the rules again whichever process they ask.
func (s *Service) Refresh(ctx context.Context) error {
	s.mu.Lock() // a change this process makes meanwhile is not overwritten
	defer s.mu.Unlock()
	rules, err := s.load(ctx)
	if err != nil {
		return err
	}
	for name, old := range s.rules {
		r, ok := rules[name]
		switch {
		case !ok && name == DefaultRuleName:
			rules[name] = old // never deleted; stored at first start
		case !ok:
			s.fleet.forget(name)
			s.stats.forget(name)
			s.boosts.forget(name)
			s.lastMod = later(s.lastMod, s.cfg.Now())
		case !bytes.Equal(r.marshal(), old.marshal()):
			s.lastMod = later(s.lastMod, r.ModifiedAt)
		}
	}
	for name, r := range rules {
		if _, ok := s.rules[name]; !ok {
			s.lastMod = later(s.lastMod, r.ModifiedAt)
		}
	}
	s.rules = rules
	return nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
