package trace_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/fixtures"
	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// reference is the summary the general path gives: a tree of its own,
// assembled afresh.
func reference(tb testing.TB, t *trace.Trace, prev *trace.Summary) ([]byte, string) {
	tb.Helper()
	return encoded(tb, trace.Summarize(trace.Assemble(t), prev, 1.7e9))
}

func encoded(tb testing.TB, s *trace.Summary) ([]byte, string) {
	tb.Helper()
	b, err := trace.EncodeSummary(s)
	if err != nil {
		tb.Fatal(err)
	}
	j, err := json.Marshal(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b, string(j)
}

// sameAsReference fails unless SummarizeTrace gives t the summary the
// general path gives it, in stored bytes and in every field.
func sameAsReference(tb testing.TB, t *trace.Trace, prev *trace.Summary) {
	tb.Helper()
	wantB, wantJ := reference(tb, t, prev)
	gotB, gotJ := encoded(tb, trace.SummarizeTrace(t, prev, 1.7e9))
	if !bytes.Equal(gotB, wantB) || gotJ != wantJ {
		tb.Fatalf("trace %s: SummarizeTrace differs from Summarize(Assemble):\n got %s\nwant %s", t.ID, gotJ, wantJ)
	}
}

// fixtureTraces are the traces the official SDKs sent in the recorded
// fixtures, plus every fixture document as a trace of its own.
func fixtureTraces(tb testing.TB) []*trace.Trace {
	tb.Helper()
	byID := map[string]*trace.Trace{}
	var out []*trace.Trace
	for _, d := range fixtures.Datagrams() {
		segs, err := segment.Parse(d.Body(), segment.Options{SkipTraceEpoch: true})
		if err != nil {
			continue
		}
		for _, s := range segs {
			tr := byID[s.TraceID]
			if tr == nil {
				tr = &trace.Trace{ID: s.TraceID}
				byID[s.TraceID] = tr
				out = append(out, tr)
			}
			tr.Put(s)
			alone := &trace.Trace{ID: s.TraceID}
			alone.Put(s)
			out = append(out, alone)
		}
	}
	if len(out) == 0 {
		tb.Fatal("the fixtures hold no trace")
	}
	return out
}

// SummarizeTrace assembles into a tree it keeps for the next trace: over
// the fixtures, generated single-segment, mixed and big traces, in order
// and then shuffled (so that each trace follows others of every shape), and
// with a previous summary, it must give exactly what a fresh tree gives.
func TestSummarizeTraceIsSummarize(t *testing.T) {
	traces := fixtureTraces(t)
	now := time.Now()
	for _, size := range []int{1, 0} {
		g := bench.NewGenerator(uint64(11 + size))
		g.TraceSize = size
		for i := range 150 {
			tr, err := g.ParsedTrace(now)
			if err != nil {
				t.Fatal(err)
			}
			traces = append(traces, tr)
			if i%25 == 0 {
				traces = append(traces, bigTrace(t, i, now))
			}
		}
	}
	for _, tr := range traces {
		sameAsReference(t, tr, nil)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 3 {
		rng.Shuffle(len(traces), func(i, j int) { traces[i], traces[j] = traces[j], traces[i] })
		for _, tr := range traces {
			prev := trace.Summarize(trace.Assemble(tr), nil, 1.6e9)
			sameAsReference(t, tr, prev)
			sameAsReference(t, tr, nil)
		}
	}
}

// FuzzSummarizeTrace: whatever documents a trace holds, the kept tree's
// summary is the fresh tree's, also right after a big trace grew it.
func FuzzSummarizeTrace(f *testing.F) {
	for _, d := range fixtures.Datagrams() {
		f.Add(d.Body(), []byte(nil))
	}
	for _, d := range withIDsDocs {
		f.Add([]byte(d), []byte(nil))
	}
	f.Add([]byte(withIDsDocs[0]), []byte(withIDsDocs[1]))
	// Small trees (assembleSmall) whose ids share their first eight bytes,
	// are short, repeat, or name the trace's own subsegment as parent.
	f.Add([]byte(`{"trace_id":"1-5759e988-bd862e3fe1be46a994272793","id":"a000000000000001","name":"a","start_time":1,"end_time":2,"subsegments":[{"id":"a000000000000002","name":"b","namespace":"remote","start_time":1,"end_time":2,"http":{"request":{"url":"http://b/"}}}]}`),
		[]byte(`{"trace_id":"1-5759e988-bd862e3fe1be46a994272793","id":"a0000000","parent_id":"a000000000000002","name":"b","start_time":1.1,"end_time":1.9,"subsegments":[{"id":"a0000000","name":"c","start_time":1.2,"end_time":1.3}]}`))
	f.Add([]byte(`{"trace_id":"1-5759e988-bd862e3fe1be46a994272793","id":"x1","parent_id":"x2","name":"a","start_time":1,"end_time":2,"subsegments":[{"id":"x2","name":"b","namespace":"aws","start_time":1,"end_time":2}]}`), []byte(nil))
	big := bigTrace(f, 3, time.Now())
	f.Fuzz(func(t *testing.T, a, b []byte) {
		tr := &trace.Trace{}
		for _, doc := range [][]byte{a, b} {
			segs, err := segment.Parse(doc, segment.Options{SkipTraceEpoch: true, Stored: true})
			if err != nil {
				continue
			}
			if tr.ID == "" {
				tr.ID = segs[0].TraceID
			}
			tr.Put(segs...)
		}
		if tr.ID == "" {
			return
		}
		trace.SummarizeTrace(big, nil, 1)
		wantB, wantErr := trace.EncodeSummary(trace.Summarize(trace.Assemble(tr), nil, 1))
		gotB, gotErr := trace.EncodeSummary(trace.SummarizeTrace(tr, nil, 1))
		if (gotErr != nil) != (wantErr != nil) || !bytes.Equal(gotB, wantB) {
			t.Fatalf("SummarizeTrace differs from Summarize(Assemble): %x (%v) against %x (%v)", gotB, gotErr, wantB, wantErr)
		}
	})
}
