package store

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// TermsInto lists terms in field order and sorts only within fields; it
// must list exactly what the any-order listing sorted (referenceTerms):
// generated traces of every shape, then the same summaries with random
// extras in every field that has terms.
func TestTermsInFieldOrder(t *testing.T) {
	now := time.Now()
	var sums []*trace.Summary
	for _, size := range []int{0, 1, 8} {
		g := bench.NewGenerator(uint64(size) + 7)
		g.TraceSize = size
		for range 300 {
			tr, err := g.ParsedTrace(now)
			if err != nil {
				t.Fatal(err)
			}
			sums = append(sums, trace.Summarize(trace.Assemble(tr), nil, 1))
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	pick := func(l ...string) string { return l[r.IntN(len(l))] }
	for i, base := range sums[:len(sums)/2] {
		s := *base
		s.Nodes = slices.Clone(s.Nodes)
		for j := range s.Nodes {
			n := &s.Nodes[j]
			if r.IntN(3) == 0 {
				n.Names = append(slices.Clone(n.Names), pick("alias", n.Name, "zz", "a\x00b"))
			}
			if r.IntN(3) == 0 {
				n.AccountID = pick("123456789012", "000000000000", "")
			}
		}
		s.Annotations = append(slices.Clone(s.Annotations),
			trace.Annotation{Key: pick("k", "a", "zz"), Value: pick("v", "")},
			trace.Annotation{Key: "n", Value: []float64{0, math.Copysign(0, -1), -1.5, 1e300, math.NaN()}[r.IntN(5)]},
			trace.Annotation{Key: "b", Value: r.IntN(2) == 0})
		s.Users = append(slices.Clone(s.Users), trace.User{Name: pick("u1", "u2", "")})
		s.Exceptions = append(slices.Clone(s.Exceptions), trace.ExceptionFact{Type: pick("E", "", "A")})
		s.ResourceARNs = append(slices.Clone(s.ResourceARNs), pick("arn:b", "arn:a"), "arn:a")
		s.InstanceIDs = append(slices.Clone(s.InstanceIDs), pick("i-2", "i-1"))
		s.AvailabilityZones = append(slices.Clone(s.AvailabilityZones), pick("us-east-1b", "us-east-1a"))
		s.HasFault, s.HasError, s.HasThrottle, s.IsPartial = r.IntN(2) == 0, r.IntN(2) == 0, r.IntN(2) == 0, r.IntN(2) == 0
		s.HTTP.Status = []int{0, -3, 200, 404, 700, 2000}[r.IntN(6)]
		s.Duration = []float64{0, 0.25, 3, math.NaN(), s.Duration}[r.IntN(5)]
		if r.IntN(4) == 0 {
			s.EntryPoint = -1
		}
		if r.IntN(2) == 0 {
			s.ErrorRootCauses = []trace.RootCause{{}}
		}
		if r.IntN(2) == 0 {
			s.FaultRootCauses = []trace.RootCause{{}}
		}
		if i%10 == 0 { // past maxInsertionSort
			for k := range 80 {
				s.ResourceARNs = append(s.ResourceARNs, fmt.Sprint("arn:", r.IntN(1000), k))
			}
		}
		sums = append(sums, &s)
	}
	sums = append(sums, &trace.Summary{EntryPoint: -1}, &trace.Summary{})
	var buf, scratch []Term
	var vals []byte
	for i, s := range sums {
		want := referenceTerms(nil, s)
		if buf = TermsInto(buf, s); !slices.Equal(buf, want) {
			t.Fatalf("summary %d:\n got %q\nwant %q", i, buf, want)
		}
		// TermsScratch lists the same, its values in vals reused from
		// summary to summary.
		if scratch, vals = TermsScratch(scratch, vals, s); !slices.Equal(scratch, want) {
			t.Fatalf("summary %d, TermsScratch:\n got %q\nwant %q", i, scratch, want)
		}
	}
}

// compareTerms orders as comparing the field, then the value, as strings:
// fields of every known name, short and empty ones, ones sharing two bytes.
func TestCompareTermsAsStrings(t *testing.T) {
	fields := []string{"", "a", "ac", "acct", "ak", "an", "arn", "av", "az", "du", "exc", "flag", "hs", "iid", "rc",
		"rt", "sflag", "sp", "st", "svc", "type", "user", "s", "sv", "svc\x00", "\xff\xff", "\xff"}
	values := []string{"", "a", "b", "ab", "\x00", "\xff"}
	plain := func(a, b Term) int {
		if c := strings.Compare(a.Field, b.Field); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	}
	var terms []Term
	for _, f := range fields {
		for _, v := range values {
			terms = append(terms, Term{Field: f, Value: v})
		}
	}
	for _, a := range terms {
		for _, b := range terms {
			if got, want := compareTerms(a, b), plain(a, b); got != want {
				t.Fatalf("compareTerms(%q, %q) = %d, want %d", a, b, got, want)
			}
		}
	}
}
