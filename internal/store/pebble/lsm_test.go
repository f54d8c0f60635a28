package pebble

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// Flushes hold randomly keyed tables (pending marks and aliases, by trace
// id) and time-ordered ones (documents, summaries); each table written
// must hold keys of one only, or every flush overlaps every other
// (tableSpans).
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
		id := storetest.TraceID(ep-int64(i%3), i) // a third filed under another epoch: aliased
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
	for _, c := range []struct {
		lsm    string
		db     *pebble.DB
		tables string
	}{{"main", s.main, "sx"}, {"documents", s.docs, "pt"}} {
		levels, err := c.db.SSTables()
		if err != nil {
			t.Fatal(err)
		}
		seen := ""
		for _, level := range levels {
			for _, tb := range level {
				lo, hi := tb.Smallest.UserKey[0], tb.Largest.UserKey[0]
				if lo != hi {
					t.Errorf("%s LSM: table %s holds keys from table %q to table %q", c.lsm, tb.FileNum, lo, hi)
				}
				if !strings.ContainsRune(seen, rune(lo)) {
					seen += string(rune(lo))
				}
			}
		}
		for _, want := range c.tables {
			if !strings.ContainsRune(seen, want) {
				t.Errorf("%s LSM: tables hold key tables %q; want %q among them", c.lsm, seen, c.tables)
			}
		}
	}
}
