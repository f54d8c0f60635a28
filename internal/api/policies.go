package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/roentgen-tracing/roentgen/internal/auth"
	"github.com/roentgen-tracing/roentgen/internal/iampolicy"
)

// PutResourcePolicy, ListResourcePolicies and DeleteResourcePolicy.
//
// On AWS a resource policy grants principals (other accounts, services)
// access to X-Ray. Roentgen checks documents with AWS's grammar and error
// types, keeps them revisioned, and with --access-keys enforces them on
// every request (internal/iampolicy compiles them once per change;
// internal/auth evaluates them beside the key's role; docs/security.md).

const (
	maxPolicies     = 5   // per account, as AWS documents
	createOnlyRevID = "0" // PolicyRevisionId "0": create, fail if it exists
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

func (s *Server) policyOptions() iampolicy.Options {
	return iampolicy.Options{Actions: auth.Operations(), Region: s.cfg.Region, Account: s.cfg.AccountID}
}

// parsePolicy checks a document as AWS does before storing it, and what
// Roentgen could not enforce as written.
func (s *Server) parsePolicy(name, doc string) (*iampolicy.Policy, error) {
	p, err := iampolicy.Parse(name, doc, s.policyOptions())
	var e *iampolicy.Error
	if errors.As(err, &e) {
		return nil, policyError(http.StatusBadRequest, e.Type, "%s", e.Message)
	}
	return p, err
}

// storedPolicies reads every stored policy, by name.
func (s *Server) storedPolicies(ctx context.Context) (map[string]resourcePolicy, error) {
	out := map[string]resourcePolicy{}
	var bad error
	err := s.cfg.Store.ListMeta(ctx, metaPolicies, func(_ string, v []byte) bool {
		var p resourcePolicy
		if bad = json.Unmarshal(v, &p); bad != nil {
			return false
		}
		out[p.PolicyName] = p
		return true
	})
	if err == nil {
		err = bad
	}
	return out, err
}

// compilePolicies compiles stored policies; one that no longer passes
// (stored by an older Roentgen, which only checked Effect) is logged and
// left out, so enforcement starts from what was enforced before.
func (s *Server) compilePolicies(stored map[string]resourcePolicy) *iampolicy.Set {
	names := make([]string, 0, len(stored))
	for n := range stored {
		names = append(names, n)
	}
	sort.Strings(names)
	var ps []*iampolicy.Policy
	for _, n := range names {
		p, err := s.parsePolicy(n, stored[n].PolicyDocument)
		if err != nil {
			s.log.Error("stored resource policy is not enforced: replace it (PutResourcePolicy) or delete it", "policy", n, "err", err)
			continue
		}
		ps = append(ps, p)
	}
	return iampolicy.Compile(ps, s.policyOptions())
}

// LoadResourcePolicies puts the stored policies in force (at start).
func (s *Server) LoadResourcePolicies(ctx context.Context) error {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	return s.loadPoliciesLocked(ctx, true)
}

// RefreshResourcePolicies puts the stored policies in force if they
// changed since this server last did: another process on a shared store
// (ClickHouse) may have changed them. Cheap when nothing changed: a read
// of at most five records.
func (s *Server) RefreshResourcePolicies(ctx context.Context) error {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	return s.loadPoliciesLocked(ctx, false)
}

func (s *Server) loadPoliciesLocked(ctx context.Context, force bool) error {
	stored, err := s.storedPolicies(ctx)
	if err != nil {
		return fmt.Errorf("resource policies: %w", err)
	}
	if fp := policiesFingerprint(stored); force || fp != s.policiesSeen {
		s.cfg.ResourcePolicies.Set(s.compilePolicies(stored))
		s.policiesSeen = fp
	}
	return nil
}

// policiesFingerprint names a set of stored policies by their names and
// revisions, which every change renews.
func policiesFingerprint(stored map[string]resourcePolicy) string {
	parts := make([]string, 0, len(stored))
	for n, p := range stored {
		parts = append(parts, n+"\x00"+p.PolicyRevisionId)
	}
	sort.Strings(parts)
	return strings.Join(parts, "\x01")
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
	if _, err := s.parsePolicy(*in.PolicyName, *in.PolicyDocument); err != nil {
		return nil, err
	}
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	stored, err := s.storedPolicies(ctx)
	if err != nil {
		return nil, err
	}
	old, exists := stored[*in.PolicyName]
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
	if !exists && len(stored) >= maxPolicies {
		return nil, policyError(http.StatusBadRequest, "PolicyCountLimitExceededException", "an account holds at most %d resource policies; delete one first", maxPolicies)
	}
	now := s.now()
	p := resourcePolicy{PolicyName: *in.PolicyName, PolicyDocument: *in.PolicyDocument,
		PolicyRevisionId: nextRevision(old.PolicyRevisionId, now.UnixNano()), LastUpdatedTime: ts(now)}
	stored[p.PolicyName] = p
	set := s.compilePolicies(stored)
	if c, ok := auth.CallerFrom(ctx); ok && !in.BypassPolicyLockoutCheck {
		// As on AWS: a policy that would refuse its own author the next
		// PutResourcePolicy needs BypassPolicyLockoutCheck.
		if e := auth.Authorize(c, "PutResourcePolicy", set); e != nil {
			return nil, policyError(http.StatusBadRequest, "LockoutPreventionException",
				"with this policy %s could no longer call PutResourcePolicy (%s); set BypassPolicyLockoutCheck to store it anyway", c.ID, e.Message)
		}
	}
	if err := s.putMetaJSON(ctx, metaPolicies, p.PolicyName, p); err != nil {
		return nil, err
	}
	s.cfg.ResourcePolicies.Set(set)
	s.policiesSeen = policiesFingerprint(stored)
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
	stored, err := s.storedPolicies(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]resourcePolicy, 0, len(stored))
	for _, p := range stored {
		out = append(out, p)
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
	return struct{}{}, s.loadPoliciesLocked(ctx, true)
}
