// Package sampling is the server side of X-Ray centralized sampling (spec
// §5): the rules SDKs fetch, persisted in the store's metadata; the
// reservoir quotas that split each rule's fleet-wide ReservoirSize among
// the clients that report it; and the 10-second statistics windows behind
// GetSamplingStatisticSummaries.
//
// Rules persist (metadata kind "sampling-rules", key = RuleName). Client
// statistics and quotas live in memory: they describe the last half minute
// and rebuild themselves from the next round of SDK reports after a restart.
package sampling

import (
	"encoding/json"
	"time"
)

// Metadata kinds in the store, shared with the groups/tags operations.
const (
	MetaRules = "sampling-rules"
	MetaTags  = "tags"
)

// DefaultRuleName is the reserved catch-all rule that always exists.
const DefaultRuleName = "Default"

// Rule is a SamplingRule exactly as the API returns it: every member is
// always present (SDKs dereference them all), and the service keeps
// Attributes non-nil so it encodes as {} (Node's SDK drops a rule whose
// Attributes is missing or null).
type Rule struct {
	RuleName      string
	RuleARN       string
	ResourceARN   string
	Priority      int32
	FixedRate     float64
	ReservoirSize int32
	ServiceName   string
	ServiceType   string
	Host          string
	HTTPMethod    string
	URLPath       string
	Version       int32
	Attributes    map[string]string
	// SamplingRateBoost is emitted only when set: older ADOT samplers
	// reject unknown members.
	SamplingRateBoost *RateBoost `json:",omitempty"`
}

// RateBoost is the 2025 adaptive-sampling ceiling of a rule (spec §5.6).
type RateBoost struct {
	MaxRate               float64
	CooldownWindowMinutes int32
}

// Record is a rule with its lifecycle times.
type Record struct {
	Rule       Rule
	CreatedAt  time.Time
	ModifiedAt time.Time
}

// stored is a Record as kept in the store: epoch seconds, so the value is
// readable by other tools and stable across Go versions.
type stored struct {
	Rule       Rule    `json:"rule"`
	CreatedAt  float64 `json:"created_at"`
	ModifiedAt float64 `json:"modified_at"`
}

func (r Record) marshal() []byte {
	b, _ := json.Marshal(stored{Rule: r.Rule, CreatedAt: epoch(r.CreatedAt), ModifiedAt: epoch(r.ModifiedAt)})
	return b
}

func unmarshalRecord(b []byte) (Record, error) {
	var s stored
	if err := json.Unmarshal(b, &s); err != nil {
		return Record{}, err
	}
	return Record{Rule: s.Rule, CreatedAt: fromEpoch(s.CreatedAt), ModifiedAt: fromEpoch(s.ModifiedAt)}, nil
}

func epoch(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

func fromEpoch(f float64) time.Time {
	if f == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(f*1e9))
}

// defaultRule is the rule a fresh account has (spec §5.4).
func defaultRule(arn string) Rule {
	return Rule{
		RuleName: DefaultRuleName, RuleARN: arn, ResourceARN: "*", Priority: defaultPriority,
		FixedRate: 0.05, ReservoirSize: 1,
		ServiceName: "*", ServiceType: "*", Host: "*", HTTPMethod: "*", URLPath: "*",
		Version: 1, Attributes: map[string]string{},
	}
}

// less orders rules as SDKs evaluate them: ascending priority, then name;
// Default last whatever its priority.
func less(a, b *Rule) bool {
	if (a.RuleName == DefaultRuleName) != (b.RuleName == DefaultRuleName) {
		return b.RuleName == DefaultRuleName
	}
	if a.Priority != b.Priority {
		return a.Priority < b.Priority
	}
	return a.RuleName < b.RuleName
}
