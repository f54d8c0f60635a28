package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
)

// referenceTraceSegmentDocuments is how PutTraceSegments decoded its body
// before the fast path: encoding/json through decode.
func referenceTraceSegmentDocuments(body []byte) ([][]byte, error) {
	return decodeTraceSegmentDocuments(body)
}

// sameAsReference fails t unless traceSegmentDocuments answers body exactly
// as the encoding/json reference does: the same documents, or an
// InvalidRequestException with the same message.
func sameAsReference(t *testing.T, body []byte) {
	t.Helper()
	want, wantErr := referenceTraceSegmentDocuments(body)
	got, gotErr := traceSegmentDocuments(body, dirtyScratch(body))
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("%q: error %v, reference error %v", body, gotErr, wantErr)
	}
	if wantErr != nil {
		var e *Error
		if !errors.As(gotErr, &e) || e.Type != "InvalidRequestException" || gotErr.Error() != wantErr.Error() {
			t.Fatalf("%q: error %v, reference error %v", body, gotErr, wantErr)
		}
		return
	}
	if len(got) != len(want) || (got == nil) != (want == nil) {
		t.Fatalf("%q: %d documents, reference %d", body, len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("%q: document %d = %q, reference %q", body, i, got[i], want[i])
		}
	}
	// The fast path's own answer, when it gives one, is the reference's.
	if fast, ok := fastTraceSegmentDocuments(body, new([]byte)); ok {
		for i := range want {
			if !bytes.Equal(fast[i], want[i]) {
				t.Fatalf("%q: fast document %d = %q, reference %q", body, i, fast[i], want[i])
			}
		}
	}
}

// dirtyScratch is a used buffer, as the pool hands out: big enough for
// body and full of another request's bytes.
func dirtyScratch(body []byte) *[]byte {
	b := bytes.Repeat([]byte(`x\"`), len(body)/3+4)
	return &b
}

