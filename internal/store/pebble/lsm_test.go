package pebble

import (
	"context"
	"fmt"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// A flush of the main LSM holds pending marks (random trace ids) and
// summaries (by time); each table it writes must hold one of the two, or
// every flush overlaps every other (tableSpans).
func TestFlushedTablesHoldOneKeyTable(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var puts []store.DocPut
	var us []store.TraceUpdate
	for i := range 200 {
		ep := storetest.Base + int64(i)
		id := storetest.TraceID(ep, i)
		puts = append(puts, store.DocPut{TraceID: id, Epoch: ep, Docs: []store.Doc{storetest.Doc(fmt.Sprintf("%016x", i), "{}")}})
		if i%2 == 0 { // half stay pending
			us = append(us, store.TraceUpdate{TraceID: id, Epoch: ep, Summary: storetest.Summary(id, ep)})
		}
	}
	if err := s.PutDocs(ctx, puts); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, us); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	levels, err := s.main.SSTables()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[byte]bool{}
	for _, level := range levels {
		for _, tb := range level {
			lo, hi := tb.Smallest.UserKey[0], tb.Largest.UserKey[0]
			if lo != hi {
				t.Errorf("table %s holds keys from table %q to table %q", tb.FileNum, lo, hi)
			}
			seen[lo] = true
		}
	}
	if !seen['p'] || !seen['s'] {
		t.Errorf("tables hold key tables %v; want pending marks and summaries", seen)
	}
}
