package pebble

import (
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// WithLayout5Terms makes stores index a summary as layout 5 did, until the
// returned function restores this build's terms: no time terms, the status
// in decimal (st) and annotation numbers as typed values (av).
func WithLayout5Terms() (restore func()) {
	termsOf, termsInto = legacyTermsOf, legacyTermsInto
	return func() { termsOf, termsInto = store.TermsOf, store.TermsScratch }
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

func legacyTermsInto(_ []store.Term, vals []byte, s *trace.Summary) ([]store.Term, []byte) {
	return legacyTermsOf(s), vals
}

// WaitForCleaning waits until every LSM has deleted the files its
// compactions made obsolete: Pebble deletes them in the background, after
// Compact returns.
func (s *Store) WaitForCleaning() {
	for _, db := range s.lsms() {
		db.TestOnlyWaitForCleaning()
	}
}

// pendingKey is a trace's pending mark as stores before layout 9 wrote it
// (pendingmarks.go still reads it).
func pendingKey(traceID string) []byte { return append([]byte{'p'}, traceID...) }

// WithZstdSummaries makes stores opened until restore compress the main
// LSM's lower levels with zstd, as builds before MinLZ there did.
func WithZstdSummaries() (restore func()) {
	zstdSummaries = true
	return func() { zstdSummaries = false }
}
