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

// LiveBytes is the size of the live tables and blob files of every LSM,
// and of the index LSM alone: disk use without write-ahead logs.
func (s *Store) LiveBytes() (all, index int64) {
	for _, db := range s.lsms() {
		m := db.Metrics()
		n := int64(m.Table.Local.LiveSize + m.BlobFiles.Local.LiveSize)
		all += n
		if db == s.index {
			index = n
		}
	}
	return all, index
}
