package trace

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// A summary in the derived form (format byte summaryDerived) leaves out
// fields that equal what the reader can compute from the rest: after the
// format byte, a uvarint of derive flags, then the packed form of the
// summary with those fields zero. Most of a single-segment trace's summary
// repeats itself: the trace's HTTP, times and duration are its root
// segment's, a node's names are its name, the response-time root cause is
// the entry node alone, and an inferred segment is its edge (~40% of its
// bytes). A summary is written in the
// derived form only when a field equals its derivation exactly (floats bit
// for bit), so decoding gives what the packed form would
// (TestDerivedFormDecodesAsPacked). A flag this build does not know is an
// error, not a silently wrong summary.
const (
	// deriveHTTP: HTTP is that of the entry fact (entryFact).
	deriveHTTP = 1 << iota
	// deriveStart: StartTime is the entry fact's Start.
	deriveStart
	// deriveEnd: EndTime is the entry fact's End.
	deriveEnd
	// deriveDuration: Duration is EndTime - StartTime.
	deriveDuration
	// deriveResponseTime: ResponseTime is Duration.
	deriveResponseTime
	// deriveNames: every node's Names is its Name alone.
	deriveNames
	// deriveResponseTimeRootCauses: the response-time root cause is the
	// entry node alone, fully covering, client impacting.
	deriveResponseTimeRootCauses
	// deriveInferredFacts: the facts of inferred segments, in order, are
	// the last edges' (each inferred segment is summarised from the
	// subsegment its edge is: builder.infer), and are stored as their
	// Inferred flag alone.
	deriveInferredFacts

	deriveKnown = deriveInferredFacts<<1 - 1
)

// entryFact is the index in s.Segments of the first root segment of the
// entry point's node, or -1.
func entryFact(s *Summary) int {
	for i := range s.Segments {
		if f := &s.Segments[i]; f.Root && f.Node == s.EntryPoint {
			return i
		}
	}
	return -1
}

