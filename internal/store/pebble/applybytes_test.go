package pebble_test

import (
	"context"
	"flag"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

var printDigests = flag.Bool("print-digests", false, "print TestApplyWritesSameRecords' digests")

// layout10Digests are the digests of the stores TestApplyWritesSameRecords
// writes, as main at 809e395 wrote them (before the posting writer's key
// arena and the pooled merge operators), to which this build's stores
// read as a layout 10 build (DumpDigestAsLayout10): before compaction
// (merged by readers from the memtables' operands) and after (merged by
// compactions).
var layout10Digests = map[string][2]string{
	"single": {"6bdf7acc81bb337528787480734f9c1ae69259814ff678ebf51af36c701be965", "6bdf7acc81bb337528787480734f9c1ae69259814ff678ebf51af36c701be965"},
	"mixed":  {"e0bb4d29dc7a1f55665cf5c8785441eedf3260f26668723fa6f6ae3d7fbd3146", "e0bb4d29dc7a1f55665cf5c8785441eedf3260f26668723fa6f6ae3d7fbd3146"},
}

// appliedDigests are the digests of the same stores with their summaries
// in the compact form (layout 11), their documents' keys packed (layout
// 12) and their summaries' keys packed (layout 13).
var appliedDigests = map[string][2]string{
	"single": {"da9b037d2beedbfbd128f815fd0dda667f6337543f36f9cb9c4b8ddccfe064d3", "da9b037d2beedbfbd128f815fd0dda667f6337543f36f9cb9c4b8ddccfe064d3"},
	"mixed":  {"6c127a0dfe20e9ec8dca856bcbcc37495fdc858f730437f6d9fb442cc99b9f96", "6c127a0dfe20e9ec8dca856bcbcc37495fdc858f730437f6d9fb442cc99b9f96"},
}

// TestApplyWritesSameRecords stores generated traces of both shapes as
// ingest does (documents first, then summaries with statistics; some
// traces summarised twice, some moved to an earlier epoch, some dropped)
// and holds every record of the store to the digest an earlier build
// wrote: Apply's buffers and merge operators may change, the records may
// not (but for the summaries' form, which leaves what they read as).
func TestApplyWritesSameRecords(t *testing.T) {
	for _, c := range []struct {
		name string
		size int
	}{{"single", 1}, {"mixed", 0}} {
		t.Run(c.name, func(t *testing.T) {
			st, err := pebble.Open(t.TempDir(), pebble.Options{CombineStats: graph.CombineStats})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			applyGenerated(t, st, c.size)
			var got, as10 [2]string
			for i := range 2 {
				if i == 1 {
					if err := st.Compact(context.Background()); err != nil {
						t.Fatal(err)
					}
				}
				var err error
				if got[i], err = st.DumpDigest(); err != nil {
					t.Fatal(err)
				}
				if as10[i], err = st.DumpDigestAsLayout10(); err != nil {
					t.Fatal(err)
				}
			}
			if *printDigests {
				t.Logf("%q: {%q, %q},", c.name, got[0], got[1])
			}
			if want := layout10Digests[c.name]; as10 != want {
				t.Errorf("digests as layout 10 %s before compaction, %s after; want %s, %s", as10[0], as10[1], want[0], want[1])
			}
			if want := appliedDigests[c.name]; got != want {
				t.Errorf("digests %s before compaction, %s after; want %s, %s", got[0], got[1], want[0], want[1])
			}
		})
	}
}

// applyGenerated stores 1,200 generated traces of size segments (0: ~4)
// whose start times spread over 10 minutes, in batches of 50.
func applyGenerated(t *testing.T, st *pebble.Store, size int) {
	const n = 1200
	ctx := context.Background()
	end := time.Unix(1_780_000_000, 0)
	g := bench.NewGenerator(7)
	agg := graph.NewAggregator(graph.AggregatorConfig{})
	type parsed struct {
		id   string
		segs [][]*segment.Segment
		docs []store.Doc
	}
	var all []parsed
	for i := range n {
		at := end.Add(time.Duration(i-n) * 500 * time.Millisecond)
		id, raws := g.Trace(at, size)
		p := parsed{id: id}
		for _, r := range raws {
			segs, err := segment.Parse(r, segment.Options{Now: end})
			if err != nil {
				t.Fatal(err)
			}
			p.segs = append(p.segs, segs)
			p.docs = append(p.docs, store.Doc{ID: segs[0].ID, Raw: r})
		}
		all = append(all, p)
	}
	summarize := func(p parsed, from int) *trace.Summary {
		tr := &trace.Trace{ID: p.id}
		for _, segs := range p.segs[from:] {
			tr.Put(segs...)
		}
		return trace.SummarizeTrace(tr, nil, float64(end.Unix()))
	}
	apply := func(ups []store.TraceUpdate) {
		agg.Prepare(ups)
		if err := st.Apply(ctx, ups); err != nil {
			t.Fatal(err)
		}
	}
	// First round: the documents, then a summary of all but the first
	// document of a trace of several (the rest arrives later) or of all.
	var first []*trace.Summary
	for b := 0; b < n; b += 50 {
		var puts []store.DocPut
		var ups []store.TraceUpdate
		for i := b; i < b+50; i++ {
			p := all[i]
			from := 0
			if len(p.docs) > 1 && i%3 == 0 {
				from = 1
			}
			s := summarize(p, from)
			first = append(first, s)
			puts = append(puts, store.DocPut{TraceID: p.id, Epoch: s.Epoch, Docs: p.docs[from:]})
			ups = append(ups, store.TraceUpdate{TraceID: p.id, Epoch: s.Epoch, Summary: s})
		}
		if err := st.PutDocs(ctx, puts); err != nil {
			t.Fatal(err)
		}
		apply(ups)
	}
	// Second round: the traces that lacked their first document get it
	// (their epoch may move earlier), a few others are summarised again
	// unchanged, and some are dropped.
	var ups []store.TraceUpdate
	for i, p := range all {
		prev := first[i]
		switch {
		case len(p.docs) > 1 && i%3 == 0:
			s := summarize(p, 0)
			ups = append(ups, store.TraceUpdate{TraceID: p.id, Epoch: s.Epoch, Docs: p.docs[:1], Summary: s, Previous: prev})
		case i%11 == 0:
			s := summarize(p, 0)
			ups = append(ups, store.TraceUpdate{TraceID: p.id, Epoch: s.Epoch, Summary: s, Previous: prev})
		case i%13 == 0:
			ups = append(ups, store.TraceUpdate{TraceID: p.id, Epoch: prev.Epoch, Summary: prev, Previous: prev, Drop: true})
		default:
			continue
		}
		if len(ups) == 50 {
			apply(ups)
			ups = nil
		}
	}
	apply(ups)
}
