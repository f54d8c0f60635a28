// Package iampolicy is the IAM policy language of X-Ray's resource
// policies (PutResourcePolicy): it checks a document as AWS does before
// storing it, compiles the stored documents into a Set once per change,
// and evaluates a request against the Set on every call, cheaply enough for
// the ingest path (one map lookup and a few string comparisons).
//
// What Roentgen can evaluate it enforces; what it cannot (conditions on
// access keys, single groups or sampling rules as resources, the Not*
// elements) it refuses to store, rather than store a statement that would
// silently grant or deny something other than what it says.
package iampolicy

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Error types, as the X-Ray API names them.
const (
	Malformed   = "MalformedPolicyDocumentException"
	SizeLimited = "PolicySizeLimitExceededException"
)

// MaxBytes is AWS's limit on one policy document (5 KB).
const MaxBytes = 5120

// Error says why a document was refused, in the API's words.
type Error struct {
	Type    string
	Message string
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

func malformed(format string, args ...any) error {
	return &Error{Malformed, fmt.Sprintf(format, args...)}
}

// Options are what a document is checked and compiled against.
type Options struct {
	// Actions are the X-Ray operation names (without "xray:"); an action
	// pattern that names none of them is refused as a likely typo.
	Actions []string
	// Region and Account are the server's: a Resource ARN applies when
	// its region and account match them.
	Region, Account string
}

// statement is one compiled statement.
type statement struct {
	sid  string
	deny bool
	// anyone: Principal "*" (or {"AWS":"*"}); arns: exact principal ARNs;
	// accounts: every principal of these accounts.
	anyone   bool
	arns     []string
	accounts []string
	actions  []string // lower-case glob patterns over "xray:operation"
	// applies is false when no Resource names this server's region and
	// account: the statement is stored but governs nothing here.
	applies bool
}

// Policy is one checked document.
type Policy struct {
	Name  string
	stmts []statement
}

var (
	accountRE = regexp.MustCompile(`^\d{12}$`)
	// iamARN is a principal ARN: arn:PARTITION:iam::ACCOUNT:WHAT.
	iamARN = regexp.MustCompile(`^arn:[a-z-]+:(iam|sts)::(\d{12}):(.+)$`)
)

var topMembers = map[string]bool{"Version": true, "Id": true, "Statement": true}

var stmtMembers = map[string]bool{"Sid": true, "Effect": true, "Principal": true, "Action": true, "Resource": true, "Condition": true}

// Parse checks doc and compiles it.
func Parse(name, doc string, opts Options) (*Policy, error) {
	if len(doc) > MaxBytes {
		return nil, &Error{SizeLimited, fmt.Sprintf("PolicyDocument is %d bytes; a policy holds at most %d", len(doc), MaxBytes)}
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &top); err != nil || top == nil {
		return nil, malformed("PolicyDocument must be a JSON object (an IAM policy): %v", err)
	}
	for k := range top {
		if !topMembers[k] {
			return nil, malformed("PolicyDocument has an unknown member %q (want Version, Id, Statement)", k)
		}
	}
	if v, ok := top["Version"]; ok {
		var s string
		if json.Unmarshal(v, &s) != nil || s != "2012-10-17" && s != "2008-10-17" {
			return nil, malformed(`Version must be "2012-10-17" (or "2008-10-17")`)
		}
	}
	raw, ok := top["Statement"]
	if !ok {
		return nil, malformed("PolicyDocument has no Statement")
	}
	var stmts []map[string]json.RawMessage
	if json.Unmarshal(raw, &stmts) != nil {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(raw, &one); err != nil || one == nil {
			return nil, malformed("Statement must be an object or a list of objects")
		}
		stmts = append(stmts, one)
	}
	if len(stmts) == 0 {
		return nil, malformed("Statement must hold at least one statement")
	}
	p := &Policy{Name: name}
	sids := map[string]bool{}
	for i, st := range stmts {
		s, err := parseStatement(st, opts)
		if err != nil {
			return nil, malformed("Statement %d: %s", i, err.(*Error).Message)
		}
		if s.sid != "" {
			if sids[s.sid] {
				return nil, malformed("Statement %d: Sid %q is used by an earlier statement; Sids must be unique", i, s.sid)
			}
			sids[s.sid] = true
		}
		p.stmts = append(p.stmts, s)
	}
	return p, nil
}

func parseStatement(st map[string]json.RawMessage, opts Options) (statement, error) {
	var s statement
	if st == nil {
		return s, malformed("a statement must be an object")
	}
	for k := range st {
		switch {
		case k == "NotPrincipal" || k == "NotAction" || k == "NotResource":
			return s, malformed("%s is not supported by Roentgen; name what the statement covers with %s", k, strings.TrimPrefix(k, "Not"))
		case !stmtMembers[k]:
			return s, malformed("unknown member %q", k)
		}
	}
	if v, ok := st["Sid"]; ok && json.Unmarshal(v, &s.sid) != nil {
		return s, malformed("Sid must be a string")
	}
	var effect string
	if json.Unmarshal(st["Effect"], &effect) != nil || effect != "Allow" && effect != "Deny" {
		return s, malformed("Effect must be Allow or Deny")
	}
	s.deny = effect == "Deny"
	keyPrincipals, err := s.parsePrincipal(st["Principal"])
	if err != nil {
		return s, err
	}
	if _, ok := st["Condition"]; ok && keyPrincipals {
		// A service principal's conditions (aws:SourceArn of an SNS topic)
		// never concern an access key; on a statement that names keys,
		// ignoring the condition would grant or deny more than written.
		return s, malformed(`Condition is supported only in statements whose Principal is a Service: Roentgen cannot evaluate conditions on access keys, and ignoring one would grant or deny more than the statement says`)
	}
	if err := s.parseActions(st["Action"], opts); err != nil {
		return s, err
	}
	return s, s.parseResources(st["Resource"], opts)
}

// stringOrList reads a JSON string or list of strings.
func stringOrList(raw json.RawMessage, what string) ([]string, error) {
	if raw == nil {
		return nil, malformed("%s is required", what)
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var list []string
	if json.Unmarshal(raw, &list) != nil || len(list) == 0 {
		return nil, malformed("%s must be a string or a non-empty list of strings", what)
	}
	return list, nil
}

// parsePrincipal reads Principal; keys reports whether it can name an
// access key ("*" or AWS principals).
func (s *statement) parsePrincipal(raw json.RawMessage) (keys bool, err error) {
	if raw == nil {
		return false, malformed("Principal is required in a resource policy")
	}
	var star string
	if json.Unmarshal(raw, &star) == nil {
		if star != "*" {
			return false, malformed(`Principal must be "*" or an object such as {"AWS": "arn:aws:iam::123456789012:user/name"}`)
		}
		s.anyone = true
		return true, nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || len(m) == 0 {
		return false, malformed(`Principal must be "*" or an object such as {"AWS": "arn:aws:iam::123456789012:user/name"}`)
	}
	for kind, v := range m {
		vals, err := stringOrList(v, "Principal."+kind)
		if err != nil {
			return false, err
		}
		switch kind {
		case "AWS":
			keys = true
			for _, a := range vals {
				switch {
				case a == "*":
					s.anyone = true
				case accountRE.MatchString(a):
					s.accounts = append(s.accounts, a)
				default:
					if strings.ContainsAny(a, "*?") {
						// IAM refuses wildcards in principal ARNs too; matched
						// literally, one would silently name nobody.
						return false, malformed("Principal.AWS %q has a wildcard: name each principal, its account, or \"*\"", a)
					}
					m := iamARN.FindStringSubmatch(a)
					if m == nil {
						return false, malformed("Principal.AWS %q is not \"*\", a 12-digit account id or an IAM ARN (arn:aws:iam::123456789012:user/name)", a)
					}
					if m[3] == "root" {
						s.accounts = append(s.accounts, m[2])
					} else {
						s.arns = append(s.arns, a)
					}
				}
			}
		case "Service", "Federated", "CanonicalUser":
			// Kept; no access key is one of these.
		default:
			return false, malformed("Principal has an unknown kind %q (want AWS, Service, Federated or CanonicalUser)", kind)
		}
	}
	return keys, nil
}

func (s *statement) parseActions(raw json.RawMessage, opts Options) error {
	acts, err := stringOrList(raw, "Action")
	if err != nil {
		return err
	}
	for _, a := range acts {
		la := strings.ToLower(a)
		if la != "*" {
			svc, op, ok := strings.Cut(la, ":")
			if !ok || op == "" {
				return malformed("Action %q is not of the form xray:Operation", a)
			}
			if svc != "xray" {
				return malformed("Action %q is not an X-Ray action", a)
			}
			n := 0
			for _, k := range opts.Actions {
				if glob(op, strings.ToLower(k)) {
					n++
				}
			}
			if n == 0 {
				return malformed("Action %q names no X-Ray operation", a)
			}
		}
		s.actions = append(s.actions, la)
	}
	return nil
}

func (s *statement) parseResources(raw json.RawMessage, opts Options) error {
	res, err := stringOrList(raw, "Resource")
	if err != nil {
		return err
	}
	for _, r := range res {
		if r == "*" {
			s.applies = true
			continue
		}
		f := strings.SplitN(r, ":", 6)
		if len(f) != 6 || f[0] != "arn" {
			return malformed(`Resource %q is not "*" or an ARN`, r)
		}
		if !glob(f[2], "xray") {
			return malformed("Resource %q is not an X-Ray resource", r)
		}
		if f[5] != "*" {
			return malformed(`Resource %q names single X-Ray resources: Roentgen enforces resource policies per operation, so use "*" or arn:aws:xray:REGION:ACCOUNT:*`, r)
		}
		if glob(f[1], "aws") && glob(f[3], opts.Region) && glob(f[4], opts.Account) {
			s.applies = true
		}
	}
	return nil
}

// glob matches s against pattern with IAM's wildcards: * any run, ? one
// character.
func glob(pattern, s string) bool {
	px, sx := 0, 0
	nextPx, nextSx := -1, -1
	for px < len(pattern) || sx < len(s) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				nextPx, nextSx = px, sx+1
				px++
				continue
			case '?':
				if sx < len(s) {
					px++
					sx++
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if nextSx > 0 && nextSx <= len(s) {
			px, sx = nextPx, nextSx
			continue
		}
		return false
	}
	return true
}
