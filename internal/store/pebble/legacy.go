package pebble

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/cockroachdb/pebble/v2"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Traces summarised before layout 6 have no numeric terms (store/numeric.go):
// their HTTP status is indexed in decimal (st) and their annotation
// numbers as typed values (av). Rather than read every stored summary at
// the upgrade (a month of traces would keep the store closed for hours),
// the upgrade records where those traces end,
//
//	n -> epoch: partitions before it were written before layout 6
//
// and a search with numeric terms reads that part of the window as layout
// 5 indexed it: a status or annotation number by its old term as well,
// anything else (a range, a time) by reading every summary, as it did
// then. Retention drops those partitions within the retention period.

var numericFromKey = []byte{'n'}

// loadNumericFrom reads where the numeric terms begin (0: everywhere).
func (s *Store) loadNumericFrom() error {
	v, err := s.lookup(numericFromKey)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(v) != 8 {
		return errors.New("corrupt numeric index bound")
	}
	s.numericFrom = int64(binary.BigEndian.Uint64(v))
	return nil
}

// setNumericFrom records, in the upgrade's batch, that every summary stored
// so far lies before the numeric terms' start: the partition after the
// latest summary's.
func (s *Store) setNumericFrom(b *pebble.Batch) error {
	latest, err := s.LatestEpoch(context.Background())
	if err != nil || latest == 0 {
		return err
	}
	return b.Set(numericFromKey, epochBytes(store.PartitionOf(latest)+store.PartitionSeconds), nil)
}

// hasNumeric reports whether a plan reads numeric terms (its further sets
// included: the legacy plan leaves those out).
func (p *termPlan) hasNumeric() bool {
	if len(p.ranges) > 0 {
		return true
	}
	for t := range p.set {
		if store.IsRangeField(t.Field) {
			return true
		}
	}
	for _, c := range p.also {
		if len(c.ranges) > 0 || slices.ContainsFunc(c.exact, func(t store.Term) bool { return store.IsRangeField(t.Field) }) {
			return true
		}
	}
	return false
}

// legacyPlan is the plan for partitions written before layout 6: each
// numeric term also by its layout 5 term; false when a term has none
// (a range, a time), and those partitions must be read whole. It checks
// no further sets: theirs may be numeric terms those partitions lack, and
// the search tests each candidate anyway.
func (p *termPlan) legacyPlan() (*termPlan, bool) {
	if len(p.ranges) > 0 {
		return nil, false
	}
	terms := make([]store.Term, 0, 2*len(p.set))
	for t := range p.set {
		terms = append(terms, t)
		if !store.IsRangeField(t.Field) {
			continue
		}
		old, ok := legacyTerm(t)
		if !ok {
			return nil, false
		}
		terms = append(terms, old)
	}
	lp := planTerms(terms, nil)
	lp.legacy = true
	return lp, true
}

// legacyTerm is the layout 5 term of an exact status or annotation number.
func legacyTerm(t store.Term) (store.Term, bool) {
	switch t.Field {
	case store.FieldHTTPStatus:
		if c := store.Code(t.Value); c >= 1 && c < 600 { // one status per bucket
			return store.Term{Field: store.FieldStatus, Value: strconv.Itoa(c)}, true
		}
	case store.FieldAnnNumber:
		i := strings.LastIndexByte(t.Value, 0)
		bits, err := strconv.ParseUint(t.Value[i+1:], 16, 64)
		if i < 0 || err != nil {
			return store.Term{}, false
		}
		if bits>>63 == 1 {
			bits &^= 1 << 63
		} else {
			bits = ^bits
		}
		key := t.Value[:i]
		return store.Term{Field: store.FieldAnnValue, Value: key + "\x00" + store.AnnotationValueKey(math.Float64frombits(bits))}, true
	}
	return store.Term{}, false
}

// legacyTermsOf is how layout 5 indexed a summary: no times, the status in
// decimal, annotation numbers as typed values.
func legacyTermsOf(s *trace.Summary) []store.Term {
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
		return cmp3(a.Field, b.Field, a.Value, b.Value)
	})
	return slices.Compact(out)
}

func cmp3(af, bf, av, bv string) int {
	if c := strings.Compare(af, bf); c != 0 {
		return c
	}
	return strings.Compare(av, bv)
}
