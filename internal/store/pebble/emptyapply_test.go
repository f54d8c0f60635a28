package pebble

import (
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// An Apply of no updates clears no pending mark: the marks' clear takes a
// nil id list as "every trace", and a fresh store's staging has none.
func TestEmptyApplyKeepsPendingTraces(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	id := storetest.TraceID(storetest.Base+5, 1)
	put := []store.DocPut{{TraceID: id, Epoch: storetest.Base + 5, Docs: []store.Doc{storetest.Doc("a", `{}`)}}}
	if err := s.PutDocs(t.Context(), put); err != nil {
		t.Fatal(err)
	}
	for _, updates := range [][]store.TraceUpdate{nil, {}} {
		if err := s.Apply(t.Context(), updates); err != nil {
			t.Fatal(err)
		}
		var pending []string
		if err := s.Pending(t.Context(), func(id string) bool { pending = append(pending, id); return true }); err != nil {
			t.Fatal(err)
		}
		if len(pending) != 1 || pending[0] != id {
			t.Fatalf("pending after Apply(%#v): %v, want [%s]", updates, pending, id)
		}
	}
}
