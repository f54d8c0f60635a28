package trace_test

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/fixtures"
	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// derived is everything a tree's walks decide: each segment's and orphan's
// walk (visits and parents), the inferences and the summary's bytes.
type derived struct {
	walks   []*segment.Segment
	infs    []trace.Inference
	summary []byte
}

func deriveAll(tb testing.TB, tr *trace.Tree) derived {
	tb.Helper()
	var d derived
	for _, x := range append(append([]*segment.Segment(nil), tr.Segments...), tr.Orphans...) {
		tr.Walk(x, func(sub, parent *segment.Segment) { d.walks = append(d.walks, sub, parent) })
	}
	d.infs = tr.Inferences()
	var err error
	if d.summary, err = trace.EncodeSummary(trace.Summarize(tr, nil, 1)); err != nil {
		tb.Fatal(err)
	}
	return d
}

// sameWithoutDistinct fails unless t's tree, walked as a tree of distinct
// ids (no set of ids seen), gives what the walks that keep that set give,
// and SummarizeTrace gives the same summary.
func sameWithoutDistinct(tb testing.TB, t *trace.Trace) bool {
	tb.Helper()
	tr := trace.Assemble(t)
	distinct := trace.Distinct(tr)
	got := deriveAll(tb, tr)
	trace.AsIfShared(tr)
	want := deriveAll(tb, tr)
	if !reflect.DeepEqual(got.walks, want.walks) || !reflect.DeepEqual(got.infs, want.infs) || !bytes.Equal(got.summary, want.summary) {
		tb.Fatalf("trace %s (distinct %v): walks as a tree differ from walks keeping the ids seen", t.ID, distinct)
	}
	// SummarizeTrace's own tree leaves Children empty when it is plain.
	if kept, err := trace.EncodeSummary(trace.SummarizeTrace(t, nil, 1)); err != nil || !bytes.Equal(kept, want.summary) {
		tb.Fatalf("trace %s (distinct %v): SummarizeTrace differs (%v)", t.ID, distinct, err)
	}
	return distinct
}

func traceOf(tb testing.TB, docs ...string) *trace.Trace {
	tb.Helper()
	t := &trace.Trace{}
	for _, d := range docs {
		segs, err := segment.Parse([]byte(d), segment.Options{SkipTraceEpoch: true, Stored: true})
		if err != nil {
			continue
		}
		if t.ID == "" {
			t.ID = segs[0].TraceID
		}
		t.Put(segs...)
	}
	return t
}

const graftTID = `"trace_id":"1-5759e988-bd862e3fe1be46a994272793"`

