package trace

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// Random summaries, with each derivable field made to equal its derivation
// half of the time (including -0, NaN and zero values, nil and empty
// lists), decode from the derived form as from the packed one.
func TestDerivedFormRandomSummaries(t *testing.T) {
	seeds := 3000
	if testing.Short() {
		seeds = 300
	}
	seen := uint64(0)
	for seed := range seeds {
		s := randomDerivable(seed)
		seen |= derivedFields(s)
		for _, omitID := range []bool{false, true} {
			got, ok := appendDerived(nil, s, omitID)
			if !ok {
				continue // an unstorable annotation value: the packed fallback reports it
			}
			want, err := appendPackedByReflection(nil, s, omitID)
			if err != nil {
				t.Fatal(err)
			}
			gotS, err := DecodeSummary(got)
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			wantS, err := DecodeSummary(want)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(gotS, wantS) && !samePacked(t, gotS, wantS) {
				t.Fatalf("seed %d: derived form (flags %#x) decodes to\n%#v\npacked to\n%#v", seed, derivedFields(s), gotS, wantS)
			}
		}
	}
	if seen != deriveKnown {
		t.Errorf("the random summaries derived only %#x of %#x", seen, deriveKnown)
	}
}

// samePacked compares summaries whose floats may be NaN (which DeepEqual
// never finds equal) by their packed bytes, which hold every bit and tell
// nil from empty lists.
func samePacked(t *testing.T, a, b *Summary) bool {
	ab, err := appendPackedByReflection(nil, a, false)
	if err != nil {
		t.Fatal(err)
	}
	bb, err := appendPackedByReflection(nil, b, false)
	if err != nil {
		t.Fatal(err)
	}
	return string(ab) == string(bb)
}

// Derived forms that cannot be read fail with an error: flags this build
// does not know, flags cut short, a derivation from an entry segment or
// node the summary lacks.
func TestDerivedFormErrors(t *testing.T) {
	body, ok := appendPackedSummary(nil, &Summary{EntryPoint: 3, Segments: []SegmentFact{{Node: 1, Root: true}}}, false, 0)
	if !ok {
		t.Fatal("no body")
	}
	inferredBody, ok := appendPackedSummary(nil, &Summary{Segments: []SegmentFact{{Inferred: true}}}, false, 0)
	if !ok {
		t.Fatal("no body")
	}
	for name, b := range map[string][]byte{
		"unknown flag":       append(binary.AppendUvarint([]byte{summaryDerived}, deriveKnown+1), body...),
		"cut short":          {summaryDerived, 0x80},
		"no entry segment":   append([]byte{summaryDerived, deriveHTTP}, body...),
		"no entry node":      append([]byte{summaryDerived, deriveResponseTimeRootCauses}, body...),
		"too few edges":      append([]byte{summaryDerived, deriveInferredFacts}, inferredBody...),
		"no body":            {summaryDerived},
		"bad body":           {summaryDerived, deriveNames, 0xff, 0xff},
		"flags over 64 bits": {summaryDerived, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	} {
		if s, err := DecodeSummary(b); err == nil {
			t.Errorf("%s: decoded to %+v", name, s)
		}
	}
	if s, err := DecodeSummary(append([]byte{summaryDerived, deriveDuration}, body...)); err != nil || !math.Signbit(s.Duration) && s.Duration != 0 {
		t.Errorf("a readable derived form: %+v, %v", s, err)
	}
}

// randomDerivable is a random summary with each derivable field made to
// equal its derivation half of the time.
func randomDerivable(seed int) *Summary {
	r := rand.New(rand.NewPCG(uint64(seed), 16))
	s := new(Summary)
	randomValue(r, reflect.ValueOf(s).Elem(), 0)
	if len(s.Segments) > 0 && r.IntN(4) > 0 {
		f := &s.Segments[r.IntN(len(s.Segments))]
		f.Root, f.Node = true, s.EntryPoint
		if r.IntN(2) == 0 {
			s.HTTP = f.HTTP
		}
		if r.IntN(2) == 0 {
			s.StartTime = f.Start
		}
		if r.IntN(2) == 0 {
			s.EndTime = f.End
		}
	}
	if r.IntN(2) == 0 {
		s.Duration = s.EndTime - s.StartTime
	}
	if r.IntN(2) == 0 {
		s.ResponseTime = s.Duration
	}
	if r.IntN(2) == 0 {
		for i := range s.Nodes {
			s.Nodes[i].Names = []string{s.Nodes[i].Name}
		}
	}
	if len(s.Nodes) > 0 && r.IntN(2) == 0 {
		s.EntryPoint = r.IntN(len(s.Nodes))
		n := &s.Nodes[s.EntryPoint]
		if len(n.Names) == 0 {
			n.Names = []string{"x"}
		}
		s.ResponseTimeRootCauses = entryRootCause(n)
	}
	if r.IntN(2) == 0 {
		s.Segments = append(s.Segments, SegmentFact{Inferred: true})
		edges, ok := inferredEdges(s)
		for !ok {
			s.Edges = append(s.Edges, Edge{To: r.IntN(3), Start: r.Float64(), Fault: r.IntN(2) == 0})
			edges, ok = inferredEdges(s)
		}
		k := 0
		for i := range s.Segments {
			if s.Segments[i].Inferred {
				s.Segments[i] = inferredFact(&edges[k])
				k++
			}
		}
	}
	return s
}
