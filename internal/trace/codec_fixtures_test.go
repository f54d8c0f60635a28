package trace_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/fixtures"
	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// fixtureSummaries are the summaries of the traces the official SDKs sent
// in the recorded fixtures.
func fixtureSummaries(tb testing.TB) []*trace.Summary {
	tb.Helper()
	traces := map[string]*trace.Trace{}
	var order []string
	for _, d := range fixtures.Datagrams() {
		segs, err := segment.Parse(d.Body(), segment.Options{SkipTraceEpoch: true})
		if err != nil {
			continue // fixtures of malformed input
		}
		for _, s := range segs {
			tr := traces[s.TraceID]
			if tr == nil {
				tr = &trace.Trace{ID: s.TraceID}
				traces[s.TraceID] = tr
				order = append(order, s.TraceID)
			}
			tr.Put(s)
		}
	}
	var out []*trace.Summary
	for _, id := range order {
		out = append(out, trace.Summarize(trace.Assemble(traces[id]), nil, 1.7e9))
	}
	if len(out) == 0 {
		tb.Fatal("the fixtures hold no trace")
	}
	return out
}

func TestSummaryCodecRoundTripsFixtures(t *testing.T) {
	for _, in := range fixtureSummaries(t) {
		b, err := trace.EncodeSummary(in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := trace.DecodeSummary(b)
		if err != nil {
			t.Fatalf("trace %s: %v", in.TraceID, err)
		}
		if !reflect.DeepEqual(in, out) {
			ij, _ := json.Marshal(in)
			oj, _ := json.Marshal(out)
			t.Fatalf("round trip changed the summary:\n in  %s\n out %s", ij, oj)
		}
	}
}

// Stored summaries come from disk and from ClickHouse rows: whatever their
// bytes, decoding fails with an error or yields a summary that encodes.
func FuzzDecodeSummary(f *testing.F) {
	for _, s := range fixtureSummaries(f) {
		b, err := trace.EncodeSummary(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"id":"1-5759e988-bd862e3fe1be46a994272793"}`))
	f.Add([]byte{0x01, 0x12, 'i', 'd', 0x02, 'a', 'b'})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := trace.DecodeSummary(b)
		if err != nil {
			return
		}
		again, err := trace.EncodeSummary(s)
		if err != nil {
			return // a JSON annotation value of a kind the binary form lacks
		}
		if _, err := trace.DecodeSummary(again); err != nil {
			t.Fatalf("a decoded summary re-encodes to bytes that do not decode: %v", err)
		}
	})
}

// An inferred segment's id, which its parent's id derives, is not stored:
// the summary reads back whole, smaller, and encoding leaves it unchanged.
func TestSummaryLeavesOutDerivedIDs(t *testing.T) {
	s := summarize(t,
		`{"trace_id":"`+tid+`","id":"a000000000000001","name":"api","origin":"AWS::EC2::Instance","start_time":100,"end_time":100.5,
		  "subsegments":[{"id":"a000000000000002","name":"DynamoDB","namespace":"aws","start_time":100.1,"end_time":100.2,
		    "aws":{"operation":"GetItem","table_name":"users"},"http":{"response":{"status":200}}}]}`)
	var inferred *trace.SegmentFact
	for i := range s.Segments {
		if s.Segments[i].Inferred {
			inferred = &s.Segments[i]
		}
	}
	if inferred == nil || inferred.ID == "" || inferred.Parent != "a000000000000002" {
		t.Fatalf("no inferred segment fact with an id and its parent: %+v", s.Segments)
	}
	before, _ := json.Marshal(s)
	b, err := trace.EncodeSummary(s)
	if err != nil {
		t.Fatal(err)
	}
	if after, _ := json.Marshal(s); string(after) != string(before) {
		t.Fatalf("encoding changed the summary:\n%s\n%s", before, after)
	}
	out, err := trace.DecodeSummary(b)
	if err != nil || !reflect.DeepEqual(s, out) {
		t.Fatalf("round trip: %v\n in  %+v\n out %+v", err, s, out)
	}
	// An id the parent does not derive is stored as it is.
	own := *s
	own.Segments = append([]trace.SegmentFact(nil), s.Segments...)
	for i := range own.Segments {
		if own.Segments[i].Inferred {
			own.Segments[i].ID = "5555555555555555"
		}
	}
	ob, _ := trace.EncodeSummary(&own)
	if len(ob) <= len(b) {
		t.Fatalf("an underived id took %d bytes, the derived one %d: the derived one was stored", len(ob), len(b))
	}
	if out, err := trace.DecodeSummary(ob); err != nil || !reflect.DeepEqual(&own, out) {
		t.Fatalf("underived id: %v\n in  %+v\n out %+v", err, &own, out)
	}
}
