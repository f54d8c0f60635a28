package pebble

import (
	"context"
	"fmt"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// The documents LSM's tables hold either pending marks or documents,
// never both: a table running from the marks (p) into the documents (t)
// spans every older document between them, so each compaction of it into
// the base level rewrote all of that level's keys, more of them the
// larger the store (lsm.go).
func TestDocumentTablesApartFromMarks(t *testing.T) {
	ctx := context.Background()
	s := openAt(t, t.TempDir())
	defer s.Close()
	check := func(when string) {
		t.Helper()
		levels, err := s.docs.SSTables()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for l, tables := range levels {
			for _, tb := range tables {
				n++
				lo, hi := tb.Smallest.UserKey, tb.Largest.UserKey
				if lo[0] < 't' && hi[0] >= 't' {
					t.Errorf("%s: L%d table %s runs from %q to %q", when, l, tb.FileNum, lo[:1], hi[:1])
				}
			}
		}
		if n == 0 {
			t.Fatalf("%s: no tables", when)
		}
	}
	// Each flush holds marks (half of its traces stay pending) and
	// documents at a later epoch than the flush before's.
	for f := range 4 {
		epoch := storetest.Base + int64(f)*10
		var puts []store.DocPut
		var ids []string
		for i := range 50 {
			id := storetest.TraceID(epoch, f*100+i)
			ids = append(ids, id)
			puts = append(puts, store.DocPut{TraceID: id, Epoch: epoch,
				Docs: []store.Doc{storetest.Doc(fmt.Sprintf("%016x", f*100+i), fmt.Sprintf(`{"n":%d}`, i))}})
		}
		if err := s.PutDocs(ctx, puts); err != nil {
			t.Fatal(err)
		}
		apply(t, s, ids[:25]...)
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	check("flushed")
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	check("compacted")
	if got := len(pendingIDs(t, s)); got != 100 {
		t.Errorf("%d traces pending, want 100", got)
	}
}
