// Package sampling decides which requests are traced: local rules (the
// default 1 request per second plus 5 %, or a rules file, versions 1 and 2)
// and centralized rules fetched from the daemon's TCP side with reservoir
// quotas (wire spec §5).
package sampling

import (
	"strings"
	"time"
)

// Request is what a sampling decision looks at.
type Request struct {
	Host        string
	Method      string
	URL         string
	ServiceName string
	ServiceType string

	// Now, when set, is the time of the request (the SDK passes the
	// segment's start, saving a clock read); zero means the strategy's
	// clock. A clock injected into a strategy wins over it.
	Now time.Time
}

// Decision is a sampling decision; Rule names the centralized rule that made
// it (nil for local rules).
type Decision struct {
	Sample bool
	Rule   *string
}

// Strategy decides whether a request is traced.
type Strategy interface {
	ShouldTrace(request *Request) *Decision
}

// Decider is the allocation-free form of Strategy that the SDK's built-in
// strategies implement; the SDK prefers it when a strategy has it.
type Decider interface {
	Decide(request Request) Decision
}

// WildcardMatchCaseInsensitive matches text against a glob where * is any run
// of characters and ? exactly one; both sides compare lower-cased. An empty
// pattern matches only empty text.
func WildcardMatchCaseInsensitive(pattern, text string) bool {
	if pattern == "*" {
		return true
	}
	return wildcard(strings.ToLower(pattern), strings.ToLower(text))
}

// wildcard is an iterative glob match with single-star backtracking, linear
// for the patterns rules use.
func wildcard(p, t string) bool {
	pi, ti := 0, 0
	star, mark := -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == t[ti]):
			pi++
			ti++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ti
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			ti = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// matchAttr matches a request attribute: an empty attribute matches any rule.
func matchAttr(pattern, value string) bool {
	return value == "" || WildcardMatchCaseInsensitive(pattern, value)
}
