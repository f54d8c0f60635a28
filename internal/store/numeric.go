package store

import (
	"math"
	"slices"
	"strconv"

	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Numeric index terms. A number is indexed under the bucket that holds it,
// so that a range (`responsetime > 5`) narrows to the union of the buckets
// that can hold a match; the exact test on each candidate drops the rest of
// the edge buckets. A bucket's value is its code in three lower-case hex
// digits: codes sort as the buckets do, so a backend may read a run of
// consecutive codes as one key range (IsRangeField, Code).
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
	// FieldAnnNumber is a numeric annotation: key \x00 bucket.
	FieldAnnNumber = "an"
)

// IsRangeField reports whether a field's values are bucket codes, which
// sort as the buckets do.
func IsRangeField(f string) bool {
	switch f {
	case FieldResponseTime, FieldDuration, FieldSpanTime, FieldHTTPStatus, FieldAnnNumber:
		return true
	}
	return false
}

// Code is the bucket code of a range field's term value (for
// FieldAnnNumber, the part after the key), or -1.
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

// Buckets: a time is bucketed on a scale of 1, 1.5, 2, 2.5, 3, 4, 5 and 7
// per decade from 100 µs to 100,000 s, so that the thresholds people type
// (0.25, 0.5, 1, 2.5, 3, 5, 10) are bucket bounds and a range reads no
// partial bucket at its edge; an annotation number on the same scale from
// ±0.001 to ±10^12, mirrored for negative values. Bounds are parsed from
// decimal text, as a filter's numbers are, so `> 0.25` meets the same float.
var (
	timeBounds   = scale(-4, 5, false)
	numberBounds = scale(-3, 12, true)
)

var mantissas = []string{"1", "1.5", "2", "2.5", "3", "4", "5", "7"}

// scale lists the bounds from 10^lo to 10^hi, and their negatives and 0
// when signed, ascending.
func scale(lo, hi int, signed bool) []float64 {
	var pos []float64
	for d := lo; d < hi; d++ {
		for _, m := range mantissas {
			f, _ := strconv.ParseFloat(m+"e"+strconv.Itoa(d), 64)
			pos = append(pos, f)
		}
	}
	f, _ := strconv.ParseFloat("1e"+strconv.Itoa(hi), 64)
	pos = append(pos, f)
	if !signed {
		return pos
	}
	out := make([]float64, 0, 2*len(pos)+1)
	for i := len(pos) - 1; i >= 0; i-- {
		out = append(out, -pos[i])
	}
	out = append(out, 0)
	return append(out, pos...)
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

// numericTerms adds the numeric terms of a summary to t.
func (t *termList) numericTerms(s *trace.Summary) {
	rt := -1
	if s.EntryPoint >= 0 {
		rt = bucketOf(timeBounds, s.ResponseTime)
		t.code(FieldResponseTime, "", rt)
	}
	du := bucketOf(timeBounds, s.Duration)
	if du != rt {
		t.code(FieldDuration, "", du)
	}
	if v, ok := spanTime(s); ok {
		if sp := bucketOf(timeBounds, v); sp != rt && sp != du {
			t.code(FieldSpanTime, "", sp)
		}
	}
	if s.HTTP.Status != 0 {
		t.code(FieldHTTPStatus, "", statusCode(s.HTTP.Status))
	}
	for _, a := range s.Annotations {
		if x, ok := a.Value.(float64); ok {
			t.code(FieldAnnNumber, a.Key, bucketOf(numberBounds, x))
		}
	}
}

// code adds the term of a bucket code, after key and a zero byte if key is
// set.
func (t *termList) code(field, key string, c int) {
	t.begin()
	if key != "" {
		t.buf = append(append(t.buf, key...), 0)
	}
	t.buf = appendCode(t.buf, c)
	t.end(field)
}

// NumRange is a range of numbers: Lo < v (or <= with LoIncl), v < Hi (or
// <= with HiIncl); infinite bounds are open.
type NumRange struct {
	Lo, Hi         float64
	LoIncl, HiIncl bool
}

// TimeTerms lists the terms of a time field whose buckets can hold values
// in r; nil when no bucket can.
func TimeTerms(field string, r NumRange) []Term {
	return rangeTerms(field, "", timeBounds, r)
}

// AnnotationNumberTerms lists the FieldAnnNumber terms of key that can hold
// values in r.
func AnnotationNumberTerms(key string, r NumRange) []Term {
	return rangeTerms(FieldAnnNumber, key, numberBounds, r)
}

func rangeTerms(field, key string, bounds []float64, r NumRange) []Term {
	if r.Lo != r.Lo || r.Hi != r.Hi || r.Lo > r.Hi || r.Lo == r.Hi && !(r.LoIncl && r.HiIncl) {
		return nil
	}
	lo, hi := bucketOf(bounds, r.Lo), bucketOf(bounds, r.Hi)
	return codeTerms(field, key, lo, hi)
}

// StatusTerms lists the FieldHTTPStatus terms whose buckets can hold a
// status in r.
func StatusTerms(r NumRange) []Term {
	if r.Lo != r.Lo || r.Hi != r.Hi || r.Lo > r.Hi || r.Lo == r.Hi && !(r.LoIncl && r.HiIncl) {
		return nil
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
		return nil
	}
	return codeTerms(FieldHTTPStatus, "", code(lo), code(hi))
}

func codeTerms(field, key string, lo, hi int) []Term {
	if lo > hi {
		return nil
	}
	prefix := ""
	if key != "" {
		prefix = key + "\x00"
	}
	out := make([]Term, 0, hi-lo+1)
	for c := lo; c <= hi; c++ {
		out = append(out, Term{Field: field, Value: prefix + CodeValue(c)})
	}
	return out
}
