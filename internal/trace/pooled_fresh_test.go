package trace

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/fixtures"
	"github.com/roentgen-tracing/roentgen/internal/segment"
)

// freshSummary summarises with a builder that never served another trace.
func freshSummary(t *Trace, prev *Summary) *Summary {
	b := new(builder)
	return b.summarize(Assemble(t), prev, 1.7e9)
}

// A pooled builder, however many traces it served and in whatever order,
// summarises exactly as a new one: TestSummarizeTraceIsSummarize compares two
// pooled paths, which a scratch-reuse bug would break alike (review).
func TestPooledBuilderSummarisesAsAFreshOne(tt *testing.T) {
	var traces []*Trace
	byID := map[string]*Trace{}
	for _, d := range fixtures.Datagrams() {
		segs, err := segment.Parse(d.Body(), segment.Options{SkipTraceEpoch: true})
		if err != nil {
			continue
		}
		for _, s := range segs {
			tr := byID[s.TraceID]
			if tr == nil {
				tr = &Trace{ID: s.TraceID}
				byID[s.TraceID] = tr
				traces = append(traces, tr)
			}
			tr.Put(s)
		}
	}
	// fixture documents mixed into random traces
	var all []*segment.Segment
	for _, tr := range traces {
		all = append(all, tr.Docs...)
	}
	r0 := rand.New(rand.NewPCG(9, 9))
	for range 300 {
		tr := &Trace{ID: "1-5759e988-bd862e3fe1be46a994272793"}
		for range 1 + r0.IntN(6) {
			tr.Put(all[r0.IntN(len(all))])
		}
		traces = append(traces, tr)
	}
	for i := 1; i < 4; i++ {
		traces = append(traces, bigTrace(tt, i))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 4 {
		rng.Shuffle(len(traces), func(i, j int) { traces[i], traces[j] = traces[j], traces[i] })
		for _, tr := range traces {
			want, _ := EncodeSummary(freshSummary(tr, nil))
			var got []byte
			if round%2 == 0 {
				got, _ = EncodeSummary(SummarizeTrace(tr, nil, 1.7e9))
			} else {
				got, _ = EncodeSummary(Summarize(Assemble(tr), nil, 1.7e9))
			}
			if !bytes.Equal(got, want) {
				tt.Fatalf("round %d trace %s: pooled differs from fresh", round, tr.ID)
			}
		}
	}
}
