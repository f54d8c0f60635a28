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

// boolOf is a boolean keyword's value in the current scope.
func (e *env) boolOf(k keyword) (bool, bool) {
	switch {
	case e.rc != nil:
		return e.rc.boolOf(k)
	case e.seg != nil:
		f := e.seg
		return flags(k, f.Fault, f.Error, f.Throttle, f.InProgress, f.Root, f.Inferred), true
	case e.edge != nil:
		d := e.edge
		return flags(k, d.Fault, d.Error, d.Throttle, d.InProgress, false, false), true
	}
	s := e.s
	switch k {
	case kwOK:
		return s.RootOK && s.EntryPoint >= 0, true
	case kwError:
		return s.HasError, true
	case kwFault:
		return s.HasFault, true
	case kwThrottle:
		return s.HasThrottle, true
	case kwPartial:
		return s.IsPartial, true
	case kwRoot:
		return s.EntryPoint >= 0, true
	case kwInferred:
		for _, n := range s.Nodes {
			if n.Inferred {
				return true, true
			}
		}
		return false, true
	}
	return false, false
}

func flags(k keyword, fault, err, throttle, inProgress, root, inferred bool) bool {
	switch k {
	case kwOK:
		return !fault && !err && !throttle && !inProgress
	case kwError:
		return err
	case kwFault:
		return fault
	case kwThrottle:
		return throttle
	case kwPartial:
		return inProgress
	case kwRoot:
		return root
	case kwInferred:
		return inferred
	}
	return false
}

// numberOf is a numeric keyword's value; false when not known (an HTTP
// status never recorded, the response time of a call still in progress).
func (e *env) numberOf(k keyword) (float64, bool) {
	var rt float64
	var inProgress bool
	var h trace.HTTP
	switch {
	case e.rc != nil:
		return e.rc.numberOf(k)
	case e.seg != nil:
		rt, inProgress, h = e.seg.ResponseTime(), e.seg.InProgress, e.seg.HTTP
	case e.edge != nil:
		rt, inProgress, h = e.edge.ResponseTime(), e.edge.InProgress, e.edge.HTTP
	default:
		switch k {
		case kwResponseTime:
			return e.s.ResponseTime, e.s.EntryPoint >= 0
		case kwDuration:
			return e.s.Duration, true
		case kwHTTPStatus:
			return float64(e.s.HTTP.Status), e.s.HTTP.Status != 0
		}
		return 0, false
	}
	switch k {
	case kwResponseTime, kwDuration:
		return rt, !inProgress
	case kwHTTPStatus:
		return float64(h.Status), h.Status != 0
	}
	return 0, false
}

func httpField(k keyword, h *trace.HTTP) (string, bool) {
	switch k {
	case kwHTTPURL:
		return h.URL, true
	case kwHTTPMethod:
		return h.Method, true
	case kwHTTPUserAgent:
		return h.UserAgent, true
	case kwHTTPClientIP:
		return h.ClientIP, true
	}
	return "", false
}

// stringsOf is a string keyword's values in the current scope.
func (e *env) stringsOf(k keyword) []string {
	s := e.s
	switch {
	case e.rc != nil:
		return e.rc.stringsOf(k)
	case e.edge != nil:
		v, _ := httpField(k, &e.edge.HTTP)
		return []string{v}
	case e.seg != nil:
		if v, ok := httpField(k, &e.seg.HTTP); ok {
			return []string{v}
		}
		return nodeStrings(s, e.seg.Node, k)
	}
	if v, ok := httpField(k, &s.HTTP); ok {
		return []string{v}
	}
	switch k {
	case kwUser:
		out := make([]string, len(s.Users))
		for i, u := range s.Users {
			out[i] = u.Name
		}
		return out
	case kwName:
		var out []string
		for _, n := range s.Nodes {
			out = append(out, n.Names...)
			out = append(out, n.Name)
		}
		for _, x := range s.Exceptions {
			out = append(out, x.Type)
		}
		return out
	case kwType:
		out := make([]string, len(s.Nodes))
		for i, n := range s.Nodes {
			out[i] = n.Type
		}
		return out
	case kwMessage:
		out := make([]string, len(s.Exceptions))
		for i, x := range s.Exceptions {
			out[i] = x.Message
		}
		return out
	case kwAZ:
		return s.AvailabilityZones
	case kwInstanceID:
		return s.InstanceIDs
	case kwResourceARN:
		return s.ResourceARNs
	}
	return nil
}

// nodeStrings are the values of name, type, user and message for one node.
func nodeStrings(s *trace.Summary, node int, k keyword) []string {
	if node < 0 || node >= len(s.Nodes) {
		return nil
	}
	n := &s.Nodes[node]
	switch k {
	case kwName:
		return append([]string{n.Name}, n.Names...)
	case kwType:
		return []string{n.Type}
	case kwUser:
		var out []string
		for _, u := range s.Users {
			if containsInt(u.Nodes, node) {
				out = append(out, u.Name)
			}
		}
		return out
	case kwMessage:
		var out []string
		for _, x := range s.Exceptions {
			if x.Node == node {
				out = append(out, x.Message)
			}
		}
		return out
	}
	return nil
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
