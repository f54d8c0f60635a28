package auth

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/roentgen-tracing/roentgen/internal/iampolicy"
)

// ResourcePolicies holds the resource policies in force (X-Ray's
// PutResourcePolicy), compiled once per change and swapped whole, so that
// a request reads them without a lock.
type ResourcePolicies struct{ cur atomic.Pointer[iampolicy.Set] }

// Set puts s in force (nil: no policies).
func (p *ResourcePolicies) Set(s *iampolicy.Set) { p.cur.Store(s) }

// Get is the set in force; nil when there is none (or p is nil).
func (p *ResourcePolicies) Get() *iampolicy.Set {
	if p == nil {
		return nil
	}
	return p.cur.Load()
}

// Caller is who made a request, as an operation may need to know it
// (PutResourcePolicy's lockout check).
type Caller struct {
	ID   string
	Role Role
	// Principal is the key's principal ARN; "" for a caller without a key
	// (unsigned calls on the loopback TCP side, OTLP tokens).
	Principal string
}

type callerKey struct{}

// CallerFrom is the caller the guard put in ctx, for the operations that
// ask (PutResourcePolicy); false without a guard.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// Authorize decides whether c may call op under set, as IAM decides a
// request within one account: an explicit Deny in any policy refuses it;
// otherwise the key's role or an Allow naming its principal admits it.
// An Allow never extends a caller without a key beyond its listener's
// role: Principal "*" must not open admin operations to unsigned loopback
// callers.
func Authorize(c Caller, op string, set *iampolicy.Set) *Error {
	d := set.Evaluate(iampolicy.Request{Action: op, Principal: c.Principal})
	if d.Effect == iampolicy.Deny {
		who := c.Principal
		if who == "" {
			who = c.ID
		}
		where := "policy " + d.Policy
		if d.Sid != "" {
			where += ", statement " + d.Sid
		}
		return &Error{http.StatusForbidden, "AccessDeniedException",
			fmt.Sprintf("User: %s is not authorized to perform: xray:%s on resource: * with an explicit deny in a resource-based policy (%s)", who, op, where)}
	}
	if Allowed(c.Role, op) || d.Effect == iampolicy.Allow && c.Principal != "" {
		return nil
	}
	return errDenied(c.ID, c.Role, opName(op))
}

// callerOf is the Caller of c.
func (g *Guard) callerOf(c caller) Caller {
	out := Caller{ID: c.id, Role: c.role}
	if c.key != nil {
		out.Principal = c.key.PrincipalARN(g.Account)
	}
	return out
}

// authorize is Authorize with the policies in force; without any it costs
// what the role check alone does.
func (g *Guard) authorize(c caller, op string) *Error {
	set := g.Policies.Get()
	if set == nil {
		if !Allowed(c.role, op) {
			return errDenied(c.id, c.role, opName(op))
		}
		return nil
	}
	return Authorize(g.callerOf(c), op, set)
}
