package store

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Term is one index entry of a trace: a field and a value. Filter
// expressions are narrowed to the traces carrying a term before they are
// evaluated, so the cost of a search follows its matches.
type Term struct {
	Field string
	Value string
}

// TermRange stands, in a query, for every term of Field whose value v has
// From <= v <= To in byte order: the values of numeric fields sort as
// their numbers do (numeric.go).
type TermRange struct {
	Field, From, To string
}

// Has reports whether t is one of the range's terms.
func (r TermRange) Has(t Term) bool {
	return r.Field == t.Field && r.From <= t.Value && t.Value <= r.To
}

// TermSet is a disjunction of terms: exact ones, and ranges.
type TermSet struct {
	Terms  []Term
	Ranges []TermRange
}

// Empty reports whether the set holds no term.
func (s TermSet) Empty() bool { return len(s.Terms) == 0 && len(s.Ranges) == 0 }

// Has reports whether t is in the set.
func (s TermSet) Has(t Term) bool {
	if slices.Contains(s.Terms, t) {
		return true
	}
	for _, r := range s.Ranges {
		if r.Has(t) {
			return true
		}
	}
	return false
}

// Indexed fields. Values are exact; string operators other than equality
// cannot use the index and scan the time range instead.
const (
	FieldService  = "svc"  // node name, any node of the trace
	FieldNodeType = "type" // node type
	FieldAnnKey   = "ak"   // annotation key is set
	FieldAnnValue = "av"   // annotation key and typed value: key \x00 AnnotationValueKey (numbers: FieldAnnNumber since layout 6)
	FieldUser     = "user"
	// FieldStatus is the root HTTP status in decimal, as layouts before 6
	// indexed it; FieldHTTPStatus (numeric.go) replaced it.
	FieldStatus     = "st"
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
func TermsOf(s *trace.Summary) []Term { return TermsInto(nil, s) }

// TermsInto is TermsOf in buf's array when it has room: for a caller that
// is done with the terms before it lists the next summary's (the embedded
// store's Apply, where a fresh list per summary was ~6% of the bytes
// single-segment ingest allocated).
func TermsInto(buf []Term, s *trace.Summary) []Term {
	if s == nil {
		return nil
	}
	// The scratch is reused: finish copies what it keeps out of it.
	sc := termScratches.Get().(*termScratch)
	out, b := termsInto(buf, sc.buf[:0], s, false, sc)
	sc.buf = b[:0]
	termScratches.Put(sc)
	return out
}

// TermsScratch is TermsInto for a caller done with the terms before it
// lists the next summary's into the same vals: the values built for this
// summary (annotation values, service flags, codes) are views of vals'
// array, which it returns, grown, for the next call. Copied into a string
// per summary, they were ~40% of the objects the embedded store's Apply
// allocated (single-segment traces).
func TermsScratch(buf []Term, vals []byte, s *trace.Summary) ([]Term, []byte) {
	if s == nil {
		return nil, vals
	}
	sc := termScratches.Get().(*termScratch)
	out, b := termsInto(buf, vals[:0], s, true, sc)
	termScratches.Put(sc)
	return out, b
}

// termsInto lists the terms of s into buf, building values in vals; with
// views, built values are views of vals' array (TermsScratch), not a string.
// sc's spans are its scratch.
func termsInto(buf []Term, vals []byte, s *trace.Summary, views bool, sc *termScratch) ([]Term, []byte) {
	// Terms are collected with duplicates, then sorted and deduplicated.
	// Values that are not strings of the summary already (annotation
	// values, service flags, the status) are built in one byte buffer and
	// become substrings of a single string at the end.
	n := 12 + 3*len(s.Nodes) + 2*len(s.Annotations) + len(s.Users) + len(s.Exceptions) +
		len(s.ResourceARNs) + len(s.InstanceIDs) + len(s.AvailabilityZones)
	if cap(buf) < n {
		buf = make([]Term, 0, n)
	}
	t := termList{out: buf[:0], buf: vals, views: views, spans: sc.spans[:0]}
	// Fields are listed in their sort order (acct ak an arn av az du exc
	// flag hs iid rc rt sflag sp svc type user), so that sorting only
	// orders each field's few values: sorting the whole list was ~3% of
	// single-segment ingest's CPU. TestTermsInFieldOrder holds it to the
	// terms of the earlier any-order listing.
	for _, n := range s.Nodes {
		if n.AccountID != "" {
			t.add(FieldAccount, n.AccountID)
		}
	}
	for _, a := range s.Annotations {
		t.add(FieldAnnKey, a.Key)
	}
	t.annotationNumbers(s)
	for _, v := range s.ResourceARNs {
		t.add(FieldARN, v)
	}
	for _, a := range s.Annotations {
		if _, isNumber := a.Value.(float64); isNumber {
			continue // FieldAnnNumber (numeric.go)
		}
		t.begin()
		t.buf = appendAnnotationValueKey(append(append(t.buf, a.Key...), 0), a.Value)
		t.end(FieldAnnValue)
	}
	for _, v := range s.AvailabilityZones {
		t.add(FieldAZ, v)
	}
	times := timeCodesOf(s)
	if times.du >= 0 {
		t.code(FieldDuration, times.du)
	}
	for _, x := range s.Exceptions {
		if x.Type != "" {
			t.add(FieldException, x.Type)
		}
	}
	// Flags of the trace or any segment (bits as for nodeFlags below).
	flags := flagBits(s.HasFault, s.HasError, s.HasThrottle)
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
	t.flag(s.IsPartial, "partial")
	// Traces without an entry point are not ok either: with the flags
	// above they make `!ok` one set of terms.
	t.flag(s.EntryPoint < 0, "noroot")
	if s.HTTP.Status != 0 {
		t.code(FieldHTTPStatus, statusCode(s.HTTP.Status))
	}
	for _, v := range s.InstanceIDs {
		t.add(FieldInstanceID, v)
	}
	flagRC := func(l []trace.RootCause, name string) {
		if len(l) > 0 {
			t.add(FieldRootCause, name)
		}
	}
	flagRC(s.ErrorRootCauses, "error")
	flagRC(s.FaultRootCauses, "fault")
	flagRC(s.ResponseTimeRootCauses, "responsetime")
	if times.rt >= 0 {
		t.code(FieldResponseTime, times.rt)
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
	if times.sp >= 0 {
		t.code(FieldSpanTime, times.sp)
	}
	for _, n := range s.Nodes {
		t.add(FieldService, n.Name)
		for _, alias := range n.Names {
			if alias != n.Name {
				t.add(FieldService, alias)
			}
		}
	}
	for _, n := range s.Nodes {
		if n.Type != "" {
			t.add(FieldNodeType, n.Type)
		}
	}
	for _, u := range s.Users {
		t.add(FieldUser, u.Name)
	}
	out := t.finish()
	sc.spans = t.spans[:0]
	return out, t.buf
}

var flagNames = [...]string{"fault", "error", "throttle"}

func flagBits(fault, err, throttle bool) uint8 {
	var b uint8
	if fault {
		b |= 1
	}
	if err {
		b |= 2
	}
	if throttle {
		b |= 4
	}
	return b
}

// termList collects the terms of one summary.
type termList struct {
	out []Term
	// buf holds built values; spans says which term gets which part.
	buf   []byte
	spans []termSpan
	start int
	views bool // finish makes built values views of buf, not a string
}

type termSpan struct{ term, start, end int }

// termScratch is a termList's buffers that TermsOf does not return; pooled,
// as allocated per summary they were 2.6% of what ingest allocated.
type termScratch struct {
	buf   []byte
	spans []termSpan
}

var termScratches = sync.Pool{New: func() any {
	return &termScratch{buf: make([]byte, 0, 256), spans: make([]termSpan, 0, 32)}
}}

func (t *termList) add(f, v string) { t.out = append(t.out, Term{Field: f, Value: v}) }

func (t *termList) flag(on bool, name string) {
	if on {
		t.add(FieldFlag, name)
	}
}

// begin starts a built value: append it to t.buf, then call end.
func (t *termList) begin() { t.start = len(t.buf) }

func (t *termList) end(field string) {
	t.spans = append(t.spans, termSpan{len(t.out), t.start, len(t.buf)})
	t.out = append(t.out, Term{Field: field})
}

func (t *termList) serviceFlag(name, flag string) {
	t.begin()
	t.buf = append(append(append(t.buf, name...), 0), flag...)
	t.end(FieldServiceFlag)
}

func (t *termList) finish() []Term {
	if len(t.spans) > 0 {
		var all string
		if t.views {
			all = unsafe.String(unsafe.SliceData(t.buf), len(t.buf))
		} else {
			all = string(t.buf)
		}
		for _, sp := range t.spans {
			t.out[sp.term].Value = all[sp.start:sp.end]
		}
	}
	out := t.out
	if len(out) > maxInsertionSort {
		slices.SortFunc(out, compareTerms)
	} else {
		// Listed in field order: only each field's values move.
		for i := 1; i < len(out); i++ {
			for j := i; j > 0 && compareTerms(out[j-1], out[j]) > 0; j-- {
				out[j-1], out[j] = out[j], out[j-1]
			}
		}
	}
	return slices.Compact(out)
}

// maxInsertionSort is the most terms finish sorts by insertion: beyond, a
// field with many values (nodes, ARNs) could make it quadratic.
const maxInsertionSort = 64

func compareTerms(a, b Term) int {
	// Two bytes settle the order of two strings that differ in them: the
	// fields all do, so most comparisons of a summary's listing (of
	// neighbours of two fields) compare no whole strings.
	if len(a.Field) >= 2 && len(b.Field) >= 2 {
		x := uint16(a.Field[0])<<8 | uint16(a.Field[1])
		y := uint16(b.Field[0])<<8 | uint16(b.Field[1])
		if x != y {
			return cmp.Compare(x, y)
		}
	}
	if c := strings.Compare(a.Field, b.Field); c != 0 {
		return c
	}
	return strings.Compare(a.Value, b.Value)
}

// appendAnnotationValueKey appends AnnotationValueKey(v).
func appendAnnotationValueKey(dst []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return append(append(dst, 's'), x...)
	case bool:
		return strconv.AppendBool(append(dst, 'b'), x)
	case float64:
		return strconv.AppendFloat(append(dst, 'n'), x, 'g', -1, 64)
	}
	return append(dst, '?')
}
