package filter

import "strings"

// vtype is the type of a keyword or value.
type vtype int

const (
	vBool vtype = iota + 1
	vNumber
	vString
)

func (t vtype) String() string {
	switch t {
	case vBool:
		return "a boolean (true or false)"
	case vNumber:
		return "a number"
	case vString:
		return "a string"
	}
	return "untyped"
}

// keyword is a simple (non-complex) keyword of the language (spec §4.2).
type keyword int

const (
	kwOK keyword = iota + 1
	kwError
	kwFault
	kwThrottle
	kwPartial
	kwInferred
	kwRoot
	kwFirst
	kwLast
	kwRemote
	kwResponseTime
	kwDuration
	kwHTTPStatus
	kwIndex
	kwCoverage
	kwHTTPURL
	kwHTTPMethod
	kwHTTPUserAgent
	kwHTTPClientIP
	kwUser
	kwName
	kwType
	kwMessage
	kwAZ
	kwInstanceID
	kwResourceARN
	kwAnnotation
)

// scope is where an expression is evaluated (spec §4.3).
type scope int

const (
	scopeTrace scope = iota
	scopeNode
	scopeEdge
	scopeRootCause
)

func (s scope) String() string {
	switch s {
	case scopeNode:
		return "service() { ... }"
	case scopeEdge:
		return "edge() { ... }"
	case scopeRootCause:
		return "rootcause { ... }"
	}
	return "trace scope"
}

type keywordInfo struct {
	name   string
	typ    vtype
	scopes []scope
}

var (
	all       = []scope{scopeTrace, scopeNode, scopeEdge}
	traceNode = []scope{scopeTrace, scopeNode}
	rcOnly    = []scope{scopeRootCause}
)

var keywords = map[string]keyword{}

var keywordInfos = map[keyword]keywordInfo{
	kwOK:            {"ok", vBool, all},
	kwError:         {"error", vBool, all},
	kwFault:         {"fault", vBool, all},
	kwThrottle:      {"throttle", vBool, all},
	kwPartial:       {"partial", vBool, all},
	kwInferred:      {"inferred", vBool, []scope{scopeTrace, scopeNode, scopeRootCause}},
	kwRoot:          {"root", vBool, traceNode},
	kwFirst:         {"first", vBool, rcOnly},
	kwLast:          {"last", vBool, rcOnly},
	kwRemote:        {"remote", vBool, rcOnly},
	kwResponseTime:  {"responsetime", vNumber, all},
	kwDuration:      {"duration", vNumber, all},
	kwHTTPStatus:    {"http.status", vNumber, all},
	kwIndex:         {"index", vNumber, rcOnly},
	kwCoverage:      {"coverage", vNumber, rcOnly},
	kwHTTPURL:       {"http.url", vString, all},
	kwHTTPMethod:    {"http.method", vString, all},
	kwHTTPUserAgent: {"http.useragent", vString, all},
	kwHTTPClientIP:  {"http.clientip", vString, all},
	kwUser:          {"user", vString, traceNode},
	kwName:          {"name", vString, []scope{scopeTrace, scopeNode, scopeRootCause}},
	kwType:          {"type", vString, []scope{scopeTrace, scopeNode, scopeRootCause}},
	kwMessage:       {"message", vString, []scope{scopeTrace, scopeNode, scopeRootCause}},
	kwAZ:            {"availabilityzone", vString, []scope{scopeTrace}},
	kwInstanceID:    {"instance.id", vString, []scope{scopeTrace}},
	kwResourceARN:   {"resource.arn", vString, []scope{scopeTrace}},
	kwAnnotation:    {"annotation", 0, []scope{scopeTrace}},
}

func init() {
	for k, info := range keywordInfos {
		keywords[info.name] = k
	}
}

func (k keyword) info() keywordInfo { return keywordInfos[k] }

func (k keyword) allowedIn(s scope) bool {
	for _, x := range k.info().scopes {
		if x == s {
			return true
		}
	}
	return false
}

// operators by value type; "" is the bare keyword.
var operators = map[vtype][]string{
	vBool:   {"", "=", "!="},
	vNumber: {"=", "!=", "<", "<=", ">", ">="},
	vString: {"", "=", "!=", "contains", "beginswith", "endswith"},
}

func opAllowed(t vtype, op string) bool {
	for _, o := range operators[t] {
		if o == op {
			return true
		}
	}
	return false
}

// wordOps are the operators spelled as words.
var wordOps = map[string]bool{"contains": true, "beginswith": true, "endswith": true}

func opName(op string) string {
	if wordOps[op] {
		return strings.ToUpper(op)
	}
	return "'" + op + "'"
}
