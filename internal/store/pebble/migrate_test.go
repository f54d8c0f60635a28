package pebble

import (
	"context"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// upgraded turns a store into one of an older layout, which kept every
// table in the main LSM, closes it, and opens it again with this build,
// which must upgrade it. The reopened store is closed at the end of the test.
func upgraded(t *testing.T, s *Store, version string) *Store {
	t.Helper()
	for _, table := range []byte{'t', 'i'} {
		from := s.lsmOf(table)
		if err := copyTable(from, s.main, table); err != nil {
			t.Fatal(err)
		}
		if err := from.DeleteRange([]byte{table}, []byte{table + 1}, pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.main.Set([]byte{'v'}, []byte(version), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(s.dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if v, err := s.lookup([]byte{'v'}); err != nil || string(v) != layoutVersion {
		t.Fatalf("layout after opening layout %s: %q, %v", version, v, err)
	}
	return s
}

func tableKeys(t *testing.T, db *pebble.DB, table byte) int {
	t.Helper()
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte{table}, UpperBound: []byte{table + 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := 0
	for it.First(); it.Valid(); it.Next() {
		n++
	}
	return n
}

// A store of layout 2 (every table in one LSM) opens with its documents and
// index terms moved into their own LSMs, and reads back as it was.
func TestLayout2Upgrades(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for n := range 50 {
		id := storetest.TraceID(storetest.Base+int64(n%7), n)
		ids = append(ids, id)
		storetest.Put(t, s, storetest.Summary(id, storetest.Base+int64(n%7)),
			storetest.Doc("a"+id[25:], `{"n":1}`), storetest.Doc("b"+id[25:], `{"n":2}`))
	}
	term := store.Term{Field: store.FieldService, Value: storetest.Summary(ids[0], storetest.Base).Nodes[0].Name}
	q := store.SummaryQuery{From: storetest.Base, To: storetest.Base + 10, AnyOf: []store.Term{term}}
	want := storetest.Collect(t, s, q)
	if len(want) != len(ids) {
		t.Fatalf("search before the downgrade found %d of %d traces", len(want), len(ids))
	}
	s = upgraded(t, s, "2")
	for _, table := range []byte{'t', 'i'} {
		if n := tableKeys(t, s.main, table); n != 0 {
			t.Errorf("main LSM still holds %d keys of table %c", n, table)
		}
		if n := tableKeys(t, s.lsmOf(table), table); n == 0 {
			t.Errorf("table %c was not moved to its LSM", table)
		}
	}
	if got := storetest.Collect(t, s, q); !slices.Equal(got, want) {
		t.Fatalf("search after the upgrade: %v, want %v", got, want)
	}
	for _, id := range ids {
		tr, err := s.Trace(context.Background(), id)
		if err != nil || len(tr.Docs) != 2 || tr.Summary == nil {
			t.Fatalf("trace %s after the upgrade: %+v, %v", id, tr, err)
		}
	}
}
