package iampolicy

import "strings"

// Effect is what the policies say of a request.
type Effect uint8

const (
	// None: no statement covers the request; the caller's role decides.
	None Effect = iota
	// Allow: a statement allows it and none denies it.
	Allow
	// Deny: a statement denies it; nothing else counts.
	Deny
)

// Request is one call to evaluate.
type Request struct {
	// Action is the X-Ray operation, without "xray:" (PutTraceSegments).
	Action string
	// Principal is the caller's ARN; "" is an anonymous caller, whom only
	// Principal "*" names.
	Principal string
}

// Decision is the outcome and the statement that decided it.
type Decision struct {
	Effect Effect
	Policy string // the policy's name
	Sid    string // the statement's Sid, "" when it has none
}

// Set is the compiled policies in force; immutable, so requests read it
// without a lock. A nil Set holds no policies.
type Set struct {
	byAction map[string][]ref
	n        int
}

type ref struct {
	policy string
	st     *statement
}

// Compile indexes the statements of ps by the operations they cover, so
// that evaluating a request looks at its operation's statements only.
func Compile(ps []*Policy, opts Options) *Set {
	if len(ps) == 0 {
		return nil
	}
	s := &Set{byAction: map[string][]ref{}, n: len(ps)}
	for _, op := range opts.Actions {
		lop := "xray:" + strings.ToLower(op)
		for _, p := range ps {
			for i := range p.stmts {
				st := &p.stmts[i]
				if !st.applies {
					continue
				}
				for _, a := range st.actions {
					if glob(a, lop) {
						s.byAction[op] = append(s.byAction[op], ref{p.Name, st})
						break
					}
				}
			}
		}
	}
	return s
}

// Len is the number of policies.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return s.n
}

// Evaluate decides r: an explicit Deny in any policy wins, then an Allow.
func (s *Set) Evaluate(r Request) Decision {
	if s == nil {
		return Decision{}
	}
	var d Decision
	for _, x := range s.byAction[r.Action] {
		if !x.st.names(r.Principal) {
			continue
		}
		if x.st.deny {
			return Decision{Deny, x.policy, x.st.sid}
		}
		if d.Effect == None {
			d = Decision{Allow, x.policy, x.st.sid}
		}
	}
	return d
}

// names reports whether the statement's Principal names principal.
func (st *statement) names(principal string) bool {
	if st.anyone {
		return true
	}
	if principal == "" {
		return false
	}
	for _, a := range st.arns {
		if a == principal {
			return true
		}
	}
	if len(st.accounts) > 0 {
		acct := AccountOf(principal)
		for _, a := range st.accounts {
			if a == acct {
				return true
			}
		}
	}
	return false
}

// AccountOf is the account id in an IAM principal ARN
// (arn:aws:iam::123456789012:user/name), or "".
func AccountOf(arn string) string {
	_, rest, ok := strings.Cut(arn, "::")
	if !ok {
		return ""
	}
	acct, _, _ := strings.Cut(rest, ":")
	return acct
}

// ValidPrincipal reports whether arn is an IAM principal ARN, as the
// access-key file may name one.
func ValidPrincipal(arn string) bool {
	m := iamARN.FindStringSubmatch(arn)
	return m != nil
}
