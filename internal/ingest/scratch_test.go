package ingest_test

import (
	"bytes"
	"context"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
)

// TestConcurrentCallsStoreSameTraces ingests the same generated calls into
// one store a call at a time and into another from four writers at once,
// summarised by the background flush as they arrive, and requires the same
// traces: every document, and the same summary where a trace's documents
// came in one call (a trace spread over calls may be summarised from them
// in another order). Calls share the arrays they stage in (scratch.go):
// one handed to two calls at once, or reused while a call still reads it,
// mixes documents of one call into another's traces.
func TestConcurrentCallsStoreSameTraces(t *testing.T) {
	for _, c := range []struct {
		name string
		size int
	}{{"single", 1}, {"mixed", 0}} {
		t.Run(c.name, func(t *testing.T) {
			g := bench.NewGenerator(11)
			g.TraceSize = c.size
			calls := g.Batches(now, 120, 50)
			seq, conc := ingestCalls(t, calls, 1), ingestCalls(t, calls, 4)
			ids, oneCall := tracesOf(t, calls)
			for _, id := range ids {
				a, b := seq(id), conc(id)
				if !sameDocs(a.Docs, b.Docs) {
					t.Fatalf("trace %s: %d documents one call at a time, %d from four writers, or different bytes", id, len(a.Docs), len(b.Docs))
				}
				if oneCall[id] && !reflect.DeepEqual(a.Summary, b.Summary) {
					t.Fatalf("trace %s: summaries differ:\n%+v\n%+v", id, a.Summary, b.Summary)
				}
			}
		})
	}
}

// ingestCalls ingests calls from writers goroutines into a new store and
// returns a reader of its traces once everything is summarised.
func ingestCalls(t *testing.T, calls [][][]byte, writers int) func(id string) *store.StoredTrace {
	t.Helper()
	st, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	in := ingest.New(ingest.Config{Store: st, Now: func() time.Time { return now }, FlushDelay: time.Millisecond})
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := w; i < len(calls); i += writers {
				if r := in.Ingest(ctx, calls[i], ingest.Options{Source: "api"}); len(r) > 0 {
					t.Errorf("call %d: rejected %+v", i, r[0].Error)
				}
			}
		})
	}
	wg.Wait()
	in.Close()
	return func(id string) *store.StoredTrace {
		tr, err := st.Trace(ctx, id)
		if err != nil {
			t.Fatalf("Trace(%s): %v", id, err)
		}
		return tr
	}
}

// tracesOf is the trace ids of calls, sorted, and which of them have all
// their documents in one call.
func tracesOf(t *testing.T, calls [][][]byte) ([]string, map[string]bool) {
	t.Helper()
	callOf := map[string]int{}
	oneCall := map[string]bool{}
	for i, docs := range calls {
		for _, d := range docs {
			segs, err := segment.Parse(d, segment.Options{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			id := segs[0].TraceID
			if c, ok := callOf[id]; !ok {
				callOf[id], oneCall[id] = i, true
			} else if c != i {
				oneCall[id] = false
			}
		}
	}
	ids := make([]string, 0, len(callOf))
	for id := range callOf {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, oneCall
}

func sameDocs(a, b []store.Doc) bool {
	byID := func(x, y store.Doc) int { return bytes.Compare([]byte(x.ID), []byte(y.ID)) }
	a, b = slices.Clone(a), slices.Clone(b)
	slices.SortFunc(a, byID)
	slices.SortFunc(b, byID)
	return slices.EqualFunc(a, b, func(x, y store.Doc) bool { return x.ID == y.ID && bytes.Equal(x.Raw, y.Raw) })
}
