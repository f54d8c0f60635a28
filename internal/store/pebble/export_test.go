package pebble

import (
	"sync"

	"github.com/cockroachdb/pebble/v2"
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
// and index LSMs' lower levels with zstd, as builds before MinLZ there did.
func WithZstdSummaries() (restore func()) {
	zstdSummaries, zstdIndex = true, true
	return func() { zstdSummaries, zstdIndex = false, false }
}

// WithFastSummaries makes stores opened until restore write the main LSM's
// lower levels with the flush's codec and block size, as builds before
// summariesBottom did.
func WithFastSummaries() (restore func()) {
	balancedSummaries = false
	return func() { balancedSummaries = true }
}

// ObserveCommits calls fn with each operation of each batch committed to
// one of s's LSMs through a stagedBatch, until stop: the LSM ("main",
// "docs", "index"), the key's table byte, the operation ('S'et, 'D'elete,
// 'M'erge) and the key's and value's sizes. Not concurrently with writes
// to any store.
func (s *Store) ObserveCommits(fn func(lsm string, table, op byte, key, value int)) (stop func()) {
	var mu sync.Mutex
	committed = func(db *pebble.DB, ops []stagedOp) {
		lsm := map[*pebble.DB]string{s.main: "main", s.docs: "docs", s.index: "index"}[db]
		mu.Lock()
		defer mu.Unlock()
		for _, o := range ops {
			fn(lsm, o.key[0], "SDM"[o.kind], len(o.key), len(o.value))
		}
	}
	return func() { committed = nil }
}
