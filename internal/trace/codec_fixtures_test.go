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
