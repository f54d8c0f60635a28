package keep

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/filter"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Sampled keeps a share of ids within a binomial bound, including ids that
// differ only in their last digits, and nests: an id kept at 5% is kept at
// any higher rate.
func TestSampledShare(t *testing.T) {
	const n = 100000
	for _, rate := range []float64{0.01, 0.05, 0.5} {
		kept := 0
		for i := range n {
			id := fmt.Sprintf("1-67000000-%024x", i)
			if Sampled(id, rate) {
				kept++
				if !Sampled(id, math.Min(1, rate*1.5)) {
					t.Fatalf("%s kept at %v, not at a higher rate", id, rate)
				}
			}
		}
		sd := math.Sqrt(n * rate * (1 - rate))
		if d := math.Abs(float64(kept) - n*rate); d > 4*sd {
			t.Errorf("rate %v: kept %d of %d (%.1f sd off)", rate, kept, n, d/sd)
		}
	}
	if !Sampled("x", 1) || Sampled("x", 0) {
		t.Error("rates 1 and 0 must keep all and none")
	}
}

func TestDecideFirstMatchWins(t *testing.T) {
	c, err := Compile(Policies{Policies: []Policy{
		{Name: "faults", FilterExpression: "fault", KeepRate: 1},
		{Name: "none", FilterExpression: "fault OR error", KeepRate: 0},
	}, DefaultRate: 0}, filter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	id := "1-67000000-000000000000000000000001"
	cases := []struct {
		s    trace.Summary
		want Decision
	}{
		{trace.Summary{TraceID: id, HasFault: true, EntryPoint: -1}, Decision{Keep: true, Policy: "faults"}},
		{trace.Summary{TraceID: id, HasError: true, EntryPoint: -1}, Decision{Keep: false, Policy: "none"}},
		{trace.Summary{TraceID: id, EntryPoint: -1}, Decision{Keep: false, Policy: DefaultPolicyName}},
	}
	for _, c2 := range cases {
		if got := c.Decide(&c2.s); got != c2.want {
			t.Errorf("%+v: %+v, want %+v", c2.s, got, c2.want)
		}
	}
	if c.KeepsAll() {
		t.Error("KeepsAll with rates below 1")
	}
	d, _ := Compile(Default(), filter.Options{})
	if !d.KeepsAll() || !d.Decide(&cases[2].s).Keep {
		t.Error("the default policies must keep everything")
	}
}

func TestCompileRefuses(t *testing.T) {
	for _, c := range []struct {
		p    Policies
		want string
	}{
		{Policies{DefaultRate: 1.01}, "DefaultKeepRate: 1.01 is not a rate"},
		{Policies{DefaultRate: math.NaN()}, "DefaultKeepRate: NaN"},
		{Policies{DefaultRate: 1, Policies: []Policy{{Name: "", FilterExpression: "fault", KeepRate: 1}}}, "Policies[0].Name: required"},
		{Policies{DefaultRate: 1, Policies: []Policy{{Name: "Default", FilterExpression: "fault", KeepRate: 1}}}, "names the default"},
		{Policies{DefaultRate: 1, Policies: []Policy{{Name: "a b", FilterExpression: "fault", KeepRate: 1}}}, "use letters"},
		{Policies{DefaultRate: 1, Policies: []Policy{{Name: "a", FilterExpression: " ", KeepRate: 1}}}, "FilterExpression: required"},
		{Policies{DefaultRate: 1, Policies: []Policy{{Name: "a", FilterExpression: "fault", KeepRate: -1}}}, "Policies[0].KeepRate"},
		{Policies{DefaultRate: 1, Policies: []Policy{{Name: "a", FilterExpression: "fault", KeepRate: 1}, {Name: "a", FilterExpression: "error", KeepRate: 1}}}, "names must be unique"},
		{Policies{DefaultRate: 1, Policies: []Policy{{Name: "a", FilterExpression: `service("x") {`, KeepRate: 1}}}, "Policies[0].FilterExpression: "},
		{Policies{DefaultRate: 1, Policies: []Policy{{Name: "a", FilterExpression: "group.name = \"g\"", KeepRate: 1}}}, "Policies[0].FilterExpression: "},
	} {
		_, err := Compile(c.p, filter.Options{})
		var ve *ValidationError
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v; want a ValidationError with %q", c.p, err, c.want)
		}
	}
	// The filter language's own message, column included.
	_, err := Compile(Policies{DefaultRate: 1, Policies: []Policy{{Name: "a", FilterExpression: "responsetime >", KeepRate: 1}}}, filter.Options{})
	_, ferr := filter.Parse("responsetime >", filter.Options{})
	if err == nil || ferr == nil || err.Error() != "Policies[0].FilterExpression: "+ferr.Error() || !strings.Contains(err.Error(), "column") {
		t.Errorf("got %v; want the filter's %v", err, ferr)
	}
}

// FuzzCompile: any policy list is compiled or refused, never a panic, and
// a compiled one decides.
func FuzzCompile(f *testing.F) {
	f.Add("faults", "fault OR error", 0.5, 0.05)
	f.Add("x", `annotation.order_id = "o-981"`, 1.0, 0.0)
	f.Add("", "responsetime >", -1.0, 2.0)
	f.Fuzz(func(t *testing.T, name, expr string, rate, def float64) {
		c, err := Compile(Policies{Policies: []Policy{{Name: name, FilterExpression: expr, KeepRate: rate}}, DefaultRate: def}, filter.Options{})
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("not a ValidationError: %v", err)
			}
			return
		}
		c.Decide(&trace.Summary{TraceID: "1-67000000-000000000000000000000001", EntryPoint: -1})
	})
}
