package store

import (
	"math"
	"slices"
	"strconv"

	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Numeric index terms. A time or status is indexed under the bucket that
// holds it, so that a range (`responsetime > 5`) narrows to the buckets
// that can hold a match; the exact test on each candidate drops the rest of
// the edge buckets. A bucket's value is its code in three lower-case hex
// digits, and an annotation number's is the number itself in sixteen,
// both in an order that sorts as the numbers do: a range of them is one
// TermRange, which a backend reads as one key range.
const (
	// FieldResponseTime is the root segment's response time (seconds), for
	// a trace with an entry point.
	FieldResponseTime = "rt"
	// FieldDuration is the trace's duration, indexed only when its bucket
	// differs from the response time's: a duration range reads both fields.
	FieldDuration = "du"
	// FieldSpanTime is the largest response time of any completed segment
	// or call (what service(){responsetime} and edge(){responsetime} test),
	// indexed only when its bucket is neither the response time's nor the
	// duration's: a lower bound on it reads all three fields.
	FieldSpanTime = "sp"
	// FieldHTTPStatus is the root HTTP status: statuses 1 to 599 exactly,
	// 600 to 999 and 1000 up in one bucket each, negative ones in bucket 0.
	FieldHTTPStatus = "hs"
	// FieldAnnNumber is a numeric annotation: key \x00 the number (exact).
	FieldAnnNumber = "an"
)

// IsRangeField reports whether a field is numeric: its values sort as
// its numbers do, and a query may name a range of them (TermRange).
func IsRangeField(f string) bool {
	switch f {
	case FieldResponseTime, FieldDuration, FieldSpanTime, FieldHTTPStatus, FieldAnnNumber:
		return true
	}
	return false
}

// Code is the bucket code of a time or status term's value, or -1.
func Code(v string) int {
	if len(v) < 3 {
		return -1
	}
	c, err := strconv.ParseUint(v[len(v)-3:], 16, 16)
	if err != nil {
		return -1
	}
	return int(c)
}

// Times are bucketed on a scale of 1, 1.5, 2, 2.5, 3, 4, 5 and 7 per
// decade from 100 µs to 100,000 s, so that the thresholds people type
// (0.25, 0.5, 1, 2.5, 3, 5, 10) are bucket bounds and a range reads no
// partial bucket at its edge. Bounds are parsed from decimal text, as a
// filter's numbers are, so `> 0.25` meets the same float.
var timeBounds = scale(-4, 5)

var mantissas = []string{"1", "1.5", "2", "2.5", "3", "4", "5", "7"}

// scale lists the bounds from 10^lo to 10^hi, ascending.
func scale(lo, hi int) []float64 {
	var out []float64
	for d := lo; d < hi; d++ {
		for _, m := range mantissas {
			f, _ := strconv.ParseFloat(m+"e"+strconv.Itoa(d), 64)
			out = append(out, f)
		}
	}
	f, _ := strconv.ParseFloat("1e"+strconv.Itoa(hi), 64)
	return append(out, f)
}

// bucketOf is the number of bounds at or below v: bucket i holds
// [bounds[i-1], bounds[i]). NaN is in bucket 0.
func bucketOf(bounds []float64, v float64) int {
	if v != v {
		return 0
	}
	i, found := slices.BinarySearch(bounds, v)
	if found {
		i++
	}
	return i
}

func statusCode(s int) int {
	switch {
	case s < 1:
		return 0
	case s < 600:
		return s
	case s < 1000:
		return 600
	}
	return 601
}

const maxStatusCode = 601

func appendCode(dst []byte, c int) []byte {
	const hex = "0123456789abcdef"
	return append(dst, hex[c>>8&0xf], hex[c>>4&0xf], hex[c&0xf])
}

// CodeValue is the term value of bucket code c.
func CodeValue(c int) string { return string(appendCode(nil, c)) }

// spanTime is the largest response time of a completed segment or call,
// and whether there is one.
func spanTime(s *trace.Summary) (float64, bool) {
	best, ok := math.Inf(-1), false
	for i := range s.Segments {
		if f := &s.Segments[i]; !f.InProgress {
			best, ok = max(best, f.ResponseTime()), true
		}
	}
	for i := range s.Edges {
		if e := &s.Edges[i]; !e.InProgress {
			best, ok = max(best, e.ResponseTime()), true
		}
	}
	return best, ok
}

// timeCodes are the bucket codes of a summary's time terms, -1 where it
// has none: the response time for a trace with an entry point; the
// duration only where its bucket differs from the response time's; the
// span time only where its bucket is neither.
type timeCodes struct{ rt, du, sp int }

func timeCodesOf(s *trace.Summary) timeCodes {
	c := timeCodes{rt: -1, du: -1, sp: -1}
	if s.EntryPoint >= 0 {
		c.rt = bucketOf(timeBounds, s.ResponseTime)
	}
	du := bucketOf(timeBounds, s.Duration)
	if du != c.rt {
		c.du = du
	}
	if v, ok := spanTime(s); ok {
		if sp := bucketOf(timeBounds, v); sp != c.rt && sp != du {
			c.sp = sp
		}
	}
	return c
}

// annotationNumbers adds the FieldAnnNumber terms of a summary to t.
func (t *termList) annotationNumbers(s *trace.Summary) {
	for _, a := range s.Annotations {
		if x, ok := a.Value.(float64); ok {
			t.begin()
			t.buf = appendNumber(append(append(t.buf, a.Key...), 0), x)
			t.end(FieldAnnNumber)
		}
	}
}

// appendNumber appends 16 hex digits that sort as the numbers do: the
// bits of a positive number with the sign bit set, of a negative one
// inverted; -0 is 0.
func appendNumber(dst []byte, f float64) []byte {
	if f == 0 {
		f = 0
	}
	b := math.Float64bits(f)
	if b>>63 == 1 {
		b = ^b
	} else {
		b |= 1 << 63
	}
	const hex = "0123456789abcdef"
	for shift := 60; shift >= 0; shift -= 4 {
		dst = append(dst, hex[b>>uint(shift)&0xf])
	}
	return dst
}

// AnnotationNumberValue is the FieldAnnNumber value of key and number f.
func AnnotationNumberValue(key string, f float64) string {
	return string(appendNumber(append([]byte(key), 0), f))
}

// code adds the term of a bucket code.
func (t *termList) code(field string, c int) {
	t.begin()
	t.buf = appendCode(t.buf, c)
	t.end(field)
}

// NumRange is a range of numbers: Lo < v (or <= with LoIncl), v < Hi (or
// <= with HiIncl); infinite bounds are open.
type NumRange struct {
	Lo, Hi         float64
	LoIncl, HiIncl bool
}

// TimeTerms is the query term of a time field whose buckets can hold
// values in r (an exact term, or a range of buckets); empty when no bucket
// can.
func TimeTerms(field string, r NumRange) TermSet {
	if empty(r) {
		return TermSet{}
	}
	return codeTerms(field, bucketOf(timeBounds, r.Lo), bucketOf(timeBounds, r.Hi))
}

// AnnotationNumberTerms is the query term of key's numbers in r.
func AnnotationNumberTerms(key string, r NumRange) TermSet {
	if empty(r) {
		return TermSet{}
	}
	lo, hi := AnnotationNumberValue(key, r.Lo), AnnotationNumberValue(key, r.Hi)
	if lo == hi {
		return TermSet{Terms: []Term{{Field: FieldAnnNumber, Value: lo}}}
	}
	return TermSet{Ranges: []TermRange{{Field: FieldAnnNumber, From: lo, To: hi}}}
}

func empty(r NumRange) bool {
	return r.Lo != r.Lo || r.Hi != r.Hi || r.Lo > r.Hi || r.Lo == r.Hi && !(r.LoIncl && r.HiIncl)
}

// StatusTerms is the query term of the FieldHTTPStatus buckets that can
// hold a status in r; empty when none can.
func StatusTerms(r NumRange) TermSet {
	if empty(r) {
		return TermSet{}
	}
	code := func(f float64) int {
		switch {
		case f < 1:
			return 0
		case f >= 1000:
			return maxStatusCode
		}
		return statusCode(int(f))
	}
	// A status is a whole number: > 499.5 starts at 500, < 500 ends at 499.
	lo, hi := r.Lo, r.Hi
	if !math.IsInf(lo, 0) {
		if c := math.Ceil(lo); c != lo || !r.LoIncl {
			lo = c
			if c == r.Lo {
				lo++
			}
		}
	}
	if !math.IsInf(hi, 0) {
		if f := math.Floor(hi); f != hi || !r.HiIncl {
			hi = f
			if f == r.Hi {
				hi--
			}
		}
	}
	if lo > hi { // no whole number in range
		return TermSet{}
	}
	return codeTerms(FieldHTTPStatus, code(lo), code(hi))
}

func codeTerms(field string, lo, hi int) TermSet {
	switch {
	case lo > hi:
		return TermSet{}
	case lo == hi:
		return TermSet{Terms: []Term{{Field: field, Value: CodeValue(lo)}}}
	}
	return TermSet{Ranges: []TermRange{{Field: field, From: CodeValue(lo), To: CodeValue(hi)}}}
}
