package trace_test

import (
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// derivedCorpus is the fixtures' traces (whole and each segment alone:
// http, sql, aws, annotations, metadata, faults, in-progress segments of
// the official SDKs) and generated ones: single-segment, mixed, and
// single-segment ones still in progress.
func derivedCorpus(tb testing.TB) []*trace.Trace {
	traces := fixtureTraces(tb)
	now := time.Now()
	endTime := regexp.MustCompile(`"end_time":[0-9.e+]+`)
	for _, size := range []int{1, 0} {
		g := bench.NewGenerator(uint64(21 + size))
		for i := range 300 {
			id, docs := g.Trace(now, size)
			tr := &trace.Trace{ID: id}
			for j, d := range docs {
				if i%5 == 0 && j == 0 {
					d = endTime.ReplaceAll(d, []byte(`"in_progress":true`))
				}
				segs, err := segment.Parse(d, segment.Options{Now: now})
				if err != nil {
					tb.Fatal(err)
				}
				tr.Put(segs...)
			}
			traces = append(traces, tr)
		}
	}
	return traces
}

// A summary written in the derived form, or the compact one, decodes to exactly what the
// packed form of the build before it (fieldcodec's, still the reference)
// decodes to, stored under its trace id or not, new or with a previous
// summary; and the summaries of generated single-segment traces, which it
// is for, derive what they can and take less than two thirds of the bytes.
func TestDerivedFormDecodesAsPacked(t *testing.T) {
	var derived, inferred, packedBytes, derivedBytes, singles int
	for _, tr := range derivedCorpus(t) {
		prev := trace.Summarize(trace.Assemble(tr), nil, 1.6e9)
		for _, s := range []*trace.Summary{trace.Summarize(trace.Assemble(tr), nil, 1.7e9), trace.Summarize(trace.Assemble(tr), prev, 1.7e9)} {
			for _, under := range []string{"", s.TraceID} {
				got, err := trace.AppendSummaryUnder(nil, s, under)
				if err != nil {
					t.Fatal(err)
				}
				want, err := trace.AppendPackedByReflection(nil, s, under != "")
				if err != nil {
					t.Fatal(err)
				}
				gotS, err := trace.DecodeSummaryUnder(got, under)
				if err != nil {
					t.Fatalf("%s: derived form does not decode: %v", tr.ID, err)
				}
				wantS, err := trace.DecodeSummaryUnder(want, under)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(gotS, wantS) {
					t.Fatalf("%s under %q: derived form decodes to\n%#v\npacked to\n%#v", tr.ID, under, gotS, wantS)
				}
				compact, err := trace.AppendCompactSummary(nil, s, under)
				if err != nil {
					t.Fatal(err)
				}
				if compactS, err := trace.DecodeSummaryUnder(compact, under); err != nil || !reflect.DeepEqual(compactS, wantS) {
					t.Fatalf("%s under %q: compact form decodes to\n%#v (%v)\npacked to\n%#v", tr.ID, under, compactS, err, wantS)
				}
				if got[0] == 0x03 {
					derived++
					if got[1]&0x80 != 0 { // flags over 7 bits: inferred facts derived
						inferred++
					}
				}
				if under != "" && len(tr.Docs) == 1 && len(tr.Docs[0].Raw) > 600 { // generated
					singles++
					packedBytes += len(want)
					derivedBytes += len(got)
					// All but the response-time root cause, which lies below
					// the entry segment when a call took most of its time.
					if complete := !tr.Docs[0].InProgress; complete && (got[0] != 0x03 || got[1]&0x3f != 0x3f) {
						t.Errorf("%s: a generated single-segment trace's summary derives %x, not every field", tr.ID, got[:2])
					}
				}
			}
		}
	}
	if derived == 0 || inferred == 0 || singles == 0 {
		t.Fatalf("%d summaries derived fields, %d their inferred segments; %d generated single-segment ones", derived, inferred, singles)
	}
	t.Logf("%d derived; generated single-segment traces: %d bytes per summary packed, %d derived", derived, packedBytes/singles, derivedBytes/singles)
	if derivedBytes*3 > packedBytes*2 {
		t.Errorf("derived summaries of single-segment traces take %d bytes against %d packed", derivedBytes/singles, packedBytes/singles)
	}
}
