package pebble

import (
	"bytes"
	"encoding/binary"

	"github.com/cockroachdb/pebble/v2"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// addNumericTerms indexes every stored summary under its numeric terms
// (store/numeric.go), which layouts 1 to 5 did not have; their other terms
// are unchanged. It runs before the version is raised: a crash part-way
// runs it again, and the lists then name some traces twice, which readers
// drop (postings.go). A 1M-trace store takes about as long as reading its
// summaries once.
func (s *Store) addNumericTerms() error {
	it, err := s.main.NewIter(&pebble.IterOptions{LowerBound: []byte{'s'}, UpperBound: []byte{'s' + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	var pw postingWriter
	pending := 0
	flush := func() error {
		var b sortedBatch
		pw.stage(&b)
		pending = 0
		return b.commit(s.index)
	}
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) < 9 {
			continue
		}
		ep := int64(binary.BigEndian.Uint64(k[1:9]))
		sum, err := trace.DecodeSummary(it.Value())
		if err != nil {
			// A summary this build cannot read is skipped, as a search
			// reading it would fail anyway; the upgrade must not.
			continue
		}
		id := string(bytes.Clone(k[9:]))
		for _, t := range store.TermsOf(sum) {
			if store.IsRangeField(t.Field) {
				pw.add(ep, t, id)
			}
		}
		if pending++; pending >= 20000 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := it.Error(); err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	return s.index.Flush()
}
