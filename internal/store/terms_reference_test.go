package store

import "github.com/roentgen-tracing/roentgen/internal/trace"

// referenceTerms is TermsInto as it was before it listed terms in field
// order: terms in any order, then sorted. Kept to test that order changes
// nothing.
func referenceTerms(buf []Term, s *trace.Summary) []Term {
	if s == nil {
		return nil
	}
	// Terms are collected with duplicates, then sorted and deduplicated.
	// Values that are not strings of the summary already (annotation
	// values, service flags, the status) are built in one byte buffer and
	// become substrings of a single string at the end.
	n := 12 + 3*len(s.Nodes) + 2*len(s.Annotations) + len(s.Users) + len(s.Exceptions) +
		len(s.ResourceARNs) + len(s.InstanceIDs) + len(s.AvailabilityZones)
	if cap(buf) < n {
		buf = make([]Term, 0, n)
	}
	t := termList{out: buf[:0]}
	// The scratch is reused: finish copies what it keeps out of it.
	sc := termScratches.Get().(*termScratch)
	t.spans, t.buf = sc.spans[:0], sc.buf[:0]
	for _, n := range s.Nodes {
		t.add(FieldService, n.Name)
		for _, alias := range n.Names {
			if alias != n.Name {
				t.add(FieldService, alias)
			}
		}
		if n.Type != "" {
			t.add(FieldNodeType, n.Type)
		}
		if n.AccountID != "" {
			t.add(FieldAccount, n.AccountID)
		}
	}
	for _, a := range s.Annotations {
		t.add(FieldAnnKey, a.Key)
		if _, isNumber := a.Value.(float64); isNumber {
			continue // FieldAnnNumber (numeric.go)
		}
		t.begin()
		t.buf = appendAnnotationValueKey(append(append(t.buf, a.Key...), 0), a.Value)
		t.end(FieldAnnValue)
	}
	for _, u := range s.Users {
		t.add(FieldUser, u.Name)
	}
	t.referenceNumericTerms(s)
	// Flags of the trace or any segment (bits as for nodeFlags below).
	flags := flagBits(s.HasFault, s.HasError, s.HasThrottle)
	t.flag(s.IsPartial, "partial")
	// Traces without an entry point are not ok either: with the flags
	// above they make `!ok` one set of terms.
	t.flag(s.EntryPoint < 0, "noroot")
	// Per node, the flags any of its segments has (bit 0 fault, 1 error,
	// 2 throttle): each service flag term is built once.
	var nodeFlagBuf [16]uint8
	var nodeFlags []uint8
	if len(s.Nodes) <= len(nodeFlagBuf) {
		nodeFlags = nodeFlagBuf[:len(s.Nodes)]
	} else {
		nodeFlags = make([]uint8, len(s.Nodes))
	}
	for _, f := range s.Segments {
		fl := flagBits(f.Fault, f.Error, f.Throttle)
		flags |= fl
		if f.Node >= 0 && f.Node < len(s.Nodes) {
			nodeFlags[f.Node] |= fl
		}
	}
	for bit, name := range flagNames {
		if flags&(1<<bit) != 0 {
			t.add(FieldFlag, name)
		}
	}
	for i, fl := range nodeFlags {
		if fl == 0 {
			continue
		}
		n := &s.Nodes[i]
		for bit, name := range flagNames {
			if fl&(1<<bit) != 0 {
				t.serviceFlag(n.Name, name)
				for _, alias := range n.Names {
					if alias != n.Name {
						t.serviceFlag(alias, name)
					}
				}
			}
		}
	}
	for _, x := range s.Exceptions {
		if x.Type != "" {
			t.add(FieldException, x.Type)
		}
	}
	flagRC := func(l []trace.RootCause, name string) {
		if len(l) > 0 {
			t.add(FieldRootCause, name)
		}
	}
	flagRC(s.FaultRootCauses, "fault")
	flagRC(s.ErrorRootCauses, "error")
	flagRC(s.ResponseTimeRootCauses, "responsetime")
	for _, v := range s.ResourceARNs {
		t.add(FieldARN, v)
	}
	for _, v := range s.InstanceIDs {
		t.add(FieldInstanceID, v)
	}
	for _, v := range s.AvailabilityZones {
		t.add(FieldAZ, v)
	}
	out := t.finish()
	sc.spans, sc.buf = t.spans[:0], t.buf[:0]
	termScratches.Put(sc)
	return out
}

func (t *termList) referenceNumericTerms(s *trace.Summary) {
	rt := -1
	if s.EntryPoint >= 0 {
		rt = bucketOf(timeBounds, s.ResponseTime)
		t.code(FieldResponseTime, rt)
	}
	du := bucketOf(timeBounds, s.Duration)
	if du != rt {
		t.code(FieldDuration, du)
	}
	if v, ok := spanTime(s); ok {
		if sp := bucketOf(timeBounds, v); sp != rt && sp != du {
			t.code(FieldSpanTime, sp)
		}
	}
	if s.HTTP.Status != 0 {
		t.code(FieldHTTPStatus, statusCode(s.HTTP.Status))
	}
	for _, a := range s.Annotations {
		if x, ok := a.Value.(float64); ok {
			t.begin()
			t.buf = appendNumber(append(append(t.buf, a.Key...), 0), x)
			t.end(FieldAnnNumber)
		}
	}
}
