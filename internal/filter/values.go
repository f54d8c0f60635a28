package filter

import "github.com/roentgen-tracing/roentgen/internal/trace"

// The values of keywords in each scope (spec §4.3).

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