var traceSegmentDocumentsCases = []string{
	// Decoded by the fast path.
	`{"TraceSegmentDocuments":[]}`,
	` { "TraceSegmentDocuments" : [ ] } `,
	"\t{\r\n\"TraceSegmentDocuments\":\n[\"a\" , \"b\"]}\n",
	`{"TraceSegmentDocuments":["{\"name\":\"svc\",\"id\":\"70de5b6f19ff9a0a\"}"]}`,
	`{"TraceSegmentDocuments":["\\ \/ \b \f \n \r \t \u0000 \u00e9 \u20AC \ud83d\ude00 é €"]}`,
	`{"TraceSegmentDocuments":["",""]}`,
	// Left to encoding/json: valid, but another shape.
	`{"tracesegmentdocuments":["a"]}`,
	`{"TraceSegmentDocuments":["a"],"Other":1}`,
	`{"Other":{"x":[1,2]},"TraceSegmentDocuments":["a"]}`,
	`{"TraceSegmentDocuments":["a"],"TraceSegmentDocuments":["b"]}`,
	`{"TraceSegmentDocuments":null}`,
	`{"Trace\u0053egmentDocuments":["a"]}`,
	"\v{\"TraceSegmentDocuments\":[\"a\"]}\u00a0",
	`null`,
	``,
	`   `,
	`{}`,
	// Strings encoding/json repairs with U+FFFD.
	"{\"TraceSegmentDocuments\":[\"\xff\"]}",
	"{\"TraceSegmentDocuments\":[\"\xe2\x82\"]}",
	`{"TraceSegmentDocuments":["\ud83d"]}`,
	`{"TraceSegmentDocuments":["\ud83dx"]}`,
	`{"TraceSegmentDocuments":["\ud83d\u0041"]}`,
	`{"TraceSegmentDocuments":["\ude00\ud83d"]}`,
	// Bad bodies.
	`[1]`,
	`"x"`,
	`7`,
	`{"TraceSegmentDocuments":[1]}`,
	`{"TraceSegmentDocuments":"doc"}`,
	`{"TraceSegmentDocuments":{}}`,
	`{"TraceSegmentDocuments":["a",]}`,
	`{"TraceSegmentDocuments":["a" "b"]}`,
	`{"TraceSegmentDocuments":[`,
	`{"TraceSegmentDocuments":["a`,
	`{"TraceSegmentDocuments":["a\`,
	`{"TraceSegmentDocuments":["\x"]}`,
	`{"TraceSegmentDocuments":["\u12"]}`,
	`{"TraceSegmentDocuments":["\u12G4"]}`,
	"{\"TraceSegmentDocuments\":[\"a\nb\"]}",
	`{"TraceSegmentDocuments":["a"]`,
	`{"TraceSegmentDocuments":["a"]}}`,
	`{"TraceSegmentDocuments":["a"]} x`,
	`{"TraceSegmentDocuments":["a"]}{}`,
	`{"TraceSegmentDocuments" ["a"]}`,
	`{"TraceSegmentDocuments":["a"],}`,
	`{TraceSegmentDocuments:["a"]}`,
}

func TestTraceSegmentDocumentsAsEncodingJSON(t *testing.T) {
	for _, body := range traceSegmentDocumentsCases {
		sameAsReference(t, []byte(body))
	}
	// A generated batch, as the daemon sends it.
	body := generatedBody(t, 50)
	if _, ok := fastTraceSegmentDocuments(body, new([]byte)); !ok {
		t.Fatal("a generated batch did not take the fast path")
	}
	sameAsReference(t, body)
}

func TestTraceSegmentDocumentsFastPathTaken(t *testing.T) {
	for _, body := range traceSegmentDocumentsCases[:6] {
		if _, ok := fastTraceSegmentDocuments([]byte(body), new([]byte)); !ok {
			t.Errorf("%q: not decoded by the fast path", body)
		}
	}
	// Every string json.Marshal writes for valid UTF-8 is in the subset.
	for _, s := range []string{"<&>", "\u2028\u2029", "\x00\x01\x1f\x7f", strings.Repeat("é😀\"\\", 100)} {
		b, _ := json.Marshal(map[string][]string{"TraceSegmentDocuments": {s}})
		docs, ok := fastTraceSegmentDocuments(b, new([]byte))
		if !ok || len(docs) != 1 || string(docs[0]) != s {
			t.Errorf("%q: %q, %v", s, docs, ok)
		}
	}
}

func generatedBody(tb testing.TB, n int) []byte {
	tb.Helper()
	g := bench.NewGenerator(1)
	docs := g.Batches(time.Now(), n, n)[0]
	strs := make([]string, len(docs))
	for i, d := range docs {
		strs[i] = string(d)
	}
	b, err := json.Marshal(map[string][]string{"TraceSegmentDocuments": strs})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// FuzzTraceSegmentDocuments checks that the PutTraceSegments decoder gives
// exactly what encoding/json gave, documents or error message, for any
// body, and never panics.
func FuzzTraceSegmentDocuments(f *testing.F) {
	for _, body := range traceSegmentDocumentsCases {
		f.Add([]byte(body))
	}
	f.Add(generatedBody(f, 1))
	f.Fuzz(func(t *testing.T, body []byte) {
		sameAsReference(t, body)
	})
}

// BenchmarkPutTraceSegmentsDecode decodes a PutTraceSegments body of 50
// generated documents (~60 kB) into the documents ingest receives.
func BenchmarkPutTraceSegmentsDecode(b *testing.B) {
	body := generatedBody(b, 50)
	scratch := new([]byte) // reused, as the server's pool does
	for _, c := range []struct {
		name   string
		decode func([]byte) ([][]byte, error)
	}{
		{"encoding-json", referenceTraceSegmentDocuments},
		{"fast", func(body []byte) ([][]byte, error) { return traceSegmentDocuments(body, scratch) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			cpu := bench.StartCPU()
			for b.Loop() {
				docs, err := c.decode(body)
				if err != nil || len(docs) != 50 {
					b.Fatal(len(docs), err)
				}
			}
			cpu.Report(b)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/50, "ns/doc")
		})
	}
}
