package pebble

import "github.com/roentgen-tracing/roentgen/internal/store"

// addedTerms walks two sorted term lists (as store.TermsOf returns them)
// and calls fn for each term only in cur.
func addedTerms(old, cur []store.Term, fn func(t store.Term)) {
	i := 0
	for _, t := range cur {
		for i < len(old) && less(old[i], t) {
			i++
		}
		if i < len(old) && old[i] == t {
			continue
		}
		fn(t)
	}
}

func less(a, b store.Term) bool {
	if a.Field != b.Field {
		return a.Field < b.Field
	}
	return a.Value < b.Value
}
