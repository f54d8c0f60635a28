package pebble_test

import (
	"context"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// TestConcurrentWritesSameRecords writes the same calls (PutDocs and
// Apply of disjoint traces, then summaries again, moves and drops) to one
// store one call at a time and to another from four goroutines at once:
// the calls share the stores' staging (scratch.go), so a buffer handed to
// two calls, or reused while Pebble still reads it, would store another
// call's bytes. The stores must hold the same records, and so must a
// store given each round as one call.
func TestConcurrentWritesSameRecords(t *testing.T) {
	for _, size := range []int{1, 0} {
		rounds := generatedCalls(t, size)
		seq := openDumped(t)
		for _, round := range rounds {
			for _, c := range round {
				c.write(t, seq)
			}
		}
		conc := openDumped(t)
		for _, round := range rounds {
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Go(func() {
					for i := g; i < len(round); i += 4 {
						round[i].write(t, conc)
					}
				})
			}
			wg.Wait()
		}
		// And each round as one call: its Apply's summaries fill several
		// of the arena's chunks.
		whole := openDumped(t)
		for _, round := range rounds {
			var all writeCall
			for _, c := range round {
				all.puts = append(all.puts, c.puts...)
				all.ups = append(all.ups, c.ups...)
			}
			all.write(t, whole)
		}
		want, err := seq.DumpRecords()
		if err != nil {
			t.Fatal(err)
		}
		if len(want) < 1000 {
			t.Fatalf("size %d: only %d records", size, len(want))
		}
		for name, st := range map[string]*pebble.Store{"concurrently": conc, "in one call a round": whole} {
			got, err := st.DumpRecords()
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, want) {
				n := 0
				for k, v := range want {
					if got[k] != v && n < 5 {
						t.Errorf("size %d: record %s differs", size, k)
						n++
					}
				}
				t.Fatalf("size %d: %d records written %s, %d one call at a time, not the same", size, len(got), name, len(want))
			}
		}
	}
}

func openDumped(t *testing.T) *pebble.Store {
	st, err := pebble.Open(t.TempDir(), pebble.Options{CombineStats: graph.CombineStats})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// writeCall is one PutDocs (if any) and one Apply.
type writeCall struct {
	puts []store.DocPut
	ups  []store.TraceUpdate
}

func (c writeCall) write(t *testing.T, st *pebble.Store) {
	ctx := context.Background()
	if len(c.puts) > 0 {
		if err := st.PutDocs(ctx, c.puts); err != nil {
			t.Error(err)
		}
	}
	if err := st.Apply(ctx, c.ups); err != nil {
		t.Error(err)
	}
}

// generatedCalls are two rounds of calls over 1,200 generated traces of
// size segments (0: ~4), as applyGenerated writes them, their statistics
// prepared in order once.
func generatedCalls(t *testing.T, size int) [][]writeCall {
	const n = 1200
	end := time.Unix(1_780_000_000, 0)
	g := bench.NewGenerator(11)
	agg := graph.NewAggregator(graph.AggregatorConfig{})
	type parsed struct {
		id   string
		tr   trace.Trace
		docs []store.Doc
	}
	var all []parsed
	for i := range n {
		id, raws := g.Trace(end.Add(time.Duration(i-n)*500*time.Millisecond), size)
		p := parsed{id: id, tr: trace.Trace{ID: id}}
		for _, r := range raws {
			segs, err := segment.Parse(r, segment.Options{Now: end})
			if err != nil {
				t.Fatal(err)
			}
			p.tr.Put(segs...)
			p.docs = append(p.docs, store.Doc{ID: segs[0].ID, Raw: r})
		}
		all = append(all, p)
	}
	var first, second []writeCall
	var sums []*trace.Summary
	for b := 0; b < n; b += 50 {
		var c writeCall
		for _, p := range all[b : b+50] {
			s := trace.SummarizeTrace(&p.tr, nil, float64(end.Unix()))
			sums = append(sums, s)
			c.puts = append(c.puts, store.DocPut{TraceID: p.id, Epoch: s.Epoch, Docs: p.docs})
			c.ups = append(c.ups, store.TraceUpdate{TraceID: p.id, Epoch: s.Epoch, Summary: s})
		}
		agg.Prepare(c.ups)
		first = append(first, c)
	}
	var c writeCall
	for i, p := range all {
		prev := sums[i]
		switch {
		case i%7 == 0:
			s := trace.SummarizeTrace(&p.tr, nil, float64(end.Unix()))
			c.ups = append(c.ups, store.TraceUpdate{TraceID: p.id, Epoch: s.Epoch, Summary: s, Previous: prev})
		case i%5 == 0:
			// Filed a minute earlier: its documents move (copyDocs).
			s := *prev
			s.Epoch -= 60
			c.ups = append(c.ups, store.TraceUpdate{TraceID: p.id, Epoch: s.Epoch, Summary: &s, Previous: prev})
		case i%13 == 0:
			c.ups = append(c.ups, store.TraceUpdate{TraceID: p.id, Epoch: prev.Epoch, Summary: prev, Previous: prev, Drop: true})
		default:
			continue
		}
		if len(c.ups) == 20 {
			agg.Prepare(c.ups)
			second, c = append(second, c), writeCall{}
		}
	}
	return [][]writeCall{first, second}
}
