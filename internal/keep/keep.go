// Package keep decides, once a whole trace has been summarised, whether its
// documents and summary are kept (tail sampling). Policies are written in
// the X-Ray filter language, each with a keep rate; the first policy whose
// expression matches decides, a default rate decides the rest.
//
// The decision is a pure function of the trace id and the summary: a trace
// is kept when the hash of its id, read as a number in [0, 1), is below
// the rate. So every Roentgen process on one database, and every
// re-summary of one trace, decides alike, and the traces kept at 5% are a
// fixed 5% of the ids, whoever looks.
package keep

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strings"

	"github.com/roentgen-tracing/roentgen/internal/filter"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// DefaultPolicyName names the decision of a trace no policy matched.
const DefaultPolicyName = "Default"

// MaxPolicies bounds the policy list: each is evaluated on every trace.
const MaxPolicies = 50

// MaxNameLength bounds a policy name.
const MaxNameLength = 64

// Policy keeps KeepRate of the traces its expression matches.
type Policy struct {
	Name             string
	FilterExpression string
	KeepRate         float64
}

// Policies is the ordered list and the rate of traces none matches.
type Policies struct {
	Policies    []Policy
	DefaultRate float64
}

// Default keeps everything: users who set no policy see no change.
func Default() Policies { return Policies{DefaultRate: 1} }

// Compiled is a validated policy list, ready to decide; immutable.
type Compiled struct {
	p     Policies
	exprs []*filter.Expr
}

// Decision is what was decided for one trace.
type Decision struct {
	Keep bool
	// Policy is the deciding policy's name, or DefaultPolicyName.
	Policy string
}

// ValidationError says what is wrong with a policy list, in words meant
// for the API's InvalidRequestException.
type ValidationError struct{ Msg string }

func (e *ValidationError) Error() string { return e.Msg }

func invalid(format string, args ...any) error {
	return &ValidationError{Msg: fmt.Sprintf(format, args...)}
}

// Compile validates p. Errors are *ValidationError; a bad expression's
// message is the filter language's own (what was expected, at which column).
func Compile(p Policies, opts filter.Options) (*Compiled, error) {
	if len(p.Policies) > MaxPolicies {
		return nil, invalid("Policies: %d policies; at most %d are allowed", len(p.Policies), MaxPolicies)
	}
	if err := checkRate("DefaultKeepRate", p.DefaultRate); err != nil {
		return nil, err
	}
	c := &Compiled{p: Policies{DefaultRate: p.DefaultRate, Policies: append([]Policy(nil), p.Policies...)}}
	names := map[string]bool{}
	for i, pol := range p.Policies {
		where := fmt.Sprintf("Policies[%d]", i)
		if err := checkName(where, pol.Name); err != nil {
			return nil, err
		}
		if names[pol.Name] {
			return nil, invalid("%s.Name: %q is used by an earlier policy; names must be unique", where, pol.Name)
		}
		names[pol.Name] = true
		if err := checkRate(where+".KeepRate", pol.KeepRate); err != nil {
			return nil, err
		}
		if strings.TrimSpace(pol.FilterExpression) == "" {
			return nil, invalid("%s.FilterExpression: required (a filter expression such as `fault OR error`)", where)
		}
		e, err := filter.Parse(pol.FilterExpression, opts)
		if err != nil {
			var fe *filter.Error
			if errors.As(err, &fe) {
				return nil, invalid("%s.FilterExpression: %s", where, fe.Error())
			}
			return nil, invalid("%s.FilterExpression: %v", where, err)
		}
		c.exprs = append(c.exprs, e)
	}
	return c, nil
}

func checkRate(where string, r float64) error {
	if math.IsNaN(r) || r < 0 || r > 1 {
		return invalid("%s: %v is not a rate between 0 and 1", where, r)
	}
	return nil
}

func checkName(where, n string) error {
	switch {
	case n == "":
		return invalid("%s.Name: required", where)
	case n == DefaultPolicyName:
		return invalid("%s.Name: %q names the default rate; choose another name", where, n)
	case len(n) > MaxNameLength:
		return invalid("%s.Name: %d bytes long; the limit is %d", where, len(n), MaxNameLength)
	}
	for _, r := range n {
		if !(r == '_' || r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return invalid("%s.Name: %q has %q; use letters, digits, '_', '-' and '.'", where, n, r)
		}
	}
	return nil
}

// Policies returns a copy of the compiled list.
func (c *Compiled) Policies() Policies {
	return Policies{DefaultRate: c.p.DefaultRate, Policies: append([]Policy(nil), c.p.Policies...)}
}

// KeepsAll reports whether every trace is kept whatever it holds.
func (c *Compiled) KeepsAll() bool {
	if c.p.DefaultRate < 1 {
		return false
	}
	for _, p := range c.p.Policies {
		if p.KeepRate < 1 {
			return false
		}
	}
	return true
}

// Decide decides for the trace s summarises: the first matching policy's
// rate, or the default, against the hash of the trace id.
func (c *Compiled) Decide(s *trace.Summary) Decision {
	for i, e := range c.exprs {
		if e.Match(s) {
			p := c.p.Policies[i]
			return Decision{Keep: Sampled(s.TraceID, p.KeepRate), Policy: p.Name}
		}
	}
	return Decision{Keep: Sampled(s.TraceID, c.p.DefaultRate), Policy: DefaultPolicyName}
}

// Sampled reports whether a trace id falls within rate: its 64-bit FNV-1a
// hash, as a fraction of 2^64, is below rate. Rate 1 keeps every id, 0 none.
func Sampled(traceID string, rate float64) bool { return sampled("", traceID, rate) }

// Indexed reports whether a trace id falls within the share of traces
// the Default indexing rule makes searchable (docs/indexing.md). Its hash
// is salted, so the share is independent of keep decisions: indexing 10%
// of the traces kept at 5% indexes 10% of those, not all of them.
func Indexed(traceID string, share float64) bool { return sampled("indexing\x00", traceID, share) }

func sampled(salt, traceID string, rate float64) bool {
	if rate >= 1 {
		return true
	}
	if rate <= 0 {
		return false
	}
	h := fnv.New64a()
	h.Write([]byte(salt))
	h.Write([]byte(traceID))
	// FNV's low bits mix poorly for ids that differ in their last
	// characters; a final avalanche (splitmix64's) spreads them.
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11)/(1<<53) < rate
}
