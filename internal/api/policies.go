package api

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strconv"
)

// PutResourcePolicy, ListResourcePolicies and DeleteResourcePolicy.
//
// On AWS a resource policy lets other AWS services (SNS, Lambda...) send
// traces to X-Ray. Roentgen has no IAM to evaluate them with, so policies
// are kept, validated and revisioned exactly as AWS documents, and change
// nobody's access: tools that manage them (Terraform's
// aws_xray_resource_policy) work unchanged.

const (
	maxPolicies     = 5    // per account, as AWS documents
	maxPolicyBytes  = 5120 // 5 KB per policy document
	createOnlyRevID = "0"  // PolicyRevisionId "0": create, fail if it exists
)

var policyNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)

type resourcePolicy struct {
	PolicyName       string
	PolicyDocument   string
	PolicyRevisionId string
	LastUpdatedTime  Timestamp
}

func policyError(status int, typ, format string, args ...any) *Error {
	e := invalid(format, args...)
	e.Status, e.Type = status, typ
	return e
}

func invalidRevision(format string, args ...any) *Error {
	return policyError(http.StatusBadRequest, "InvalidPolicyRevisionIdException", format, args...)
}

func checkPolicyName(name *string) error {
	if name == nil || *name == "" {
		return invalid("PolicyName is required")
	}
	if !policyNameRE.MatchString(*name) {
		return invalid("PolicyName %q must be 1 to 128 characters of letters, digits and _+=,.@-", *name)
	}
	return nil
}

// checkPolicyDocument is the grammar check AWS makes before storing: a
// JSON object with a Statement, each statement with an Effect.
func checkPolicyDocument(doc string) error {
	malformed := func(format string, args ...any) error {
		return policyError(http.StatusBadRequest, "MalformedPolicyDocumentException", format, args...)
	}
	if len(doc) > maxPolicyBytes {
		return policyError(http.StatusBadRequest, "PolicySizeLimitExceededException", "PolicyDocument is %d bytes; a policy holds at most %d", len(doc), maxPolicyBytes)
	}
	var p map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &p); err != nil || p == nil {
		return malformed("PolicyDocument must be a JSON object (an IAM policy): %v", err)
	}
	raw, ok := p["Statement"]
	if !ok {
		return malformed("PolicyDocument has no Statement")
	}
	var stmts []map[string]json.RawMessage
	if json.Unmarshal(raw, &stmts) != nil {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(raw, &one); err != nil || one == nil {
			return malformed("Statement must be an object or a list of objects")
		}
		stmts = append(stmts, one)
	}
	if len(stmts) == 0 {
		return malformed("Statement must hold at least one statement")
	}
	for i, st := range stmts {
		var effect string
		if json.Unmarshal(st["Effect"], &effect) != nil || effect != "Allow" && effect != "Deny" {
			return malformed("Statement %d: Effect must be Allow or Deny", i)
		}
	}
	return nil
}

func (s *Server) putResourcePolicy(ctx context.Context, in *struct {
	PolicyName               *string
	PolicyDocument           *string
	PolicyRevisionId         *string
	BypassPolicyLockoutCheck bool
}) (any, error) {
	if err := checkPolicyName(in.PolicyName); err != nil {
		return nil, err
	}
	if in.PolicyDocument == nil {
		return nil, invalid("PolicyDocument is required")
	}
	if err := checkPolicyDocument(*in.PolicyDocument); err != nil {
		return nil, err
	}
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	var old resourcePolicy
	exists, err := s.getMetaJSON(ctx, metaPolicies, *in.PolicyName, &old)
	if err != nil {
		return nil, err
	}
	if rev := in.PolicyRevisionId; rev != nil {
		switch {
		case *rev == createOnlyRevID && exists:
			return nil, invalidRevision("policy %q already exists (PolicyRevisionId 0 only creates)", *in.PolicyName)
		case *rev != createOnlyRevID && !exists:
			return nil, invalidRevision("policy %q does not exist, so PolicyRevisionId %q cannot match it", *in.PolicyName, *rev)
		case *rev != createOnlyRevID && *rev != old.PolicyRevisionId:
			return nil, invalidRevision("PolicyRevisionId %q is not the current revision of policy %q", *rev, *in.PolicyName)
		}
	}
	if !exists {
		n := 0
		if err := s.cfg.Store.ListMeta(ctx, metaPolicies, func(string, []byte) bool { n++; return true }); err != nil {
			return nil, err
		}
		if n >= maxPolicies {
			return nil, policyError(http.StatusBadRequest, "PolicyCountLimitExceededException", "an account holds at most %d resource policies; delete one first", maxPolicies)
		}
	}
	now := s.now()
	p := resourcePolicy{PolicyName: *in.PolicyName, PolicyDocument: *in.PolicyDocument,
		PolicyRevisionId: nextRevision(old.PolicyRevisionId, now.UnixNano()), LastUpdatedTime: ts(now)}
	if err := s.putMetaJSON(ctx, metaPolicies, p.PolicyName, p); err != nil {
		return nil, err
	}
	return struct{ ResourcePolicy resourcePolicy }{p}, nil
}

// nextRevision is a new revision id: the clock in nanoseconds, past the
// previous one even if the clock stepped back, so that a stale id never
// matches again.
func nextRevision(prev string, now int64) string {
	if p, err := strconv.ParseInt(prev, 10, 64); err == nil && now <= p {
		now = p + 1
	}
	return strconv.FormatInt(now, 10)
}

func (s *Server) listResourcePolicies(ctx context.Context, in *struct{ NextToken *string }) (any, error) {
	if in.NextToken != nil && *in.NextToken != "" {
		return nil, invalid("NextToken %q does not belong to ListResourcePolicies: all policies fit one page", *in.NextToken)
	}
	out := []resourcePolicy{}
	var bad error
	err := s.cfg.Store.ListMeta(ctx, metaPolicies, func(_ string, v []byte) bool {
		var p resourcePolicy
		if bad = json.Unmarshal(v, &p); bad != nil {
			return false
		}
		out = append(out, p)
		return true
	})
	if err == nil {
		err = bad
	}
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PolicyName < out[j].PolicyName })
	return struct{ ResourcePolicies []resourcePolicy }{out}, nil
}

func (s *Server) deleteResourcePolicy(ctx context.Context, in *struct {
	PolicyName       *string
	PolicyRevisionId *string
}) (any, error) {
	if err := checkPolicyName(in.PolicyName); err != nil {
		return nil, err
	}
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	var old resourcePolicy
	exists, err := s.getMetaJSON(ctx, metaPolicies, *in.PolicyName, &old)
	if err != nil {
		return nil, err
	}
	if rev := in.PolicyRevisionId; rev != nil && (!exists || *rev != old.PolicyRevisionId) {
		return nil, invalidRevision("PolicyRevisionId %q is not the current revision of policy %q", *rev, *in.PolicyName)
	}
	if !exists {
		return struct{}{}, nil // deleting is idempotent, as on AWS
	}
	if err := s.cfg.Store.DeleteMeta(ctx, metaPolicies, *in.PolicyName); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}
