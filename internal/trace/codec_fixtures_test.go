package trace_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
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
	for _, form := range []string{"packed", "keyed"} { // with fields no longer numbered
		b, err := os.ReadFile(filepath.Join("testdata", "summary-with-ids", form+".bin"))
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

// withIDsDocs are the documents of testdata/summary-with-ids, whose files
// are their summary as the build before summaries dropped segment ids
// stored it, packed and keyed: a root calling a service and DynamoDB (an
// inferred segment). Their bytes, indents included, are those stored.
var withIDsDocs = []string{
	`{"trace_id":"1-5759e988-bd862e3fe1be46a994272793","id":"a000000000000001","name":"api","origin":"AWS::EC2::Instance","start_time":100,"end_time":100.5,"http":{"request":{"method":"GET","url":"http://api/x"},"response":{"status":200}},
		  "subsegments":[{"id":"a000000000000002","name":"DynamoDB","namespace":"aws","start_time":100.1,"end_time":100.2,"aws":{"operation":"GetItem","table_name":"users"},"http":{"response":{"status":200}}},
		  {"id":"a000000000000003","name":"backend","namespace":"remote","start_time":100.2,"end_time":100.4,"http":{"request":{"method":"POST","url":"http://backend/y"},"response":{"status":500}},"fault":true}]}`,
	`{"trace_id":"1-5759e988-bd862e3fe1be46a994272793","id":"b000000000000001","parent_id":"a000000000000003","name":"backend","origin":"AWS::EC2::Instance","start_time":100.21,"end_time":100.39,"fault":true,"http":{"response":{"status":500}}}`,
}

func summarizeWithIDs(t *testing.T) *trace.Summary {
	t.Helper()
	tr := &trace.Trace{ID: "1-5759e988-bd862e3fe1be46a994272793"}
	for _, d := range withIDsDocs {
		segs, err := segment.Parse([]byte(d), segment.Options{SkipTraceEpoch: true, Stored: true})
		if err != nil {
			t.Fatal(err)
		}
		tr.Put(segs...)
	}
	return trace.Summarize(trace.Assemble(tr), nil, 1.7e9)
}

// Summaries hold no segment or subsegment id: the encoded summary contains
// none of the documents' ids, in hex or in the packed form's binary.
func TestSummaryHoldsNoSegmentIDs(t *testing.T) {
	s := summarizeWithIDs(t)
	if len(s.Segments) != 3 || len(s.Edges) != 2 {
		t.Fatalf("want 3 segment facts (one inferred) and 2 edges: %+v %+v", s.Segments, s.Edges)
	}
	b, err := trace.EncodeSummary(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a000000000000001", "a000000000000002", "a000000000000003", "b000000000000001"} {
		raw, _ := hex.DecodeString(id)
		if bytes.Contains(b, []byte(id)) || bytes.Contains(b, raw) {
			t.Errorf("the stored summary holds id %s", id)
		}
	}
	out, err := trace.DecodeSummary(b)
	if err != nil || !reflect.DeepEqual(s, out) {
		t.Fatalf("round trip: %v\n in  %+v\n out %+v", err, s, out)
	}
}

// A summary stored by an earlier build, with segment ids, parents and
// subsegment ids, reads back as this build summarises its trace: the
// reader skips the fields no longer numbered or named.
func TestSummaryWithIDsOfAnEarlierBuild(t *testing.T) {
	want := summarizeWithIDs(t)
	for _, form := range []string{"packed", "keyed"} {
		b, err := os.ReadFile(filepath.Join("testdata", "summary-with-ids", form+".bin"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := trace.DecodeSummary(b)
		if err != nil {
			t.Fatalf("%s: %v", form, err)
		}
		if !reflect.DeepEqual(want, got) {
			wj, _ := json.Marshal(want)
			gj, _ := json.Marshal(got)
			t.Errorf("%s:\n got  %s\n want %s", form, gj, wj)
		}
	}
}

// The direct encoder writes fieldcodec's bytes for the fixtures' summaries.
func TestPackedSummaryMatchesFieldcodecOnFixtures(t *testing.T) {
	for _, s := range fixtureSummaries(t) {
		trace.AssertPackedEqual(t, s.TraceID, s)
	}
}

// Whatever summary stored bytes decode to, the direct encoder and
// fieldcodec write it alike.
func FuzzPackedSummaryMatchesFieldcodec(f *testing.F) {
	for _, s := range fixtureSummaries(f) {
		b, err := trace.EncodeSummary(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"id":"1-5759e988-bd862e3fe1be46a994272793","ann":[{"k":"a","v":1.5},{"k":"b","v":null}],"frc":[{"Services":[]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := trace.DecodeSummary(b)
		if err != nil {
			return
		}
		trace.AssertPackedEqual(t, s.TraceID, s)
	})
}

// Compact summaries come from disk under a key that holds their trace id:
// whatever the bytes and the id, decoding fails with an error or yields a
// summary whose compact form decodes to the same.
func FuzzDecodeCompactSummary(f *testing.F) {
	for _, s := range fixtureSummaries(f) {
		for _, under := range []string{"", s.TraceID} {
			b, err := trace.AppendCompactSummary(nil, s, under)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b, under)
		}
	}
	f.Add([]byte{0x04, 0x80, 0x02, 0x00, 0x02, 0x01, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f}, "1-6b49d23c-fefd6b1bc2459aff03c5da52")
	f.Fuzz(func(t *testing.T, b []byte, under string) {
		s, err := trace.DecodeSummaryUnder(b, under)
		if err != nil {
			return
		}
		again, err := trace.AppendCompactSummary(nil, s, under)
		if err != nil {
			return // a JSON annotation value of a kind the binary form lacks
		}
		s2, err := trace.DecodeSummaryUnder(again, under)
		if err != nil {
			t.Fatalf("a decoded summary re-encodes to bytes that do not decode: %v", err)
		}
		third, err := trace.AppendCompactSummary(nil, s2, under)
		if err != nil || string(third) != string(again) {
			t.Fatalf("a decoded summary's compact form reads as another: %x, then %x (%v)", again, third, err)
		}
	})
}
