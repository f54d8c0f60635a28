package filter

import (
	"math"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// Numeric predicates narrow to the bucket terms of store/numeric.go whose
// buckets can hold a match. Which side of an AND is narrower is a guess
// without statistics: slow requests and server errors are taken to be rare
// (a lower bound of seconds, a status from 400), and a range that a typical
// trace satisfies (`responsetime < 2`, `http.status >= 200`) is not
// narrowed at all: reading the whole window in order costs less than
// reading most of it by index.

// minTimeBound is the smallest lower bound on a time that narrows.
const minTimeBound = 0.1

// timeCost ranks a time range by its lower bound in seconds: the higher,
// the fewer traces (the scale of fieldCost, where a service name is 4 and
// a flag 10).
func timeCost(lo float64) int {
	c := 12 / (lo * lo)
	switch {
	case c < 1:
		return 1
	case c > 100:
		return 100
	}
	return int(math.Round(c))
}

// rangeOf is the range of values a numeric comparison accepts; false for
// != (a range with a hole).
func rangeOf(p *predNode) (store.NumRange, bool) {
	inf := math.Inf(1)
	v := p.num
	switch p.op {
	case "=":
		return store.NumRange{Lo: v, Hi: v, LoIncl: true, HiIncl: true}, true
	case ">":
		return store.NumRange{Lo: v, Hi: inf}, true
	case ">=":
		return store.NumRange{Lo: v, Hi: inf, LoIncl: true}, true
	case "<":
		return store.NumRange{Lo: -inf, Hi: v}, true
	case "<=":
		return store.NumRange{Lo: -inf, Hi: v, HiIncl: true}, true
	}
	return store.NumRange{}, false
}

// narrowTime narrows a lower bound on a time: at trace scope the root's
// response time or the trace's duration, inside service() or edge() braces
// some segment's or call's response time (spans), which only a lower bound
// narrows, as the index keeps the largest.
func narrowTime(p *predNode, duration, spans bool) (termSet, bool) {
	r, ok := rangeOf(p)
	if !ok || math.IsInf(r.Lo, -1) || r.Lo < minTimeBound {
		return termSet{}, false
	}
	if spans {
		r.Hi, r.HiIncl = math.Inf(1), false
	}
	sets := []termSet{{TermSet: store.TimeTerms(store.FieldResponseTime, r)}}
	// A duration or span time in the bucket of a time indexed before it is
	// not indexed again (store/numeric.go).
	if duration || spans {
		sets = append(sets, termSet{TermSet: store.TimeTerms(store.FieldDuration, r)})
	}
	if spans {
		sets = append(sets, termSet{TermSet: store.TimeTerms(store.FieldSpanTime, r)})
	}
	u := union(sets...)
	u.cost = timeCost(r.Lo)
	return u, true
}

// narrowStatus narrows an HTTP status: one value, or a lower bound from
// 300 up.
func narrowStatus(p *predNode) (termSet, bool) {
	r, ok := rangeOf(p)
	if !ok || p.op != "=" && (math.IsInf(r.Lo, -1) || r.Lo < 300) {
		return termSet{}, false
	}
	terms := store.StatusTerms(r)
	switch {
	case terms.Empty():
		return termSet{}, true // no whole number: nothing matches
	case len(terms.Terms) == 1:
		return termSet{TermSet: terms, cost: fieldCost(terms.Terms[0])}, true
	case r.Lo >= 400:
		return termSet{TermSet: terms, cost: 3}, true
	}
	return termSet{TermSet: terms, cost: 10}, true
}

// narrowEdge narrows an edge() body: a lower bound on the call's response
// time.
func narrowEdge(n node) (termSet, bool) {
	if t, ok, handled := narrowBool(n, narrowEdge); handled {
		return t, ok
	}
	if x, ok := n.(*predNode); ok && (x.key == kwResponseTime || x.key == kwDuration) {
		return narrowTime(x, false, true)
	}
	return termSet{}, false
}

// narrowAnnotationNumber narrows a comparison of an annotation's numbers:
// one value, or a range of the key's values, never more than the traces
// that set the key.
func narrowAnnotationNumber(p *predNode) (termSet, bool) {
	r, _ := rangeOf(p)
	terms := store.AnnotationNumberTerms(p.annKey, r)
	if terms.Empty() {
		return termSet{}, true
	}
	if len(terms.Terms) == 1 {
		return termSet{TermSet: terms, cost: fieldCost(terms.Terms[0])}, true
	}
	return termSet{TermSet: terms, cost: fieldCost(store.Term{Field: store.FieldAnnKey}) - 1}, true
}
