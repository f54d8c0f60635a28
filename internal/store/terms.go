package store

import (
	"sort"
	"strconv"

	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Term is one index entry of a trace: a field and a value. Filter
// expressions are narrowed to the traces carrying a term before they are
// evaluated, so the cost of a search follows its matches.
type Term struct {
	Field string
	Value string
}

// Indexed fields. Values are exact; string operators other than equality
// cannot use the index and scan the time range instead.
const (
	FieldService    = "svc"  // node name, any node of the trace
	FieldNodeType   = "type" // node type
	FieldAnnKey     = "ak"   // annotation key is set
	FieldAnnValue   = "av"   // annotation key and typed value: key \x00 AnnotationValueKey
	FieldUser       = "user"
	FieldStatus     = "st"   // root HTTP status
	FieldFlag       = "flag" // fault, error, throttle, partial: of the root segment or any node
	FieldAccount    = "acct"
	FieldARN        = "arn"
	FieldInstanceID = "iid"
	FieldAZ         = "az"
	// FieldServiceFlag is a node name and a flag one of its segments has
	// (name \x00 fault|error|throttle): service("x") { fault } in one term.
	FieldServiceFlag = "sflag"
	FieldException   = "exc" // exception type, any segment
	// FieldRootCause marks a non-empty root-cause list: fault, error, responsetime.
	FieldRootCause = "rc"
)

// ServiceFlagValue is the FieldServiceFlag value of a node name and flag.
func ServiceFlagValue(name, flag string) string { return name + "\x00" + flag }

// AnnotationValueKey is the typed form of an annotation value in FieldAnnValue.
func AnnotationValueKey(v any) string {
	switch x := v.(type) {
	case string:
		return "s" + x
	case bool:
		return "b" + strconv.FormatBool(x)
	case float64:
		return "n" + strconv.FormatFloat(x, 'g', -1, 64)
	}
	return "?"
}

// TermsOf lists the distinct index terms of a summary, sorted. Every backend
// indexes exactly these, so queries behave the same on all of them.
func TermsOf(s *trace.Summary) []Term {
	if s == nil {
		return nil
	}
	set := map[Term]struct{}{}
	add := func(f, v string) { set[Term{f, v}] = struct{}{} }
	for _, n := range s.Nodes {
		add(FieldService, n.Name)
		for _, alias := range n.Names {
			add(FieldService, alias)
		}
		if n.Type != "" {
			add(FieldNodeType, n.Type)
		}
		if n.AccountID != "" {
			add(FieldAccount, n.AccountID)
		}
	}
	for _, a := range s.Annotations {
		add(FieldAnnKey, a.Key)
		add(FieldAnnValue, a.Key+"\x00"+AnnotationValueKey(a.Value))
	}
	for _, u := range s.Users {
		add(FieldUser, u.Name)
	}
	if s.HTTP.Status != 0 {
		add(FieldStatus, strconv.Itoa(s.HTTP.Status))
	}
	flag := func(on bool, name string) {
		if on {
			add(FieldFlag, name)
		}
	}
	flag(s.HasFault, "fault")
	flag(s.HasError, "error")
	flag(s.HasThrottle, "throttle")
	flag(s.IsPartial, "partial")
	// Traces without an entry point are not ok either: with the flags
	// above they make `!ok` one set of terms.
	flag(s.EntryPoint < 0, "noroot")
	for _, f := range s.Segments {
		flag(f.Fault, "fault")
		flag(f.Error, "error")
		flag(f.Throttle, "throttle")
		if f.Node >= 0 && f.Node < len(s.Nodes) {
			n := s.Nodes[f.Node]
			for _, x := range [...]struct {
				on   bool
				name string
			}{{f.Fault, "fault"}, {f.Error, "error"}, {f.Throttle, "throttle"}} {
				if x.on {
					add(FieldServiceFlag, ServiceFlagValue(n.Name, x.name))
					for _, alias := range n.Names {
						add(FieldServiceFlag, ServiceFlagValue(alias, x.name))
					}
				}
			}
		}
	}
	for _, x := range s.Exceptions {
		if x.Type != "" {
			add(FieldException, x.Type)
		}
	}
	flagRC := func(l []trace.RootCause, name string) {
		if len(l) > 0 {
			add(FieldRootCause, name)
		}
	}
	flagRC(s.FaultRootCauses, "fault")
	flagRC(s.ErrorRootCauses, "error")
	flagRC(s.ResponseTimeRootCauses, "responsetime")
	for _, v := range s.ResourceARNs {
		add(FieldARN, v)
	}
	for _, v := range s.InstanceIDs {
		add(FieldInstanceID, v)
	}
	for _, v := range s.AvailabilityZones {
		add(FieldAZ, v)
	}
	out := make([]Term, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Field != out[j].Field {
			return out[i].Field < out[j].Field
		}
		return out[i].Value < out[j].Value
	})
	return out
}
