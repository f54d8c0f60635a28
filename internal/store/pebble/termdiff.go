package pebble

import "github.com/roentgen-tracing/roentgen/internal/store"

// diffTerms walks two sorted term lists (as store.TermsOf returns them) and
// calls fn(t, false) for each term only in old and fn(t, true) for each
// term only in cur. With moved (the trace changed epoch, so every key
// changed) every old term is removed and every current one added.
func diffTerms(old, cur []store.Term, moved bool, fn func(t store.Term, add bool) error) error {
	if moved {
		for _, t := range old {
			if err := fn(t, false); err != nil {
				return err
			}
		}
		for _, t := range cur {
			if err := fn(t, true); err != nil {
				return err
			}
		}
		return nil
	}
	i, j := 0, 0
	for i < len(old) || j < len(cur) {
		switch {
		case j == len(cur) || (i < len(old) && less(old[i], cur[j])):
			if err := fn(old[i], false); err != nil {
				return err
			}
			i++
		case i == len(old) || less(cur[j], old[i]):
			if err := fn(cur[j], true); err != nil {
				return err
			}
			j++
		default: // in both: already stored
			i++
			j++
		}
	}
	return nil
}

func less(a, b store.Term) bool {
	if a.Field != b.Field {
		return a.Field < b.Field
	}
	return a.Value < b.Value
}
