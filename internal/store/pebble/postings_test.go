package pebble

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

func TestPostingsRoundTrip(t *testing.T) {
	ids := []string{
		"1-5f84c7a5-0123456789abcdef01234567", // compact
		"1-5F84C7A5-0123456789ABCDEF01234567", // upper case: kept as it is
		"1-5f84c7a5-0123456789abcdef0123456",  // short
		"1-5f84c7a5x0123456789abcdef01234567",
		"4bf92f3577b34da6a3ce929d0e0e4736", // W3C
		"", "1-zzzzzzzz-0123456789abcdef01234567",
	}
	var v []byte
	bounds := map[int]bool{}
	for _, id := range ids {
		v = appendPosting(v, id)
		bounds[len(v)] = true
	}
	if got := len(appendPosting(nil, ids[0])); got != 17 {
		t.Errorf("canonical id takes %d bytes, want 17", got)
	}
	got, err := decodePostings(nil, v)
	if err != nil || !slices.Equal(got, ids) {
		t.Fatalf("got %q, %v; want %q", got, err, ids)
	}
	for n := 1; n < len(v); n++ {
		if _, err := decodePostings(nil, v[:n]); (err == nil) != bounds[n] {
			t.Fatalf("list cut at %d of %d: err %v", n, len(v), err)
		}
	}
	if _, err := decodePostings(nil, []byte{7}); err == nil {
		t.Fatal("unknown tag decoded")
	}
}

// A store of layout 1 (a key per term and trace, every table in the main
// LSM) is still searched after its upgrade, and is marked current so that
// older builds refuse it once lists are written into it.
func TestLayout1IndexStillReads(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ep := storetest.Base + 605 // past the hour's first minute: its key changes
	old := storetest.TraceID(ep, 1)
	sum := storetest.Summary(old, ep)
	storetest.Put(t, s, sum)
	// Rewrite its index as layout 1 did.
	term := store.Term{Field: store.FieldService, Value: sum.Nodes[0].Name}
	v1Key := append(append(termPrefix(store.PartitionOf(ep), term), epochBytes(ep)...), old...)
	downgrade(t, s, "1", func(main *pebble.DB) error {
		if err := main.DeleteRange([]byte{'i'}, []byte{'i' + 1}, pebble.Sync); err != nil {
			return err
		}
		return main.Set(v1Key, nil, pebble.Sync)
	})
	s = reopen(t, dir, "1")
	newer := storetest.TraceID(ep, 2)
	storetest.Put(t, s, storetest.Summary(newer, ep))
	q := store.SummaryQuery{From: storetest.Base, To: storetest.Base + 3600, AnyOf: []store.Term{term}}
	if got := storetest.Collect(t, s, q); !slices.Equal(got, []string{newer, old}) {
		t.Fatalf("got %v, want [%s %s]", got, newer, old)
	}
}

func TestUnknownLayoutRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.main.Set([]byte{'v'}, []byte("9"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.RemoveAll(filepath.Join(dir, indexDir)); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(dir, Options{}); err == nil {
		s.Close()
		t.Fatal("a store of layout 9 opened")
	}
	if _, err := os.Stat(filepath.Join(dir, indexDir)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("opening a store of layout 9 created its index LSM: %v", err)
	}
}

func TestPostingKeyMatchesWriter(t *testing.T) {
	var w postingWriter
	term := store.Term{Field: store.FieldService, Value: "api"}
	w.add(storetest.Base+7, term, "x")
	w.add(storetest.Base+7, term, "y")
	if len(w.keys) != 1 || w.keys[0] != string(postingKey(storetest.Base+7, term)) {
		t.Fatalf("writer keys %q", w.keys)
	}
	if ids, err := decodePostings(nil, w.lists[0]); err != nil || !slices.Equal(ids, []string{"x", "y"}) {
		t.Fatalf("list %q, %v", ids, err)
	}
}
