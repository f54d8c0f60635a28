package sampling

import (
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Spec is a CreateSamplingRule SamplingRule: pointers tell an absent
// member from a zero one, as the model marks most members required.
type Spec struct {
	RuleName          *string
	RuleARN           *string
	ResourceARN       *string
	Priority          *int32
	FixedRate         *float64
	ReservoirSize     *int32
	ServiceName       *string
	ServiceType       *string
	Host              *string
	HTTPMethod        *string
	URLPath           *string
	Version           *int32
	Attributes        map[string]string
	SamplingRateBoost *RateBoost
}

// Update is an UpdateSamplingRule SamplingRuleUpdate: only present members
// change. The rule is named by RuleName or RuleARN.
type Update struct {
	RuleName          *string
	RuleARN           *string
	ResourceARN       *string
	Priority          *int32
	FixedRate         *float64
	ReservoirSize     *int32
	ServiceName       *string
	ServiceType       *string
	Host              *string
	HTTPMethod        *string
	URLPath           *string
	Attributes        map[string]string
	SamplingRateBoost *RateBoost
}

// Tag is a resource tag given at creation.
type Tag struct {
	Key   string
	Value string
}

// Field limits from the API model (spec §3.4).
const (
	maxNameLen       = 32
	maxMatchLen      = 64 // ServiceName, ServiceType, Host
	maxMethodLen     = 10
	maxURLPathLen    = 128
	maxResourceARN   = 500
	maxAttributes    = 5
	maxAttributeLen  = 32
	minPriority      = 1
	maxPriority      = 9999
	defaultPriority  = 10000
	maxTags          = 50
	maxTagKeyLen     = 128
	maxTagValueLen   = 256
	reservedTagStart = "aws:"
)

// checkName accepts what the console accepts: letters, digits, '-' and
// '_'. A '/' or ':' would make the rule's ARN ambiguous.
func checkName(member, name string) error {
	if name == "" || utf8.RuneCountInString(name) > maxNameLen {
		return invalidf("%s must be 1 to %d characters, got %d", member, maxNameLen, utf8.RuneCountInString(name))
	}
	for i, r := range name {
		if !(r == '-' || r == '_' || r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r))) {
			return invalidf("%s %q has %q at position %d: use letters, digits, '-' and '_'", member, name, r, i)
		}
	}
	return nil
}

// checkGlob checks a match pattern: '*' and '?' are wildcards, anything
// printable is literal; control characters can never match a request.
func checkGlob(member, v string, max int) error {
	if n := utf8.RuneCountInString(v); n > max {
		return invalidf("%s must be at most %d characters, got %d", member, max, n)
	}
	if !utf8.ValidString(v) {
		return invalidf("%s is not valid UTF-8", member)
	}
	for i, r := range v {
		if unicode.IsControl(r) {
			return invalidf("%s has a control character (%U) at position %d", member, r, i)
		}
	}
	return nil
}

// check validates a complete rule (after a create or a merged update).
func (r *Rule) check(prefix string) error {
	m := func(name string) string { return prefix + name }
	if r.RuleName != DefaultRuleName && (r.Priority < minPriority || r.Priority > maxPriority) {
		return invalidf("%s must be between %d and %d, got %d", m("Priority"), minPriority, maxPriority, r.Priority)
	}
	if math.IsNaN(r.FixedRate) || r.FixedRate < 0 || r.FixedRate > 1 {
		return invalidf("%s must be between 0 and 1, got %v", m("FixedRate"), r.FixedRate)
	}
	if r.ReservoirSize < 0 {
		return invalidf("%s must be 0 or more, got %d", m("ReservoirSize"), r.ReservoirSize)
	}
	if r.Version != 1 {
		return invalidf("%s must be 1, got %d", m("Version"), r.Version)
	}
	for _, g := range []struct {
		name, v string
		max     int
	}{
		{"ResourceARN", r.ResourceARN, maxResourceARN},
		{"ServiceName", r.ServiceName, maxMatchLen},
		{"ServiceType", r.ServiceType, maxMatchLen},
		{"Host", r.Host, maxMatchLen},
		{"HTTPMethod", r.HTTPMethod, maxMethodLen},
		{"URLPath", r.URLPath, maxURLPathLen},
	} {
		if err := checkGlob(m(g.name), g.v, g.max); err != nil {
			return err
		}
	}
	if len(r.Attributes) > maxAttributes {
		return invalidf("%s may have at most %d entries, got %d", m("Attributes"), maxAttributes, len(r.Attributes))
	}
	for k, v := range r.Attributes {
		if n := utf8.RuneCountInString(k); n < 1 || n > maxAttributeLen {
			return invalidf("%s key %q must be 1 to %d characters", m("Attributes"), k, maxAttributeLen)
		}
		if n := utf8.RuneCountInString(v); n < 1 || n > maxAttributeLen {
			return invalidf("%s[%q] value must be 1 to %d characters, got %d", m("Attributes"), k, maxAttributeLen, n)
		}
		if err := checkGlob(fmt.Sprintf("%s[%q]", m("Attributes"), k), v, maxAttributeLen); err != nil {
			return err
		}
	}
	if b := r.SamplingRateBoost; b != nil {
		if r.RuleName == DefaultRuleName {
			return invalidf("%s cannot be set on the Default rule", m("SamplingRateBoost"))
		}
		if math.IsNaN(b.MaxRate) || b.MaxRate < 0 || b.MaxRate > 1 {
			return invalidf("%s must be between 0 and 1, got %v", m("SamplingRateBoost.MaxRate"), b.MaxRate)
		}
		if b.CooldownWindowMinutes < 1 {
			return invalidf("%s must be at least 1, got %d", m("SamplingRateBoost.CooldownWindowMinutes"), b.CooldownWindowMinutes)
		}
	}
	return nil
}

