package pebble

import (
	"context"
	"fmt"
	"math/rand/v2"
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

// A store of layout 12 writes an Apply's short entries of one list in
// runs; searches over it, newest first and page by page, find what they
// find in a store written as layout 11 (no runs) from the same Applies.
func TestRunsSearchAsEntries(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 1))
	runs, entries := openTemp(t), openTemp(t)
	entries.layout11 = true // writes as a layout 11 store does
	services := []string{"a", "b", "c"}
	for batch := range 40 {
		var ups []store.TraceUpdate
		for i := range 60 {
			ep := storetest.Base + int64(batch*3+rng.IntN(4))
			id := prefixedID(ep, rng.Uint32()|1<<24, batch*100+i)
			if rng.IntN(10) == 0 {
				id = fmt.Sprintf("w3c-%d-%d", batch, i) // an entry of another kind in the runs
			}
			sum := serviceSummary(id, ep, services[rng.IntN(len(services))])
			ups = append(ups, store.TraceUpdate{TraceID: id, Epoch: ep, Summary: sum})
		}
		for _, s := range []*Store{runs, entries} {
			if err := s.Apply(t.Context(), ups); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := listsWithRuns(t, runs); n == 0 {
		t.Fatal("no list holds a run")
	}
	if n := listsWithRuns(t, entries); n != 0 {
		t.Fatalf("%d lists of the layout 11 store hold runs", n)
	}
	for _, q := range []store.SummaryQuery{serviceQuery("a"), serviceQuery("b", "c"), serviceQuery("a", "b", "c")} {
		want := storetest.Collect(t, entries, q)
		if got := storetest.Collect(t, runs, q); !slices.Equal(got, want) || len(want) < 100 {
			t.Fatalf("%v: %d traces, want %d", q.AnyOf, len(got), len(want))
		}
		// Page by page: each page resumes after the last trace of the one
		// before.
		var paged []string
		for q.After = (store.Cursor{}); ; {
			var page []*trace.Summary
			if err := runs.Summaries(t.Context(), q, func(x *trace.Summary) bool { page = append(page, x); return len(page) < 37 }); err != nil {
				t.Fatal(err)
			}
			for _, x := range page {
				paged = append(paged, x.TraceID)
			}
			if len(page) < 37 {
				break
			}
			last := page[len(page)-1]
			q.After = store.Cursor{Epoch: last.Epoch, TraceID: last.TraceID}
		}
		if !slices.Equal(paged, want) {
			t.Errorf("%v by pages: %d traces, want %d", q.AnyOf, len(paged), len(want))
		}
	}
}

// listsWithRuns counts a store's posting lists that hold a run.
func listsWithRuns(t *testing.T, s *Store) int {
	t.Helper()
	it, err := s.index.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := 0
	for it.First(); it.Valid(); it.Next() {
		for v := it.Value(); len(v) > 0; {
			if v[0] == entryRun {
				n++
				break
			}
			v = v[entryLen(v):]
		}
	}
	return n
}
