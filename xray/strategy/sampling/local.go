package sampling

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"time"
)

// DefaultRules is the built-in local rule set of every X-Ray SDK: the first
// request each second, then 5 % of the rest.
const DefaultRules = `{"version": 2, "default": {"fixed_target": 1, "rate": 0.05}, "rules": []}`

// RuleManifest is a local rules file.
type RuleManifest struct {
	Version int     `json:"version"`
	Default *Rule   `json:"default"`
	Rules   []*Rule `json:"rules"`
}

// Rule is one local rule.
type Rule struct {
	Description string  `json:"description,omitempty"`
	Host        string  `json:"host,omitempty"`
	ServiceName string  `json:"service_name,omitempty"` // version 1: matched against Host
	HTTPMethod  string  `json:"http_method,omitempty"`
	URLPath     string  `json:"url_path,omitempty"`
	FixedTarget int64   `json:"fixed_target"`
	Rate        float64 `json:"rate"`

	Reservoir *Reservoir `json:"-"`
}

// Reservoir lets Capacity requests through per wall-clock second.
type Reservoir struct {
	mu       sync.Mutex
	Capacity int64
	used     int64
	second   int64
}

// Take reports whether the reservoir has room in the second of now.
func (r *Reservoir) Take(now time.Time) bool {
	s := now.Unix()
	r.mu.Lock()
	defer r.mu.Unlock()
	if s != r.second {
		r.second, r.used = s, 0
	}
	if r.used < r.Capacity {
		r.used++
		return true
	}
	return false
}

// ManifestFromJSONBytes parses and checks a rules file.
func ManifestFromJSONBytes(b []byte) (*RuleManifest, error) {
	var m RuleManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("sampling: rules file: %w", err)
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// ManifestFromFilePath reads a rules file.
func ManifestFromFilePath(fp string) (*RuleManifest, error) {
	b, err := os.ReadFile(fp)
	if err != nil {
		return nil, err
	}
	return ManifestFromJSONBytes(b)
}

func (m *RuleManifest) validate() error {
	if m.Version != 1 && m.Version != 2 {
		return fmt.Errorf("sampling: rules file version %d: want 1 or 2", m.Version)
	}
	if m.Default == nil {
		return errors.New("sampling: rules file has no default rule")
	}
	if m.Default.Host != "" || m.Default.ServiceName != "" || m.Default.HTTPMethod != "" || m.Default.URLPath != "" {
		return errors.New("sampling: the default rule takes only fixed_target and rate")
	}
	for i, r := range append([]*Rule{m.Default}, m.Rules...) {
		if r == nil {
			return fmt.Errorf("sampling: rule %d is null", i)
		}
		if r.FixedTarget < 0 || r.Rate < 0 || r.Rate > 1 {
			return fmt.Errorf("sampling: rule %d: fixed_target must be ≥ 0 and rate within 0..1", i)
		}
		if i > 0 {
			if m.Version == 1 {
				if r.Host == "" {
					r.Host = r.ServiceName
				}
			}
			if r.Host == "" || r.HTTPMethod == "" || r.URLPath == "" {
				return fmt.Errorf("sampling: rule %d: host (service_name in version 1), http_method and url_path are required", i)
			}
		}
		r.Reservoir = &Reservoir{Capacity: r.FixedTarget}
	}
	return nil
}

// LocalizedStrategy samples with local rules only.
type LocalizedStrategy struct {
	manifest *RuleManifest
	now      func() time.Time
	rand     func() float64
}

// NewLocalizedStrategy uses DefaultRules.
func NewLocalizedStrategy() (*LocalizedStrategy, error) {
	return NewLocalizedStrategyFromJSONBytes([]byte(DefaultRules))
}

// NewLocalizedStrategyFromFilePath reads a rules file.
func NewLocalizedStrategyFromFilePath(fp string) (*LocalizedStrategy, error) {
	m, err := ManifestFromFilePath(fp)
	if err != nil {
		return nil, err
	}
	return &LocalizedStrategy{manifest: m}, nil
}

// NewLocalizedStrategyFromJSONBytes parses rules.
func NewLocalizedStrategyFromJSONBytes(b []byte) (*LocalizedStrategy, error) {
	m, err := ManifestFromJSONBytes(b)
	if err != nil {
		return nil, err
	}
	return &LocalizedStrategy{manifest: m}, nil
}

// ShouldTrace implements Strategy.
func (s *LocalizedStrategy) ShouldTrace(r *Request) *Decision {
	d := s.Decide(*r)
	return &d
}

// Decide implements Decider: first matching rule in file order, else the
// default; its reservoir first, then its rate.
func (s *LocalizedStrategy) Decide(r Request) Decision {
	rule := s.manifest.Default
	for _, x := range s.manifest.Rules {
		if matchAttr(x.Host, r.Host) && matchAttr(x.HTTPMethod, r.Method) && matchAttr(x.URLPath, r.URL) {
			rule = x
			break
		}
	}
	now := r.Now
	if s.now != nil {
		now = s.now()
	} else if now.IsZero() {
		now = time.Now()
	}
	if rule.Reservoir.Take(now) {
		return Decision{Sample: true}
	}
	f := rand.Float64
	if s.rand != nil {
		f = s.rand
	}
	return Decision{Sample: f() < rule.Rate}
}
