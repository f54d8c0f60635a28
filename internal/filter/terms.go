package filter

import (
	"slices"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// Terms narrows the expression to index terms (store.TermsOf) such that
// every matching trace carries at least one of them. ok is false when the
// expression cannot be narrowed (e.g. `responsetime > 1`, `!service("x")`);
// the caller then scans the time range. Candidates still have to be tested
// with Match: the terms are necessary, not sufficient. An empty set with
// ok means no trace can match (`http.status = 200.5`).
func (e *Expr) Terms() (terms store.TermSet, ok bool) {
	terms, _, ok = e.Narrowing()
	return terms, ok
}

// Narrowing is Terms and, for a conjunction, the terms of its other
// narrowable operands, cheapest first: a matching trace carries a term of
// terms and a term of each set of also, so a store can intersect their
// posting lists before it reads a summary (`duration > 3 AND
// service("x")`: the slow traces of x, not every slow trace).
func (e *Expr) Narrowing() (terms store.TermSet, also []store.TermSet, ok bool) {
	t, ok := narrow(e.root)
	if !ok {
		return store.TermSet{}, nil, false
	}
	for _, a := range t.also {
		also = append(also, a.TermSet)
	}
	return t.TermSet, also, true
}

// termSet is a disjunction of terms and a rough cost: how many postings a
// scan of it can be expected to read, relative to the others. also are
// the further sets of a conjunction, each of which a match carries a term
// of too, cheapest first.
type termSet struct {
	store.TermSet
	cost int
	also []termSet
}

// maxAlso is how many further sets of a conjunction are kept: each costs
// a search a lookup per candidate, and past a few they rarely narrow more.
const maxAlso = 3

// fieldCost ranks fields by how few traces typically carry one value.
func fieldCost(t store.Term) int {
	switch t.Field {
	case store.FieldAnnValue, store.FieldAnnNumber, store.FieldUser, store.FieldInstanceID:
		return 1
	case store.FieldARN, store.FieldException:
		return 2
	case store.FieldServiceFlag:
		return 3
	case store.FieldHTTPStatus:
		if c := store.Code(t.Value); c >= 200 && c < 300 {
			return 20
		}
		return 3
	case store.FieldService:
		return 4
	case store.FieldNodeType, store.FieldAccount, store.FieldAZ:
		return 6
	case store.FieldAnnKey, store.FieldRootCause:
		return 8
	}
	return 10 // flags
}

func one(field, value string) (termSet, bool) {
	if value == "" && (field == store.FieldNodeType || field == store.FieldAccount) {
		// Nodes without a type or account are not indexed under "".
		return termSet{}, false
	}
	t := store.Term{Field: field, Value: value}
	return termSet{TermSet: store.TermSet{Terms: []store.Term{t}}, cost: fieldCost(t)}, true
}

// union is an OR of sets: any of their terms (their further sets of
// conjunctions no longer hold for every match, and are dropped).
func union(sets ...termSet) termSet {
	var u termSet
	for _, s := range sets {
		u.cost += s.cost
		for _, t := range s.Terms {
			if !slices.Contains(u.Terms, t) {
				u.Terms = append(u.Terms, t)
			}
		}
		for _, r := range s.Ranges {
			if !slices.Contains(u.Ranges, r) {
				u.Ranges = append(u.Ranges, r)
			}
		}
	}
	return u
}

// cheapest is a conjunction of sets: the narrowest of them read first,
// the others (theirs included) kept as further sets, cheapest first.
func cheapest(sets []termSet) (termSet, bool) {
	var all []termSet
	for _, s := range sets {
		all = append(all, termSet{TermSet: s.TermSet, cost: s.cost})
		all = append(all, s.also...)
	}
	if len(all) == 0 {
		return termSet{}, false
	}
	slices.SortStableFunc(all, func(a, b termSet) int { return a.cost - b.cost })
	best := all[0]
	for _, s := range all[1:] {
		if len(best.also) == maxAlso {
			break
		}
		dup := sameTerms(s.TermSet, best.TermSet)
		for _, a := range best.also {
			dup = dup || sameTerms(s.TermSet, a.TermSet)
		}
		if !dup {
			best.also = append(best.also, s)
		}
	}
	return best, true
}

func sameTerms(a, b store.TermSet) bool {
	return slices.Equal(a.Terms, b.Terms) && slices.Equal(a.Ranges, b.Ranges)
}

// narrowBool narrows AND and OR by narrowing their operands with leaf:
// an AND by its cheapest narrowable operand, an OR only when every
// operand narrows, by their union. handled is false for other nodes.
func narrowBool(n node, leaf func(node) (termSet, bool)) (t termSet, ok, handled bool) {
	switch x := n.(type) {
	case *andNode:
		var sets []termSet
		for _, y := range x.xs {
			if s, ok := leaf(y); ok {
				sets = append(sets, s)
			}
		}
		t, ok = cheapest(sets)
		return t, ok, true
	case *orNode:
		var sets []termSet
		for _, y := range x.xs {
			s, ok := leaf(y)
			if !ok {
				return termSet{}, false, true
			}
			sets = append(sets, s)
		}
		return union(sets...), true, true
	}
	return termSet{}, false, false
}

func narrow(n node) (termSet, bool) {
	if t, ok, handled := narrowBool(n, narrow); handled {
		return t, ok
	}
	switch x := n.(type) {
	case *predNode:
		return narrowPred(x)
	case *notNode:
		// !flag is flag = false (trace-scope flags are always known).
		if p, ok := x.x.(*predNode); ok && p.vtype == vBool && p.key != kwAnnotation {
			neg := *p
			neg.op, neg.b = "=", !isTrue(p)
			return narrowPred(&neg)
		}
	case *serviceNode:
		var sets []termSet
		name := ""
		if r := x.ref; r != nil {
			switch {
			case r.hasName:
				name = r.name
				s, _ := one(store.FieldService, r.name)
				sets = append(sets, s)
			case r.hasType:
				if s, ok := one(store.FieldNodeType, r.typ); ok {
					sets = append(sets, s)
				}
			case r.hasAccount:
				if s, ok := one(store.FieldAccount, r.account); ok {
					sets = append(sets, s)
				}
			}
		}
		if x.body != nil {
			if s, ok := narrowNode(x.body, name); ok {
				sets = append(sets, s)
			}
		}
		return cheapest(sets)
	case *edgeNode:
		var sets []termSet
		for _, r := range []nodeRef{x.from, x.to} {
			if r.hasName {
				s, _ := one(store.FieldService, r.name)
				sets = append(sets, s)
			}
		}
		if x.body != nil {
			if s, ok := narrowEdge(x.body); ok {
				sets = append(sets, s)
			}
		}
		return cheapest(sets)
	case *rootCauseNode:
		return one(store.FieldRootCause, [...]string{"fault", "error", "responsetime"}[x.list])
	case *rootCauseJSONNode:
		a, _ := one(store.FieldRootCause, "fault")
		b, _ := one(store.FieldRootCause, "error")
		c, _ := one(store.FieldRootCause, "responsetime")
		return union(a, b, c), true
	}
	return termSet{}, false
}

// isTrue reports whether a boolean predicate tests for true.
func isTrue(p *predNode) bool {
	return p.op == "" || p.op == "=" && p.b || p.op == "!=" && !p.b
}

var flagNames = map[keyword]string{kwFault: "fault", kwError: "error", kwThrottle: "throttle"}

func narrowPred(p *predNode) (termSet, bool) {
	switch p.key {
	case kwOK:
		if !isTrue(p) {
			// Not ok: the entry point failed, or there is none.
			var sets []termSet
			for _, f := range []string{"fault", "error", "throttle", "noroot"} {
				s, _ := one(store.FieldFlag, f)
				sets = append(sets, s)
			}
			return union(sets...), true
		}
	case kwFault, kwError, kwThrottle:
		if isTrue(p) {
			return one(store.FieldFlag, flagNames[p.key])
		}
	case kwPartial:
		if isTrue(p) {
			return one(store.FieldFlag, "partial")
		}
	case kwHTTPStatus:
		return narrowStatus(p)
	case kwResponseTime, kwDuration:
		return narrowTime(p, p.key == kwDuration, false)
	case kwAnnotation:
		if p.vtype == vNumber && p.op != "!=" {
			return narrowAnnotationNumber(p)
		}
		if p.op == "=" {
			var v any = p.str
			if p.vtype == vBool {
				v = p.b
			}
			return one(store.FieldAnnValue, p.annKey+"\x00"+store.AnnotationValueKey(v))
		}
		// Every other test needs the key set (!= included).
		return one(store.FieldAnnKey, p.annKey)
	}
	if p.op != "=" || p.vtype != vString {
		return termSet{}, false
	}
	switch p.key {
	case kwUser:
		return one(store.FieldUser, p.str)
	case kwName:
		a, _ := one(store.FieldService, p.str)
		b, _ := one(store.FieldException, p.str)
		return union(a, b), true
	case kwType:
		return one(store.FieldNodeType, p.str)
	case kwResourceARN:
		return one(store.FieldARN, p.str)
	case kwInstanceID:
		return one(store.FieldInstanceID, p.str)
	case kwAZ:
		return one(store.FieldAZ, p.str)
	}
	return termSet{}, false
}

// narrowNode narrows a service() body: a flag of the named node's segments
// (any node's when the name is not known).
func narrowNode(n node, name string) (termSet, bool) {
	switch x := n.(type) {
	case *andNode:
		var sets []termSet
		for _, y := range x.xs {
			if s, ok := narrowNode(y, name); ok {
				sets = append(sets, s)
			}
		}
		return cheapest(sets)
	case *orNode:
		var sets []termSet
		for _, y := range x.xs {
			s, ok := narrowNode(y, name)
			if !ok {
				return termSet{}, false
			}
			sets = append(sets, s)
		}
		return union(sets...), true
	case *predNode:
		if x.key == kwResponseTime || x.key == kwDuration {
			return narrowTime(x, false, true)
		}
		f, isFlag := flagNames[x.key]
		if !isFlag || !isTrue(x) {
			return termSet{}, false
		}
		if name != "" {
			return one(store.FieldServiceFlag, store.ServiceFlagValue(name, f))
		}
		return one(store.FieldFlag, f)
	}
	return termSet{}, false
}
