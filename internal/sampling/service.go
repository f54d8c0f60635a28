package sampling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// DefaultMaxRules is how many rules besides Default an account may have,
// AWS's documented quota.
const DefaultMaxRules = 25

// Config wires the sampling service.
type Config struct {
	Store     store.Store
	Region    string
	AccountID string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxRules bounds the user rules (Default not counted); 0 means
	// DefaultMaxRules.
	MaxRules int
}

// Service owns the rules, the quota split and the statistics windows.
type Service struct {
	cfg Config

	mu      sync.Mutex // serialises rule changes and guards the fields below
	rules   map[string]Record
	lastMod time.Time // newest create/update/delete, or start-up

	fleet  *fleet
	stats  *windows
	boosts boosts
	// shared, on a store other processes answer from too, splits the
	// reservoirs fleet-wide and keeps the windows there (fleetwide.go);
	// fleet and stats are then unused.
	shared *sharedFleet
}

// New loads the rules from the store, creating Default on first start.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxRules <= 0 {
		cfg.MaxRules = DefaultMaxRules
	}
	s := &Service{cfg: cfg, rules: map[string]Record{}, fleet: newFleet(), stats: newWindows()}
	if l, ok := cfg.Store.(store.QuotaLedger); ok && store.IsShared(cfg.Store) {
		s.shared = &sharedFleet{ledger: l}
	}
	// Start-up counts as a modification: SDKs that fetched rules from an
	// earlier run (or another server) refresh once on their next report.
	s.lastMod = cfg.Now()
	rules, err := s.load(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading sampling rules: %w", err)
	}
	s.rules = rules
	if _, ok := s.rules[DefaultRuleName]; !ok {
		rec := Record{Rule: defaultRule(s.ARN(DefaultRuleName)), ModifiedAt: cfg.Now()}
		if err := cfg.Store.PutMeta(ctx, MetaRules, DefaultRuleName, rec.marshal()); err != nil {
			return nil, fmt.Errorf("creating the Default sampling rule: %w", err)
		}
		s.rules[DefaultRuleName] = rec
	}
	return s, nil
}

// ARN is a rule's ARN in this server's region and account.
func (s *Service) ARN(name string) string {
	return fmt.Sprintf("arn:aws:xray:%s:%s:sampling-rule/%s", s.cfg.Region, s.cfg.AccountID, name)
}

// nameOf resolves RuleName / RuleARN (one is enough; both must agree).
func (s *Service) nameOf(member string, name, arn *string) (string, error) {
	var fromARN string
	if arn != nil {
		i := strings.Index(*arn, ":sampling-rule/")
		if !strings.HasPrefix(*arn, "arn:") || i < 0 {
			return "", invalidf("%sRuleARN %q is not a sampling rule ARN (arn:aws:xray:<region>:<account>:sampling-rule/<name>)", member, *arn)
		}
		fromARN = (*arn)[i+len(":sampling-rule/"):]
	}
	switch {
	case name != nil && arn != nil && *name != fromARN:
		return "", invalidf("%sRuleName %q and RuleARN %q name different rules; give one of them", member, *name, *arn)
	case name != nil:
		return *name, nil
	case arn != nil:
		return fromARN, nil
	}
	return "", invalidf("%sRuleName or %sRuleARN is required", member, member)
}

// Rules returns every rule in evaluation order (Default last).
func (s *Service) Rules() []Record {
	s.mu.Lock()
	out := make([]Record, 0, len(s.rules))
	for _, r := range s.rules {
		out = append(out, r)
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return less(&out[i].Rule, &out[j].Rule) })
	return out
}

// LastModification is when a rule last changed (or the service started).
func (s *Service) LastModification() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastMod
}

// rule returns one rule by name.
func (s *Service) rule(name string) (Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rules[name]
	return r, ok
}

// Create adds a rule and its tags.
func (s *Service) Create(ctx context.Context, spec Spec, tags []Tag) (Record, error) {
	name, err := s.nameOf("SamplingRule.", spec.RuleName, spec.RuleARN)
	if err != nil {
		return Record{}, err
	}
	if err := checkName("SamplingRule.RuleName", name); err != nil {
		return Record{}, err
	}
	rule, err := spec.rule(name)
	if err != nil {
		return Record{}, err
	}
	if err := checkTags(tags); err != nil {
		return Record{}, err
	}
	rule.RuleARN = s.ARN(name)

	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.rules[name]; ok {
		return Record{}, invalidf("a sampling rule named %q already exists", name)
	}
	if len(s.rules)-1 >= s.cfg.MaxRules {
		return Record{}, &Error{Limit: true, Message: fmt.Sprintf("this server allows %d sampling rules besides Default; delete one first", s.cfg.MaxRules)}
	}
	now := s.cfg.Now()
	rec := Record{Rule: rule, CreatedAt: now, ModifiedAt: now}
	if len(tags) > 0 {
		b, _ := json.Marshal(tags)
		if err := s.cfg.Store.PutMeta(ctx, MetaTags, rule.RuleARN, b); err != nil {
			return Record{}, err
		}
	}
	if err := s.cfg.Store.PutMeta(ctx, MetaRules, name, rec.marshal()); err != nil {
		return Record{}, err
	}
	s.rules[name] = rec
	s.lastMod = now
	return rec, nil
}

// Update changes the members an update names.
func (s *Service) Update(ctx context.Context, u Update) (Record, error) {
	name, err := s.nameOf("SamplingRuleUpdate.", u.RuleName, u.RuleARN)
	if err != nil {
		return Record{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.rules[name]
	if !ok {
		return Record{}, invalidf("there is no sampling rule named %q", name)
	}
	rule, err := u.apply(rec.Rule)
	if err != nil {
		return Record{}, err
	}
	now := s.cfg.Now()
	rec.Rule, rec.ModifiedAt = rule, now
	if err := s.cfg.Store.PutMeta(ctx, MetaRules, name, rec.marshal()); err != nil {
		return Record{}, err
	}
	s.rules[name] = rec
	s.lastMod = now
	return rec, nil
}

// Delete removes a rule, its tags and its quota state, returning the rule.
func (s *Service) Delete(ctx context.Context, name, arn *string) (Record, error) {
	n, err := s.nameOf("", name, arn)
	if err != nil {
		return Record{}, err
	}
	if n == DefaultRuleName {
		return Record{}, invalidf("the Default sampling rule cannot be deleted; set its FixedRate and ReservoirSize instead")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.rules[n]
	if !ok {
		return Record{}, invalidf("there is no sampling rule named %q", n)
	}
	if err := s.cfg.Store.DeleteMeta(ctx, MetaRules, n); err != nil {
		return Record{}, err
	}
	if err := s.cfg.Store.DeleteMeta(ctx, MetaTags, rec.Rule.RuleARN); err != nil && !errors.Is(err, store.ErrNotFound) {
		return Record{}, err
	}
	delete(s.rules, n)
	s.fleet.forget(n)
	s.stats.forget(n)
	s.boosts.forget(n)
	s.lastMod = s.cfg.Now()
	return rec, nil
}
