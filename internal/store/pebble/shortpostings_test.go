package pebble

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// prefixedID is an X-Ray trace id of epoch whose random part begins with
// the 4 bytes prefix (of which lists keep 3) and ends with n.
func prefixedID(epoch int64, prefix uint32, n int) string {
	return fmt.Sprintf("1-%08x-%08x%016x", epoch, prefix, n)
}

func serviceSummary(id string, epoch int64, service string) *trace.Summary {
	sum := storetest.Summary(id, epoch)
	sum.Nodes[0].Name = service
	return sum
}

func serviceQuery(services ...string) store.SummaryQuery {
	q := store.SummaryQuery{From: storetest.Base, To: storetest.Base + 3600}
	for _, s := range services {
		q.AnyOf = append(q.AnyOf, store.Term{Field: store.FieldService, Value: s})
	}
	return q
}

// Lists keep 3 bytes of an id's random part, which two traces of one
// second may share: a search reads both summaries and hands on only the
// one that carries the term, pages resume between them, and a trace whose
// summary is gone (dropped by keep policies) is not stood in for by the
// others (two share its prefix here, so each is checked; a lone one is
// taken as the trace named: fetcher.named).
func TestSharedPrefixFindsOnlyCarriers(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ep := storetest.Base + 5
	a, b, c := prefixedID(ep, 0xabcdef01, 1), prefixedID(ep, 0xabcdef01, 2), prefixedID(ep, 0xabcdef01, 3)
	other := prefixedID(ep, 0x12345678, 4)
	storetest.Put(t, s, serviceSummary(a, ep, "a"))
	storetest.Put(t, s, serviceSummary(b, ep, "b"))
	storetest.Put(t, s, serviceSummary(other, ep, "a"))
	if got := storetest.Collect(t, s, serviceQuery("a")); !slices.Equal(got, []string{a, other}) {
		t.Errorf("service a: %v, want [%s %s]", got, a, other)
	}
	if got := storetest.Collect(t, s, serviceQuery("b")); !slices.Equal(got, []string{b}) {
		t.Errorf("service b: %v, want [%s]", got, b)
	}
	both := serviceQuery("a", "b")
	if got := storetest.Collect(t, s, both); !slices.Equal(got, []string{b, a, other}) {
		t.Errorf("service a or b: %v, want [%s %s %s]", got, b, a, other)
	}
	both.After = store.Cursor{Epoch: ep, TraceID: b}
	if got := storetest.Collect(t, s, both); !slices.Equal(got, []string{a, other}) {
		t.Errorf("service a or b after %s: %v, want [%s %s]", b, got, a, other)
	}
	// A page resuming after b: a, the only summary of the prefix left
	// before the cursor, is still checked (it does not carry b).
	onlyB := serviceQuery("b")
	onlyB.After = store.Cursor{Epoch: ep, TraceID: b}
	if got := storetest.Collect(t, s, onlyB); len(got) != 0 {
		t.Errorf("service b after %s: %v, want none", b, got)
	}
	// c carries a, then is dropped: its entry under a stays, and b, which
	// shares its prefix, must not be found through it.
	storetest.Put(t, s, serviceSummary(c, ep, "c"))
	drop := store.TraceUpdate{TraceID: c, Epoch: ep, Summary: serviceSummary(c, ep, "c"), Previous: serviceSummary(c, ep, "c"), Drop: true}
	if err := s.Apply(ctx, []store.TraceUpdate{drop}); err != nil {
		t.Fatal(err)
	}
	if got := storetest.Collect(t, s, serviceQuery("c")); len(got) != 0 {
		t.Errorf("service c after its trace was dropped: %v, want none", got)
	}
	// An AND checks the other side's lists by the same positions.
	q := serviceQuery("a")
	q.AllOf = []store.TermSet{{Terms: []store.Term{{Field: store.FieldService, Value: "b"}}}}
	if got := storetest.Collect(t, s, q); len(got) != 0 {
		t.Errorf("service a and b: %v, want none", got)
	}
}

// A trace's id of another epoch than its summary's (a W3C id's random
// first part, or a trace moved) is filed whole and found as before.
func TestForeignEpochIDFiledWhole(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ep := storetest.Base + 9
	foreign := prefixedID(ep+1000, 0xabcdef01, 1)
	own := prefixedID(ep, 0xabcdef01, 2)
	storetest.Put(t, s, serviceSummary(foreign, ep, "a"))
	storetest.Put(t, s, serviceSummary(own, ep, "a"))
	if got := storetest.Collect(t, s, serviceQuery("a")); !slices.Equal(got, []string{foreign, own}) {
		t.Errorf("got %v, want [%s %s]", got, foreign, own)
	}
}

// A layout 7 store's lists name traces whole; after the upgrade its
// lists of the current minute get short entries appended. Both forms of
// one trace (summarised again after the upgrade) are one trace found
// once, and traces of either form are all found.
func TestLayout7ListsTakeShortEntries(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ep := storetest.Base + 20
	before := []string{prefixedID(ep, 0x10000000, 1), prefixedID(ep, 0x20000000, 2)}
	for _, id := range before {
		storetest.Put(t, s, serviceSummary(id, ep, "a"))
	}
	downgrade(t, s, "7")
	s = reopen(t, dir, "7")
	after := prefixedID(ep, 0x30000000, 3)
	storetest.Put(t, s, serviceSummary(after, ep, "a"))
	again := serviceSummary(before[0], ep, "a")
	again.Revision = 1
	storetest.Put(t, s, again) // no Previous: every term is added again, now short
	want := []string{after, before[1], before[0]}
	if got := storetest.Collect(t, s, serviceQuery("a")); !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// An id that begins as a short entry's prefix but is not in the canonical
// lower-case form is listed whole, and found once, by its own entry.
func TestNonCanonicalIDFoundOnce(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ep := storetest.Base + 7
	a := prefixedID(ep, 0xabcdef01, 1)
	odd := fmt.Sprintf("1-%08x-abcdef01ABCDEF0000000002", ep)
	storetest.Put(t, s, serviceSummary(a, ep, "a"))
	storetest.Put(t, s, serviceSummary(odd, ep, "a"))
	if got := storetest.Collect(t, s, serviceQuery("a")); len(got) != 2 || !slices.Contains(got, a) || !slices.Contains(got, odd) {
		t.Errorf("service a: %v, want %s and %s once each", got, a, odd)
	}
}
