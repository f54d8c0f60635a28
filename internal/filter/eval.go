package filter

import (
	"strings"

	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// env is what a predicate is tested against: the trace, and in braces the
// segment fact, edge or root-cause element of the scope.
type env struct {
	s    *trace.Summary
	seg  *trace.SegmentFact // scopeNode
	edge *trace.Edge        // scopeEdge
	rc   *rcItem            // scopeRootCause
}

func eval(n node, e *env) bool {
	switch x := n.(type) {
	case *andNode:
		for _, y := range x.xs {
			if !eval(y, e) {
				return false
			}
		}
		return true
	case *orNode:
		for _, y := range x.xs {
			if eval(y, e) {
				return true
			}
		}
		return false
	case *notNode:
		return !eval(x.x, e)
	case *predNode:
		return x.eval(e)
	case *serviceNode:
		return x.eval(e.s)
	case *edgeNode:
		return x.eval(e.s)
	case *rootCauseNode:
		return x.eval(e.s)
	case *rootCauseJSONNode:
		return x.eval(e.s)
	}
	return false
}

func (r *nodeRef) matches(n *trace.Node) bool {
	if r == nil {
		return true
	}
	if r.hasType && n.Type != r.typ || r.hasAccount && n.AccountID != r.account {
		return false
	}
	if !r.hasName || n.Name == r.name {
		return true
	}
	for _, a := range n.Names {
		if a == r.name {
			return true
		}
	}
	return false
}

// service(ref) { body }: some node matching ref has a segment (real or
// inferred) satisfying body.
func (x *serviceNode) eval(s *trace.Summary) bool {
	for i := range s.Nodes {
		if !x.ref.matches(&s.Nodes[i]) {
			continue
		}
		if x.body == nil {
			return true
		}
		for j := range s.Segments {
			f := &s.Segments[j]
			if f.Node == i && eval(x.body, &env{s: s, seg: f}) {
				return true
			}
		}
	}
	return false
}

// edge(a, b) { body }: some call from a node matching a to one matching b
// satisfies body, judged by the caller's view of the call.
func (x *edgeNode) eval(s *trace.Summary) bool {
	for i := range s.Edges {
		ed := &s.Edges[i]
		if ed.From < 0 || ed.From >= len(s.Nodes) || ed.To < 0 || ed.To >= len(s.Nodes) {
			continue
		}
		if !x.from.matches(&s.Nodes[ed.From]) || !x.to.matches(&s.Nodes[ed.To]) {
			continue
		}
		if x.body == nil || eval(x.body, &env{s: s, edge: ed}) {
			return true
		}
	}
	return false
}

func (p *predNode) eval(e *env) bool {
	switch p.vtype {
	case vBool:
		if p.key == kwAnnotation {
			return p.annotationBool(e.s)
		}
		v, ok := e.boolOf(p.key)
		if !ok {
			return false
		}
		switch p.op {
		case "":
			return v
		case "=":
			return v == p.b
		}
		return v != p.b
	case vNumber:
		if p.key == kwAnnotation {
			return p.annotationNumber(e.s)
		}
		v, ok := e.numberOf(p.key)
		return ok && compareNumber(p.op, v, p.num)
	case vString:
		if p.key == kwAnnotation {
			return p.annotationString(e.s)
		}
		return p.matchStrings(e.stringsOf(p.key))
	}
	// An annotation tested bare: the key is set.
	if p.key == kwAnnotation {
		for _, a := range e.s.Annotations {
			if a.Key == p.annKey {
				return true
			}
		}
	}
	return false
}

func compareNumber(op string, have, want float64) bool {
	switch op {
	case "=":
		return have == want
	case "!=":
		return have != want
	case "<":
		return have < want
	case "<=":
		return have <= want
	case ">":
		return have > want
	case ">=":
		return have >= want
	}
	return false
}

func compareString(op, have, want string) bool {
	switch op {
	case "=":
		return have == want
	case "contains":
		return strings.Contains(have, want)
	case "beginswith":
		return strings.HasPrefix(have, want)
	case "endswith":
		return strings.HasSuffix(have, want)
	}
	return false
}

// matchStrings tests a field that may hold several values (user, name,
// availabilityzone...): it matches when any value does; for != when it is
// set and no value equals; bare when any value is set.
func (p *predNode) matchStrings(vals []string) bool {
	set := false
	for _, v := range vals {
		if v == "" {
			continue
		}
		set = true
		switch p.op {
		case "":
			return true
		case "!=":
			if v == p.str {
				return false
			}
		default:
			if compareString(p.op, v, p.str) {
				return true
			}
		}
	}
	return p.op == "!=" && set
}

// annotationString and annotationNumber compare the annotation's values of
// the same type; != holds when the key is set and no value equals.
func (p *predNode) annotationString(s *trace.Summary) bool {
	set := false
	for _, a := range s.Annotations {
		if a.Key != p.annKey {
			continue
		}
		set = true
		v, ok := a.Value.(string)
		if p.op == "!=" {
			if ok && v == p.str {
				return false
			}
			continue
		}
		if ok && compareString(p.op, v, p.str) {
			return true
		}
	}
	return p.op == "!=" && set
}

func (p *predNode) annotationNumber(s *trace.Summary) bool {
	set := false
	for _, a := range s.Annotations {
		if a.Key != p.annKey {
			continue
		}
		set = true
		v, ok := a.Value.(float64)
		if p.op == "!=" {
			if ok && v == p.num {
				return false
			}
			continue
		}
		if ok && compareNumber(p.op, v, p.num) {
			return true
		}
	}
	return p.op == "!=" && set
}

func (p *predNode) annotationBool(s *trace.Summary) bool {
	set := false
	for _, a := range s.Annotations {
		if a.Key != p.annKey {
			continue
		}
		set = true
		v, ok := a.Value.(bool)
		if p.op == "!=" {
			if ok && v == p.b {
				return false
			}
			continue
		}
		if ok && v == p.b {
			return true
		}
	}
	return p.op == "!=" && set
}
