package pebble

import (
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// WithoutNumericTerms makes stores index no numeric terms until the
// returned function restores them: what the numeric index costs is the
// difference.
func WithoutNumericTerms() (restore func()) {
	termsOf = func(s *trace.Summary) []store.Term {
		all := store.TermsOf(s)
		out := all[:0]
		for _, t := range all {
			if !store.IsRangeField(t.Field) {
				out = append(out, t)
			}
		}
		return out
	}
	return func() { termsOf = store.TermsOf }
}
