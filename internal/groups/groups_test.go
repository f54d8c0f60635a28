package groups_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/groups"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

func open(t *testing.T, dir string, cfg groups.Config) *groups.Service {
	t.Helper()
	st, err := pebble.Open(dir, pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg.Store = st
	s, err := groups.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestGroupMatchingAtIngest checks the seam the service graph uses:
// Matching names the groups a summary satisfies, Find resolves groups.
func TestGroupMatchingAtIngest(t *testing.T) {
	s := open(t, t.TempDir(), groups.Config{Region: "eu-west-1", AccountID: "123456789012"})
	ctx := context.Background()
	for _, g := range []groups.Spec{
		{Name: "faults", FilterExpression: "fault"},
		{Name: "slow", FilterExpression: "responsetime > 1"},
		{Name: "slow-faults", FilterExpression: `group.name = "slow" AND group.name = "faults"`},
		{Name: "everything"},
	} {
		if _, err := s.Create(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	sum := &trace.Summary{HasFault: true, ResponseTime: 2, EntryPoint: 0, Nodes: []trace.Node{{NodeID: trace.NodeID{Name: "a"}}}}
	if got := strings.Join(s.Matching(sum), ","); got != "everything,faults,slow,slow-faults" {
		t.Errorf("matching = %s", got)
	}
	sum.HasFault = false
	if got := strings.Join(s.Matching(sum), ","); got != "everything,slow" {
		t.Errorf("matching = %s", got)
	}
	// A group whose referenced group is gone matches nothing.
	if err := s.Delete(ctx, "slow", ""); err != nil {
		t.Fatal(err)
	}
	sum.HasFault = true
	if got := strings.Join(s.Matching(sum), ","); got != "everything,faults" {
		t.Errorf("after deleting slow: matching = %s", got)
	}
	ref, err := s.Find("faults", "")
	if err != nil || ref.FilterExpression != "fault" || !strings.HasPrefix(ref.GroupARN, "arn:aws:xray:eu-west-1:123456789012:group/faults/") {
		t.Fatalf("Find: %+v %v", ref, err)
	}
	if s.Expression("faults") != "fault" || s.Expression("gone") != "" {
		t.Errorf("Expression: %q %q", s.Expression("faults"), s.Expression("gone"))
	}
	if byARN, err := s.Find("", ref.GroupARN); err != nil || byARN.GroupName != "faults" {
		t.Fatalf("Find by ARN: %+v %v", byARN, err)
	}
	if def, err := s.Find("", ""); err != nil || def.GroupName != "Default" || def.GroupARN != "arn:aws:xray:eu-west-1:123456789012:group/Default" {
		t.Fatalf("Find Default: %+v %v", def, err)
	}
	if _, err := s.Find("faults", "arn:aws:xray:eu-west-1:123456789012:group/slow/X"); err == nil {
		t.Fatal("Find of a name and a different ARN succeeded")
	}
}

// Anyone may create groups, and every summary is matched against each, so
// their number is capped (X-Ray's 25, or the configured limit) with an
// error that says so; deleting one makes room; expressions are bounded too.
func TestGroupsAreBounded(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, groups.Config{MaxGroups: 3})
	ctx := context.Background()
	_, err := s.Create(ctx, groups.Spec{Name: "long", FilterExpression: strings.Repeat("fault OR ", 300) + "fault"})
	var ge *groups.Error
	if !errors.As(err, &ge) || !strings.Contains(ge.Message, "at most 2000 are allowed") {
		t.Errorf("a 2,700-character expression: %v", err)
	}
	for i := range 3 {
		if _, err := s.Create(ctx, groups.Spec{Name: fmt.Sprintf("g%d", i), FilterExpression: "fault"}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = s.Create(ctx, groups.Spec{Name: "g3"})
	if !errors.As(err, &ge) || ge.Kind != groups.Invalid || !strings.Contains(ge.Message, "there are already 3 groups, the limit") {
		t.Fatalf("4th group: %v", err)
	}
	if err := s.Delete(ctx, "g0", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, groups.Spec{Name: "g3"}); err != nil {
		t.Errorf("after a delete: %v", err)
	}
	if n := len(s.Matching(&trace.Summary{HasFault: true})); n != 3 {
		t.Errorf("a faulted trace matches %d groups, want 3", n)
	}
	if groups.DefaultMaxGroups != 25 {
		t.Errorf("DefaultMaxGroups = %d, want X-Ray's 25", groups.DefaultMaxGroups)
	}
}

// BenchmarkMatching is the ingest path's cost of groups per summary, at
// the limit of 25 groups with typical expressions.
func BenchmarkMatching(b *testing.B) {
	st, err := pebble.Open(b.TempDir(), pebble.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	s, err := groups.New(context.Background(), groups.Config{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	for i := range groups.DefaultMaxGroups {
		expr := []string{`service("svc-%d") { fault }`, `responsetime > %d`, `annotation.tenant = "t-%d"`, `http.status = 5%02d`}[i%4]
		if _, err := s.Create(context.Background(), groups.Spec{Name: fmt.Sprintf("g%d", i), FilterExpression: fmt.Sprintf(expr, i)}); err != nil {
			b.Fatal(err)
		}
	}
	sum := &trace.Summary{HasFault: true, ResponseTime: 2, Nodes: []trace.Node{{NodeID: trace.NodeID{Name: "svc-1", Type: "AWS::EC2::Instance"}}},
		Segments: []trace.SegmentFact{{Node: 0, Root: true, Fault: true, Start: 1, End: 3}}}
	b.ReportAllocs()
	for b.Loop() {
		s.Matching(sum)
	}
}
