package pebble

import (
	"context"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// Only the main LSM answers point lookups (lookup's prefix seeks); the
// documents and index LSMs are only iterated over ranges, which never
// consult a bloom filter, so their tables carry none. The main LSM's must:
// without them every new trace's lookup reads a block per level.
func TestFiltersOnlyWhereLookedUp(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var us []store.TraceUpdate
	for i := 0; i < 200; i++ {
		id := storetest.TraceID(storetest.Base, i)
		us = append(us, store.TraceUpdate{TraceID: id, Epoch: storetest.Base, Summary: storetest.Summary(id, storetest.Base),
			Docs: []store.Doc{storetest.Doc(fmt.Sprintf("%016x", i), fmt.Sprintf(`{"id":"%016x"}`, i))}})
	}
	if err := s.Apply(ctx, us); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	for role, db := range map[lsmRole]*pebble.DB{mainLSM: s.main, documentsLSM: s.docs, indexLSM: s.index} {
		levels, err := db.SSTables(pebble.WithProperties())
		if err != nil {
			t.Fatal(err)
		}
		tables := 0
		for _, level := range levels {
			for _, info := range level {
				tables++
				filtered := info.Properties.FilterPolicyName != ""
				if filtered != (role == mainLSM) {
					t.Errorf("%s LSM: table %s has filter policy %q", lsmNames[role], info.FileNum, info.Properties.FilterPolicyName)
				}
			}
		}
		if tables == 0 {
			t.Errorf("%s LSM: no tables after a flush", lsmNames[role])
		}
	}
}

// Compactions are labelled in CPU profiles by the key tables they span
// (keyCategories): each table's keys fall in their own category of their
// own LSM.
func TestKeyCategoriesNameTables(t *testing.T) {
	stat, err := statKey(store.StatKey{Resolution: 60, Bucket: storetest.Base, Group: "Default", Entity: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	id := storetest.TraceID(storetest.Base, 1)
	for _, c := range []struct {
		role lsmRole
		key  []byte
		want string
	}{
		{mainLSM, (&Store{}).summaryKey(storetest.Base, id), "main:s"},
		{mainLSM, (&Store{textSumKeys: true}).summaryKey(storetest.Base, id), "main:s"},
		{mainLSM, (&Store{}).droppedKey(storetest.Base, id), "main:<s"},
		{mainLSM, stat, "main:u"},
		{mainLSM, metaKey("insights", "g"), "main:>u"},
		{mainLSM, aliasKey(id), "main:>u"},
		{documentsLSM, (&Store{}).docKey(storetest.Base, id, "0123456789abcdef"), "documents:t"},
		{documentsLSM, (&Store{layout11: true}).docKey(storetest.Base, id, "0123456789abcdef"), "documents:t"},
		{documentsLSM, pendingKey(id), "documents:<t"},
		{indexLSM, postingKey(storetest.Base, store.Term{Field: "service", Value: "a"}), "index:i"},
	} {
		cats := keyCategories[c.role]
		if got := cats.CategorizeKey(c.key); got != c.want {
			t.Errorf("%s LSM: key %q in category %q, want %q", lsmNames[c.role], c.key, got, c.want)
		}
	}
}
