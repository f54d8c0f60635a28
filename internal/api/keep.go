package api

import (
	"context"
	"errors"

	keeppolicy "github.com/roentgen-tracing/roentgen/internal/keep"
)

// GetKeepPolicies and PutKeepPolicies (POST /roentgen/GetKeepPolicies,
// /roentgen/PutKeepPolicies) are Roentgen operations in the API's
// restJson1 style: the keep policies decided on whole traces (docs/keep.md).

type keepPolicyShape struct {
	Name             *string  `json:"Name"`
	FilterExpression *string  `json:"FilterExpression"`
	KeepRate         *float64 `json:"KeepRate"`
}

type keepPoliciesShape struct {
	Policies        []keepPolicyShape `json:"Policies"`
	DefaultKeepRate *float64          `json:"DefaultKeepRate"`
}

type keepPolicyOut struct {
	Name             string
	FilterExpression string
	KeepRate         float64
}

type keepPoliciesOut struct {
	Policies        []keepPolicyOut
	DefaultKeepRate float64
	// Decisions counts this process's decisions by policy since it started
	// (GetKeepPolicies only; /metrics has them as
	// roentgen_keep_decisions_total).
	Decisions []keepCountOut `json:",omitempty"`
}

type keepCountOut struct {
	Policy        string
	Kept, Dropped uint64
}

func keepOut(p keeppolicy.Policies) keepPoliciesOut {
	out := keepPoliciesOut{Policies: make([]keepPolicyOut, len(p.Policies)), DefaultKeepRate: p.DefaultRate}
	for i, q := range p.Policies {
		out.Policies[i] = keepPolicyOut{Name: q.Name, FilterExpression: q.FilterExpression, KeepRate: q.KeepRate}
	}
	return out
}

func (s *Server) keepService() (*keeppolicy.Service, error) {
	if s.cfg.Keep == nil {
		return nil, invalid("keep policies are not enabled on this server")
	}
	return s.cfg.Keep, nil
}

func (s *Server) getKeepPolicies(ctx context.Context, _ *struct{}) (any, error) {
	k, err := s.keepService()
	if err != nil {
		return nil, err
	}
	out := keepOut(k.Get())
	for _, c := range k.Counts() {
		out.Decisions = append(out.Decisions, keepCountOut{Policy: c.Policy, Kept: c.Kept, Dropped: c.Dropped})
	}
	return out, nil
}

func (s *Server) putKeepPolicies(ctx context.Context, in *keepPoliciesShape) (any, error) {
	k, err := s.keepService()
	if err != nil {
		return nil, err
	}
	// Leaving the default out keeps the rest: a forgotten member must not
	// throw traces away.
	p := keeppolicy.Policies{DefaultRate: 1}
	if in.DefaultKeepRate != nil {
		p.DefaultRate = *in.DefaultKeepRate
	}
	for i, q := range in.Policies {
		if q.Name == nil {
			return nil, invalid("Policies[%d].Name is required", i)
		}
		if q.FilterExpression == nil {
			return nil, invalid("Policies[%d].FilterExpression is required", i)
		}
		if q.KeepRate == nil {
			return nil, invalid("Policies[%d].KeepRate is required (a rate between 0 and 1)", i)
		}
		p.Policies = append(p.Policies, keeppolicy.Policy{Name: *q.Name, FilterExpression: *q.FilterExpression, KeepRate: *q.KeepRate})
	}
	got, err := k.Put(ctx, p)
	var ve *keeppolicy.ValidationError
	if errors.As(err, &ve) {
		return nil, invalid("%s", ve.Msg)
	}
	if err != nil {
		return nil, err
	}
	return keepOut(got), nil
}
