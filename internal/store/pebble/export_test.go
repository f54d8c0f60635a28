package pebble

import (
	"slices"
	"strconv"
	"strings"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// WithLayout5Terms makes stores index a summary as layout 5 did, until the
// returned function restores this build's terms: no time terms, the status
// in decimal (st) and annotation numbers as typed values (av). What the
// numeric index costs is the difference.
func WithLayout5Terms() (restore func()) {
	termsOf = func(s *trace.Summary) []store.Term {
		var out []store.Term
		for _, t := range store.TermsOf(s) {
			switch t.Field {
			case store.FieldResponseTime, store.FieldDuration, store.FieldSpanTime, store.FieldAnnNumber:
				continue
			case store.FieldHTTPStatus:
				t = store.Term{Field: store.FieldStatus, Value: strconv.Itoa(s.HTTP.Status)}
			}
			out = append(out, t)
		}
		for _, a := range s.Annotations {
			if _, ok := a.Value.(float64); ok {
				out = append(out, store.Term{Field: store.FieldAnnValue, Value: a.Key + "\x00" + store.AnnotationValueKey(a.Value)})
			}
		}
		slices.SortFunc(out, func(a, b store.Term) int {
			if c := strings.Compare(a.Field, b.Field); c != 0 {
				return c
			}
			return strings.Compare(a.Value, b.Value)
		})
		return slices.Compact(out)
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