// rule turns a create request into a rule, or says which member is wrong.
func (s *Spec) rule(name string) (Rule, error) {
	var missing []string
	str := func(member string, p *string) string {
		if p == nil {
			missing = append(missing, member)
			return ""
		}
		return *p
	}
	r := Rule{
		RuleName:          name,
		ResourceARN:       str("ResourceARN", s.ResourceARN),
		ServiceName:       str("ServiceName", s.ServiceName),
		ServiceType:       str("ServiceType", s.ServiceType),
		Host:              str("Host", s.Host),
		HTTPMethod:        str("HTTPMethod", s.HTTPMethod),
		URLPath:           str("URLPath", s.URLPath),
		Attributes:        s.Attributes,
		SamplingRateBoost: s.SamplingRateBoost,
	}
	if s.Priority == nil {
		missing = append(missing, "Priority")
	} else {
		r.Priority = *s.Priority
	}
	if s.FixedRate == nil {
		missing = append(missing, "FixedRate")
	} else {
		r.FixedRate = *s.FixedRate
	}
	if s.ReservoirSize == nil {
		missing = append(missing, "ReservoirSize")
	} else {
		r.ReservoirSize = *s.ReservoirSize
	}
	if s.Version == nil {
		missing = append(missing, "Version")
	} else {
		r.Version = *s.Version
	}
	if len(missing) > 0 {
		return Rule{}, invalidf("SamplingRule is missing required member(s): %s", strings.Join(missing, ", "))
	}
	if r.Attributes == nil {
		r.Attributes = map[string]string{}
	}
	return r, r.check("SamplingRule.")
}

// apply merges an update into a copy of r. For the Default rule only
// FixedRate and ReservoirSize may change; other members are accepted only
// when they repeat the current value, so tools that send whole rules work.
func (u *Update) apply(r Rule) (Rule, error) {
	isDefault := r.RuleName == DefaultRuleName
	fixed := func(member string, same bool) error {
		if isDefault && !same {
			return invalidf("SamplingRuleUpdate.%s cannot change on the Default rule: only FixedRate and ReservoirSize can", member)
		}
		return nil
	}
	strs := []struct {
		name string
		in   *string
		dst  *string
	}{
		{"ResourceARN", u.ResourceARN, &r.ResourceARN},
		{"ServiceName", u.ServiceName, &r.ServiceName},
		{"ServiceType", u.ServiceType, &r.ServiceType},
		{"Host", u.Host, &r.Host},
		{"HTTPMethod", u.HTTPMethod, &r.HTTPMethod},
		{"URLPath", u.URLPath, &r.URLPath},
	}
	for _, f := range strs {
		if f.in == nil {
			continue
		}
		if err := fixed(f.name, *f.in == *f.dst); err != nil {
			return r, err
		}
		*f.dst = *f.in
	}
	if u.Priority != nil {
		if err := fixed("Priority", *u.Priority == r.Priority); err != nil {
			return r, err
		}
		r.Priority = *u.Priority
	}
	if u.Attributes != nil {
		if err := fixed("Attributes", len(u.Attributes) == 0 && len(r.Attributes) == 0); err != nil {
			return r, err
		}
		r.Attributes = u.Attributes
	}
	if u.SamplingRateBoost != nil {
		if isDefault {
			return r, invalidf("SamplingRuleUpdate.SamplingRateBoost cannot be set on the Default rule")
		}
		b := *u.SamplingRateBoost
		r.SamplingRateBoost = &b
	}
	if u.FixedRate != nil {
		r.FixedRate = *u.FixedRate
	}
	if u.ReservoirSize != nil {
		r.ReservoirSize = *u.ReservoirSize
	}
	return r, r.check("SamplingRuleUpdate.")
}

func checkTags(tags []Tag) error {
	if len(tags) > maxTags {
		return invalidf("Tags may have at most %d entries, got %d", maxTags, len(tags))
	}
	seen := map[string]bool{}
	for i, t := range tags {
		if n := utf8.RuneCountInString(t.Key); n < 1 || n > maxTagKeyLen {
			return invalidf("Tags[%d].Key must be 1 to %d characters, got %d", i, maxTagKeyLen, n)
		}
		if n := utf8.RuneCountInString(t.Value); n > maxTagValueLen {
			return invalidf("Tags[%d].Value must be at most %d characters, got %d", i, maxTagValueLen, n)
		}
		if strings.HasPrefix(strings.ToLower(t.Key), reservedTagStart) {
			return invalidf("Tags[%d].Key %q uses the reserved prefix %q", i, t.Key, reservedTagStart)
		}
		if seen[t.Key] {
			return invalidf("Tags[%d].Key %q is given twice", i, t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}