func sameFloat(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

// derivedFields returns the derive flags that hold for s.
func derivedFields(s *Summary) uint64 {
	var d uint64
	if r := entryFact(s); r >= 0 {
		f := &s.Segments[r]
		if s.HTTP == f.HTTP {
			d |= deriveHTTP
		}
		if sameFloat(s.StartTime, f.Start) {
			d |= deriveStart
		}
		if sameFloat(s.EndTime, f.End) {
			d |= deriveEnd
		}
	}
	if sameFloat(s.Duration, s.EndTime-s.StartTime) {
		d |= deriveDuration
	}
	if sameFloat(s.ResponseTime, s.Duration) {
		d |= deriveResponseTime
	}
	if len(s.Nodes) > 0 && namesAreNames(s.Nodes) {
		d |= deriveNames
	}
	if s.EntryPoint >= 0 && s.EntryPoint < len(s.Nodes) && isEntryRootCause(s.ResponseTimeRootCauses, &s.Nodes[s.EntryPoint]) {
		d |= deriveResponseTimeRootCauses
	}
	if inferredFactsAreEdges(s) {
		d |= deriveInferredFacts
	}
	return d
}

// inferredFactsAreEdges reports whether s has inferred facts and each is
// inferredFact of its edge (inferredEdges).
func inferredFactsAreEdges(s *Summary) bool {
	edges, ok := inferredEdges(s)
	if !ok || len(edges) == 0 {
		return false
	}
	k := 0
	for i := range s.Segments {
		if f := &s.Segments[i]; f.Inferred {
			if !sameFact(f, inferredFact(&edges[k])) {
				return false
			}
			k++
		}
	}
	return true
}

// inferredEdges are the last edges of s, one per inferred fact; ok is
// false when there are fewer edges than inferred facts.
func inferredEdges(s *Summary) ([]Edge, bool) {
	k := 0
	for i := range s.Segments {
		if s.Segments[i].Inferred {
			k++
		}
	}
	if k > len(s.Edges) {
		return nil, false
	}
	return s.Edges[len(s.Edges)-k:], true
}

func inferredFact(e *Edge) SegmentFact {
	return SegmentFact{Node: e.To, Inferred: true, Fault: e.Fault, Error: e.Error, Throttle: e.Throttle,
		InProgress: e.InProgress, Start: e.Start, End: e.End, HTTP: e.HTTP}
}

// sameFact is a == b with floats compared bit for bit.
func sameFact(a *SegmentFact, b SegmentFact) bool {
	return a.Node == b.Node && a.Root == b.Root && a.Inferred == b.Inferred && a.Fault == b.Fault && a.Error == b.Error &&
		a.Throttle == b.Throttle && a.InProgress == b.InProgress && sameFloat(a.Start, b.Start) && sameFloat(a.End, b.End) &&
		a.HTTP == b.HTTP
}

func namesAreNames(nodes []Node) bool {
	for i := range nodes {
		if n := &nodes[i]; len(n.Names) != 1 || n.Names[0] != n.Name {
			return false
		}
	}
	return true
}

// isEntryRootCause reports whether rcs is entryRootCause(n).
func isEntryRootCause(rcs []RootCause, n *Node) bool {
	if len(rcs) != 1 || !rcs[0].ClientImpacting || len(rcs[0].Services) != 1 {
		return false
	}
	svc := &rcs[0].Services[0]
	if svc.Name != n.Name || svc.Type != n.Type || svc.AccountId != n.AccountID || svc.Inferred != n.Inferred ||
		len(n.Names) == 0 || !slices.Equal(svc.Names, n.Names) || len(svc.EntityPath) != 1 {
		return false
	}
	e := &svc.EntityPath[0]
	return e.Name == n.Name && e.Exceptions == nil && !e.Remote && e.Coverage != nil && sameFloat(*e.Coverage, 1)
}

func entryRootCause(n *Node) []RootCause {
	one := 1.0
	return []RootCause{{ClientImpacting: true, Services: []RootCauseService{{
		Name: n.Name, Names: slices.Clone(n.Names), Type: n.Type, AccountId: n.AccountID, Inferred: n.Inferred,
		EntityPath: []RootCauseEntity{{Name: n.Name, Coverage: &one}},
	}}}}
}

// appendDerived appends the derived form of s, or the packed form when no
// field derives; ok as for appendPackedSummary.
func appendDerived(dst []byte, s *Summary, omitID bool) ([]byte, bool) {
	d := derivedFields(s)
	if d == 0 {
		return appendPackedSummary(append(dst, summaryPacked), s, omitID, 0)
	}
	return appendPackedSummary(binary.AppendUvarint(append(dst, summaryDerived), d), s, omitID, d)
}

// decodeDerived reads the body of a summary in the derived form.
func decodeDerived(b []byte, s *Summary) error {
	d, n := binary.Uvarint(b)
	if n <= 0 {
		return fmt.Errorf("stored summary: derive flags are cut short")
	}
	if d&^deriveKnown != 0 {
		return fmt.Errorf("stored summary derives fields this build does not know (flags %#x)", d)
	}
	if err := packedSummaryCodec.Decode(b[n:], s); err != nil {
		return err
	}
	return applyDerived(d, s)
}

// applyDerived computes the fields flags d say were left out of s.
func applyDerived(d uint64, s *Summary) error {
	if d&(deriveHTTP|deriveStart|deriveEnd) != 0 {
		r := entryFact(s)
		if r < 0 {
			return fmt.Errorf("stored summary derives from its entry segment and has none")
		}
		f := &s.Segments[r]
		if d&deriveHTTP != 0 {
			s.HTTP = f.HTTP
		}
		if d&deriveStart != 0 {
			s.StartTime = f.Start
		}
		if d&deriveEnd != 0 {
			s.EndTime = f.End
		}
	}
	if d&deriveDuration != 0 {
		s.Duration = s.EndTime - s.StartTime
	}
	if d&deriveResponseTime != 0 {
		s.ResponseTime = s.Duration
	}
	if d&deriveNames != 0 {
		names := make([]string, len(s.Nodes))
		for i := range s.Nodes {
			names[i] = s.Nodes[i].Name
			s.Nodes[i].Names = names[i : i+1 : i+1]
		}
	}
	if d&deriveResponseTimeRootCauses != 0 {
		if s.EntryPoint < 0 || s.EntryPoint >= len(s.Nodes) {
			return fmt.Errorf("stored summary derives its root cause from entry node %d of %d", s.EntryPoint, len(s.Nodes))
		}
		s.ResponseTimeRootCauses = entryRootCause(&s.Nodes[s.EntryPoint])
	}
	if d&deriveInferredFacts != 0 {
		edges, ok := inferredEdges(s)
		if !ok {
			return fmt.Errorf("stored summary derives its inferred segments from %d edges, too few", len(s.Edges))
		}
		k := 0
		for i := range s.Segments {
			if s.Segments[i].Inferred {
				s.Segments[i] = inferredFact(&edges[k])
				k++
			}
		}
	}
	return nil
}
