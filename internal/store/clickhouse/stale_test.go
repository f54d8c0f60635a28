package clickhouse_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// TestPendingBeforeReadsSinceItsLastAnswer: after its first whole scan,
// PendingBefore reads only the marks written since its last answer and
// that answer's traces again, and answers as the whole scan does, round
// after round of documents left pending, summarised, and marked again.
// The overlap is a nanosecond, so nothing older than the last answer is
// read twice: a trace left pending rounds ago is found through the last
// answer alone.
func TestPendingBeforeReadsSinceItsLastAnswer(t *testing.T) {
	t.Parallel()
	db := clickhousetest.NewDatabase(t)
	w, r := open(t, db), open(t, db) // a writer and another process adopting
	defer w.Close()
	defer r.Close()
	clickhouse.SetStaleOverlap(r, time.Nanosecond)
	ctx := context.Background()
	ep := time.Now().Unix()
	rng := rand.New(rand.NewPCG(17, 24))
	const traces, rounds = 40, 8
	doc := storetest.Doc("aaaaaaaaaaaaaaaa", "a")
	var seen []string
	for round := range rounds {
		var puts []store.DocPut
		for i := range traces {
			id := storetest.TraceID(ep, i+1)
			switch rng.IntN(4) {
			case 0: // a document acknowledged and left pending
				puts = append(puts, store.DocPut{TraceID: id, Epoch: ep, Docs: []store.Doc{storetest.Doc(fmt.Sprintf("%016x", round*traces+i), "a")}})
			case 1: // summarised: its marks cleared
				storetest.Put(t, w, storetest.Summary(id, ep), doc)
			}
		}
		if err := w.PutDocs(ctx, puts); err != nil {
			t.Fatal(err)
		}
		before := time.Now()
		var got []string
		if err := r.PendingBefore(ctx, before, func(id string) bool { got = append(got, id); return true }); err != nil {
			t.Fatal(err)
		}
		want, err := r.PendingBeforeScan(ctx, before)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: PendingBefore = %v, the whole scan %v", round, got, want)
		}
		seen = append(seen, want...)
	}
	if fulls, windows := clickhouse.StaleScans(r); fulls != 1 || windows != rounds-1 {
		t.Errorf("%d whole scans and %d windows, want 1 and %d", fulls, windows, rounds-1)
	}
	// Every window but the first (no sample old enough yet) read only
	// the parts made since the call before last (newparts.go).
	if n := clickhouse.NewPartWindows(r); n != rounds-2 {
		t.Errorf("%d windows read only new parts, want %d", n, rounds-2)
	}
	if len(seen) == 0 {
		t.Error("no round left a trace pending: the test tests nothing")
	}
	// An earlier bound than the last answer's is read whole again.
	if err := r.PendingBefore(ctx, time.Now().Add(-time.Hour), func(string) bool { return true }); err != nil {
		t.Fatal(err)
	}
	if fulls, _ := clickhouse.StaleScans(r); fulls != 2 {
		t.Errorf("a bound before the last answer's read by a window, want the whole scan")
	}
}

// TestWindowReadsOnlyNewParts: a window reads only the parts made since a
// sample of the tables' block numbers taken an overlap before its bound
// (newparts.go). A mark in an older part is not read, even at a version
// inside the window: here a writer whose clock ran ten minutes ahead, far
// beyond the overlap, wrote it before the sample. The next whole scan
// (every staleFullEvery) finds it.
func TestWindowReadsOnlyNewParts(t *testing.T) {
	t.Parallel()
	db := clickhousetest.NewDatabase(t)
	w, r := open(t, db), open(t, db)
	defer w.Close()
	defer r.Close()
	if len(r.Shards()) > 0 {
		t.Skip("a sharded store's windows read every part")
	}
	clickhouse.SetStaleOverlap(r, time.Nanosecond)
	ctx := context.Background()
	ep := time.Now().Unix()
	ahead, fresh := storetest.TraceID(ep, 1), storetest.TraceID(ep, 2)
	put := func(id string, n int) []store.DocPut {
		return []store.DocPut{{TraceID: id, Epoch: ep, Docs: []store.Doc{storetest.Doc(fmt.Sprintf("%016x", n), "a")}}}
	}
	later := time.Now().Add(10 * time.Minute)
	if err := w.PutDocsAt(ctx, put(ahead, 1), uint64(later.UnixNano())); err != nil {
		t.Fatal(err)
	}
	pending := func(before time.Time) []string {
		t.Helper()
		var got []string
		if err := r.PendingBefore(ctx, before, func(id string) bool { got = append(got, id); return true }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	// A whole scan (the mark's version is after its bound), a window
	// with no sample old enough (every part), then one from the first
	// call's sample: of the parts made since, only the fresh trace's.
	if got := pending(time.Now()); len(got) != 0 {
		t.Fatalf("first answer %v, want none", got)
	}
	if got := pending(time.Now()); len(got) != 0 {
		t.Fatalf("second answer %v, want none", got)
	}
	if err := w.PutDocs(ctx, put(fresh, 2)); err != nil {
		t.Fatal(err)
	}
	bound := later.Add(time.Minute)
	if got := pending(bound); !slices.Equal(got, []string{fresh}) {
		t.Fatalf("window %v, want only %s (its part is new)", got, fresh)
	}
	if fulls, windows := clickhouse.StaleScans(r); fulls != 1 || windows != 2 || clickhouse.NewPartWindows(r) != 1 {
		t.Fatalf("%d whole scans, %d windows, %d of new parts; want 1, 2, 1", fulls, windows, clickhouse.NewPartWindows(r))
	}
	want := []string{ahead, fresh}
	slices.Sort(want)
	if got, err := r.PendingBeforeScan(ctx, bound); err != nil || !slices.Equal(got, want) {
		t.Fatalf("whole scan %v, %v; want %v", got, err, want)
	}
}