// graftDocs are trees with grafted subsegments, calls, cycles through
// parent ids and shared ids: the cases a walk's set of ids guards against.
var graftDocs = [][]string{
	{ // an independent subsegment grafted below an embedded one, a callee
		`{` + graftTID + `,"id":"aaaaaaaaaaaaaaa1","name":"api","start_time":1,"end_time":2,"subsegments":[{"id":"aaaaaaaaaaaaaaa2","name":"DynamoDB","namespace":"aws","start_time":1.1,"end_time":1.2},{"id":"aaaaaaaaaaaaaaa3","name":"b","namespace":"remote","start_time":1.2,"end_time":1.5}]}`,
		`{` + graftTID + `,"id":"eeeeeeeeeeeeeee1","type":"subsegment","parent_id":"aaaaaaaaaaaaaaa2","name":"x","namespace":"remote","start_time":1.1,"end_time":1.15}`,
		`{` + graftTID + `,"id":"bbbbbbbbbbbbbbb1","parent_id":"aaaaaaaaaaaaaaa3","name":"b","start_time":1.21,"end_time":1.49,"subsegments":[{"id":"bbbbbbbbbbbbbbb2","name":"q","namespace":"remote","start_time":1.3,"end_time":1.4}]}`,
	},
	{ // an independent subsegment whose parent is its own child
		`{` + graftTID + `,"id":"aaaaaaaaaaaaaaa1","name":"api","start_time":1,"end_time":2}`,
		`{` + graftTID + `,"id":"eeeeeeeeeeeeeee1","type":"subsegment","parent_id":"eeeeeeeeeeeeeee2","name":"x","start_time":1.1,"end_time":1.2,"subsegments":[{"id":"eeeeeeeeeeeeeee2","name":"y","namespace":"remote","start_time":1.1,"end_time":1.15}]}`,
	},
	{ // two segments calling each other, and one calling itself
		`{` + graftTID + `,"id":"aaaaaaaaaaaaaaa1","parent_id":"bbbbbbbbbbbbbbb2","name":"a","start_time":1,"end_time":2,"subsegments":[{"id":"aaaaaaaaaaaaaaa2","name":"b","namespace":"remote","start_time":1.1,"end_time":1.9}]}`,
		`{` + graftTID + `,"id":"bbbbbbbbbbbbbbb1","parent_id":"aaaaaaaaaaaaaaa2","name":"b","start_time":1.1,"end_time":1.8,"subsegments":[{"id":"bbbbbbbbbbbbbbb2","name":"a","namespace":"remote","start_time":1.2,"end_time":1.7}]}`,
		`{` + graftTID + `,"id":"ccccccccccccccc1","parent_id":"ccccccccccccccc2","name":"c","start_time":1,"end_time":2,"subsegments":[{"id":"ccccccccccccccc2","name":"c","namespace":"remote","start_time":1.1,"end_time":1.9}]}`,
		`{` + graftTID + `,"id":"ddddddddddddddd1","name":"d","start_time":0.5,"end_time":2}`,
	},
	{ // shared ids: within a document and across documents
		`{` + graftTID + `,"id":"aaaaaaaaaaaaaaa1","name":"api","start_time":1,"end_time":2,"subsegments":[{"id":"f00000000000000f","name":"DynamoDB","namespace":"aws","start_time":1.1,"end_time":1.2,"subsegments":[{"id":"f00000000000000f","name":"r","namespace":"remote","start_time":1.1,"end_time":1.2}]}]}`,
		`{` + graftTID + `,"id":"bbbbbbbbbbbbbbb1","name":"b","start_time":1,"end_time":2,"subsegments":[{"id":"aaaaaaaaaaaaaaa1","name":"c","namespace":"remote","start_time":1.1,"end_time":1.2}]}`,
		`{` + graftTID + `,"id":"eeeeeeeeeeeeeee1","type":"subsegment","parent_id":"f00000000000000f","name":"s","sql":{"url":"db"},"start_time":1.1,"end_time":1.2}`,
	},
}

// TestDistinctWalks: over the fixtures, generated traces of both shapes
// and trees that graft, cycle and share ids, the walks that skip the set
// of ids seen (distinct ids) give what the walks that keep it give.
func TestDistinctWalks(t *testing.T) {
	traces := fixtureTraces(t)
	for _, size := range []int{1, 0} {
		g := bench.NewGenerator(uint64(31 + size))
		g.TraceSize = size
		for range 500 {
			tr, err := g.ParsedTrace(time.Unix(1_765_000_000, 0))
			if err != nil {
				t.Fatal(err)
			}
			traces = append(traces, tr)
		}
	}
	for _, docs := range graftDocs {
		tr := traceOf(t, docs...)
		if len(tr.Docs) != len(docs) {
			t.Fatalf("%d of %d documents parsed", len(tr.Docs), len(docs))
		}
		traces = append(traces, tr)
	}
	n := 0
	for _, tr := range traces {
		if sameWithoutDistinct(t, tr) {
			n++
		}
	}
	if n < len(traces)/2 || n == len(traces) {
		t.Fatalf("%d of %d traces have distinct ids: the test covers too little", n, len(traces))
	}
}

// FuzzDistinctWalks: whatever three documents a trace holds, walking it as
// a tree when its ids are distinct is walking it with a set of ids seen.
func FuzzDistinctWalks(f *testing.F) {
	for _, docs := range graftDocs {
		for len(docs) < 3 {
			docs = append(docs, "")
		}
		f.Add(docs[0], docs[1], docs[2])
	}
	for i, d := range fixtures.Datagrams() {
		if i%4 == 0 {
			f.Add(string(d.Body()), "", "")
		}
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		tr := traceOf(t, a, b, c)
		if tr.ID == "" {
			return
		}
		sameWithoutDistinct(t, tr)
	})
}
