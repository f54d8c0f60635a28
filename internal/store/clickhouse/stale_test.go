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
