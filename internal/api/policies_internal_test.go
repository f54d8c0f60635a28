package api

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/iampolicy"
)

// TestRefreshResourcePolicies: a policy another process stored on a shared
// store is put in force by the next refresh, recompiled only when the
// stored policies changed, and gone when it is deleted.
func TestRefreshResourcePolicies(t *testing.T) {
	s, _ := newTestServer(t)
	ctx := context.Background()
	deny := resourcePolicy{PolicyName: "other", PolicyRevisionId: "1",
		PolicyDocument: `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"xray:PutTraceSegments","Resource":"*"}]}`}
	b, _ := json.Marshal(deny)
	if err := s.cfg.Store.PutMeta(ctx, metaPolicies, deny.PolicyName, b); err != nil {
		t.Fatal(err)
	}
	if s.cfg.ResourcePolicies.Get() != nil {
		t.Fatal("in force before a refresh")
	}
	if err := s.RefreshResourcePolicies(ctx); err != nil {
		t.Fatal(err)
	}
	set := s.cfg.ResourcePolicies.Get()
	if d := set.Evaluate(iampolicy.Request{Action: "PutTraceSegments"}); d.Effect != iampolicy.Deny || d.Policy != "other" {
		t.Fatalf("after refresh: %+v", d)
	}
	if err := s.RefreshResourcePolicies(ctx); err != nil || s.cfg.ResourcePolicies.Get() != set {
		t.Fatalf("unchanged policies recompiled (%v)", err)
	}
	if err := s.cfg.Store.DeleteMeta(ctx, metaPolicies, deny.PolicyName); err != nil {
		t.Fatal(err)
	}
	if err := s.RefreshResourcePolicies(ctx); err != nil || s.cfg.ResourcePolicies.Get() != nil {
		t.Fatalf("deleted policy still in force (%v)", err)
	}
}
