package api

import (
	"context"
	"strings"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// TestGroupMatchingAtIngest checks the seam the service graph uses:
// matching names the groups a summary satisfies, lookup resolves groups.
func TestGroupMatchingAtIngest(t *testing.T) {
	st, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Store: st, Ingest: ingest.New(ingest.Config{Store: st}), Region: "eu-west-1", AccountID: "123456789012"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	defer s.Close()
	ctx := context.Background()
	for _, body := range []string{
		`{"GroupName":"faults","FilterExpression":"fault"}`,
		`{"GroupName":"slow","FilterExpression":"responsetime > 1"}`,
		`{"GroupName":"slow-faults","FilterExpression":"group.name = \"slow\" AND group.name = \"faults\""}`,
		`{"GroupName":"everything"}`,
	} {
		if _, err := s.groups.createGroup(ctx, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	sum := &trace.Summary{HasFault: true, ResponseTime: 2, EntryPoint: 0, Nodes: []trace.Node{{NodeID: trace.NodeID{Name: "a"}}}}
	if got := strings.Join(s.groups.matching(sum), ","); got != "everything,faults,slow,slow-faults" {
		t.Errorf("matching = %s", got)
	}
	sum.HasFault = false
	if got := strings.Join(s.groups.matching(sum), ","); got != "everything,slow" {
		t.Errorf("matching = %s", got)
	}
	// A group whose referenced group is gone matches nothing.
	if _, err := s.groups.deleteGroup(ctx, []byte(`{"GroupName":"slow"}`)); err != nil {
		t.Fatal(err)
	}
	sum.HasFault = true
	if got := strings.Join(s.groups.matching(sum), ","); got != "everything,faults" {
		t.Errorf("after deleting slow: matching = %s", got)
	}
	ref, err := s.groups.lookup(ctx, "faults", "")
	if err != nil || ref.FilterExpression != "fault" || !strings.HasPrefix(ref.ARN, "arn:aws:xray:eu-west-1:123456789012:group/faults/") {
		t.Fatalf("lookup: %+v %v", ref, err)
	}
	if byARN, err := s.groups.lookup(ctx, "", ref.ARN); err != nil || byARN.Name != "faults" {
		t.Fatalf("lookup by ARN: %+v %v", byARN, err)
	}
	if def, err := s.groups.lookup(ctx, "", ""); err != nil || def.Name != "Default" || def.ARN != "arn:aws:xray:eu-west-1:123456789012:group/Default" {
		t.Fatalf("lookup Default: %+v %v", def, err)
	}
	if _, err := s.groups.lookup(ctx, "faults", "arn:aws:xray:eu-west-1:123456789012:group/slow/X"); err == nil {
		t.Fatal("lookup of a name and a different ARN succeeded")
	}
}
